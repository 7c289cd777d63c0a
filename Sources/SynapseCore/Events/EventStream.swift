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
    /// Set once by the filesystem: what to do with each event, and after a reconnect.
    private let handlers = Mutex<(event: @Sendable (FeedEvent) -> Void, reconnected: @Sendable (Double) -> Void)?>(nil)
    private let state: Mutex<Snapshot>
    private let stopping = Atomic<Bool>(false)

    init(remote: any AgentBackend, logger: Logger) {
        self.remote = remote
        self.logger = logger
        state = Mutex(Snapshot(connId: remote.feedIdentity))
    }

    public var snapshot: Snapshot { state.withLock { $0 } }

    func setHandlers(event: @escaping @Sendable (FeedEvent) -> Void, reconnected: @escaping @Sendable (Double) -> Void) {
        handlers.withLock { $0 = (event, reconnected) }
    }

    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = "events"
        thread.start()
    }

    public func stop() {
        stopping.store(true, ordering: .relaxed)
        state.withLock { $0.phase = .stopped }
    }

    private func run() {
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
                        handlers.withLock { $0 }?.reconnected(Date().timeIntervalSince(dropped))
                    }
                    handle(event)
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
            Thread.sleep(forTimeInterval: backoff * Double.random(in: 0.5...1.0))
            backoff = min(backoff * 2, Self.maxBackoff)
        }
    }

    private func handle(_ event: FeedEvent) {
        state.withLock { s in
            s.phase = .open
            s.lastEventAt = Date()
        }
        handlers.withLock { $0 }?.event(event)
    }
}
