import Foundation
import Logging
import Synchronization

/// The backend's mount-wide feed of events, opened at start (before any prompt, so no early
/// event is lost) and reopened with capped, jittered backoff whenever it drops.
public final class EventStream: Sendable {
    public enum Phase: String, Sendable { case stopped, connecting, open, reconnecting }

    public struct Snapshot: Sendable {
        public var phase: Phase = .stopped
        /// What names the feed to the server (InfiniSynapse's `connId`).
        public var connId: String?
        public var reconnects = 0
        public var lastEventAt: Date?
        public var lastError: String?
    }

    static let maxBackoff = 30.0

    private let remote: any AgentBackend
    private let logger: Logger
    private let state: Mutex<Snapshot>
    private let stopping = Atomic<Bool>(false)
    /// Ends the feed's request and the backoff wait when the stream is stopped.
    private let cancellation = Cancellation()
    private let pause = NSCondition()
    private let ended = DispatchSemaphore(value: 0)

    init(remote: any AgentBackend, logger: Logger) {
        self.remote = remote
        self.logger = logger
        state = Mutex(Snapshot(connId: remote.feedIdentity))
    }

    public var snapshot: Snapshot { state.withLock { $0 } }

    /// Follows the feed on a thread of its own, handing each event to `onEvent` and saying
    /// how long the feed was gone after each reconnect, until `stop()`.
    func start(onEvent: @escaping @Sendable (FeedEvent) -> Void, reconnected: @escaping @Sendable (Double) -> Void) {
        let thread = Thread { [self] in
            Cancellation.run(cancellation) { run(onEvent: onEvent, reconnected: reconnected) }
            ended.signal()
        }
        thread.name = "events"
        thread.start()
    }

    /// Ends the feed (its request is cancelled) and waits for its thread.
    func stop() {
        pause.lock()
        stopping.store(true, ordering: .relaxed)
        cancellation.cancel()
        pause.signal()
        pause.unlock()
        ended.wait()
        state.withLock { $0.phase = .stopped }
    }

    private func run(onEvent: @escaping @Sendable (FeedEvent) -> Void, reconnected: @escaping @Sendable (Double) -> Void) {
        var backoff = 0.5
        var droppedAt: Date?
        while !stopping.load(ordering: .relaxed) {
            state.withLock { $0.phase = $0.reconnects == 0 ? .connecting : .reconnecting }
            let opened = Date()
            var caughtUp = false
            do {
                try remote.followFeed { [self] event in
                    // The first event after a drop: the stream is back; fill the gap once.
                    if !caughtUp, let dropped = droppedAt {
                        caughtUp = true
                        reconnected(Date().timeIntervalSince(dropped))
                    }
                    state.withLock { s in
                        s.phase = .open
                        s.lastEventAt = Date()
                    }
                    onEvent(event)
                    return !stopping.load(ordering: .relaxed)
                }
                state.withLock { $0.lastError = "the server closed the event stream" }
            } catch {
                state.withLock { $0.lastError = error.description }
                logger.info("event stream dropped: \(error)")
            }
            guard !stopping.load(ordering: .relaxed) else { return }
            if droppedAt == nil || caughtUp { droppedAt = Date() }
            if Date().timeIntervalSince(opened) > 10 { backoff = 0.5 }
            state.withLock { $0.reconnects += 1; $0.phase = .reconnecting }
            pause.lock()
            if !stopping.load(ordering: .relaxed) {
                _ = pause.wait(until: Date().addingTimeInterval(backoff * Double.random(in: 0.5...1.0)))
            }
            pause.unlock()
            backoff = min(backoff * 2, Self.maxBackoff)
        }
    }
}
