import Foundation
import Synchronization

/// Numbered pages of the task list fetched a few ahead of the one being read, side by side:
/// as one page arrives the next is asked for, so `parallel` requests are always in flight
/// (a batch that waits for its slowest page would leave the link idle on a distant server).
/// Pages asked for and no longer wanted (the list ended first) finish on their own.
final class PageWindow: Sendable {
    private let fetch: @Sendable (Int) -> Result<TaskPage, RemoteError>
    private let last: Int
    private let parallel: Int
    private let changed = NSCondition()
    // Guarded by `changed`.
    nonisolated(unsafe) private var results: [Int: Result<TaskPage, RemoteError>] = [:]
    nonisolated(unsafe) private var launched: Int

    /// Pages `first`…`last`, at most `parallel` in flight.
    init(first: Int, last: Int, parallel: Int, fetch: @escaping @Sendable (Int) -> Result<TaskPage, RemoteError>) {
        self.fetch = fetch
        self.last = last
        self.parallel = max(1, parallel)
        launched = first - 1
    }

    /// Page `number` (pages are read in order), once it has arrived; the pages after it are
    /// asked for meanwhile, up to the window.
    func page(_ number: Int) -> Result<TaskPage, RemoteError> {
        changed.lock()
        defer { changed.unlock() }
        while launched < min(last, number + parallel - 1) {
            launched += 1
            let page = launched
            // A thread each (a blocking request; GCD would run only as many as there are cores).
            let thread = Thread { [self] in
                let result = fetch(page)
                changed.lock()
                results[page] = result
                changed.broadcast()
                changed.unlock()
            }
            thread.name = "task-list-page"
            thread.start()
        }
        while results[number] == nil { changed.wait() }
        return results.removeValue(forKey: number)!
    }
}
