import Foundation
import Synchronization

/// A named thread that runs `tick` every `interval` seconds (sooner when woken) until
/// `stop()`, which cancels the tick in progress (its requests end with EINTR) and waits for
/// it to end. Whoever starts one stops it.
public final class PeriodicWorker: Sendable {
    private let wake = NSCondition()
    private let stopping = Atomic<Bool>(false)
    private let ended = DispatchSemaphore(value: 0)
    private let cancellation = Cancellation()

    private init() {}

    public static func start(name: String, interval: Double, tick: @escaping @Sendable () -> Void) -> PeriodicWorker {
        let worker = PeriodicWorker()
        let thread = Thread { [worker] in
            while worker.pause(interval) { Cancellation.run(worker.cancellation, tick) }
            worker.ended.signal()
        }
        thread.name = name
        thread.start()
        return worker
    }

    /// Waits `interval` (or until woken); false once the worker is stopping.
    private func pause(_ interval: Double) -> Bool {
        wake.lock()
        defer { wake.unlock() }
        if !stopping.load(ordering: .acquiring) { _ = wake.wait(until: Date().addingTimeInterval(interval)) }
        return !stopping.load(ordering: .acquiring)
    }

    /// Runs the next tick now.
    public func wakeUp() {
        wake.lock()
        wake.signal()
        wake.unlock()
    }

    /// Ends the loop and waits for it (a tick in progress finishes first). Only the first call
    /// waits; later ones return at once.
    public func stop() {
        wake.lock()
        let first = !stopping.exchange(true, ordering: .acquiringAndReleasing)
        cancellation.cancel()
        wake.signal()
        wake.unlock()
        if first { ended.wait() }
    }
}
