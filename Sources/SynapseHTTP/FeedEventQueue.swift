import Foundation
import SynapseCore

/// Events a backend's readers produce, waiting for the feed to hand them on (backends whose
/// runs come on streams of their own: Sage, Asyncat). Bounded: a newer streaming update of a
/// message still queued replaces it (the queue holds one per message); past `limit`, updates
/// and "changed" events are dropped, entries still go (they decide a task's state).
public final class FeedEventQueue: Sendable {
    private let limit: Int
    private let lock = NSCondition()
    nonisolated(unsafe) private var events: [FeedEvent] = []  // guarded by `lock`
    /// Where each message's queued update is in `events` (task id, NUL, entry id).
    nonisolated(unsafe) private var queuedPartials: [String: Int] = [:]  // guarded by `lock`

    public init(limit: Int) {
        self.limit = limit
    }

    public func add(_ new: [FeedEvent]) {
        guard !new.isEmpty else { return }
        lock.lock()
        defer { lock.unlock() }
        for event in new {
            if case .partial(let taskId, let entry) = event {
                let key = taskId + "\u{0}" + entry.id
                if let queued = queuedPartials[key] {
                    events[queued] = event
                    continue
                }
                guard events.count < limit else { continue }
                queuedPartials[key] = events.count
            } else if events.count >= limit, case .changed = event {
                continue
            }
            events.append(event)
        }
        lock.signal()
    }

    /// The queued events, waiting up to `seconds` for one.
    public func take(waitingUpTo seconds: Double) -> [FeedEvent] {
        lock.lock()
        defer { lock.unlock() }
        if events.isEmpty { _ = lock.wait(until: Date().addingTimeInterval(seconds)) }
        defer {
            events = []
            queuedPartials = [:]
        }
        return events
    }
}
