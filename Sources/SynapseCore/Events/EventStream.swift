import Foundation
import Logging
import Synchronization

/// The mount's one event-stream connection, opened at start (before any prompt, so no early
/// event is lost) and reopened with capped, jittered backoff whenever it drops. Events mark
/// the task they name as changed, so its files are fetched fresh.
public final class EventStream: Sendable {
    public enum Phase: String, Sendable { case stopped, connecting, open, reconnecting }

    public struct Snapshot: Sendable {
        public var phase: Phase = .stopped
        public var connId: String
        public var reconnects = 0
        public var lastEventAt: Date?
        public var lastError: String?
    }

    static let maxBackoff = 30.0

    private let remote: any TaskRemote
    private let onTaskEvent: @Sendable (String, String) -> Void
    private let logger: Logger
    private let state: Mutex<Snapshot>
    private let stopping = Atomic<Bool>(false)

    init(remote: any TaskRemote, connId: String, logger: Logger, onTaskEvent: @escaping @Sendable (_ type: String, _ taskId: String) -> Void) {
        self.remote = remote
        self.onTaskEvent = onTaskEvent
        self.logger = logger
        state = Mutex(Snapshot(connId: connId))
    }

    public var snapshot: Snapshot { state.withLock { $0 } }

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
        let connId = state.withLock { $0.connId }
        while !stopping.load(ordering: .relaxed) {
            state.withLock { $0.phase = $0.reconnects == 0 ? .connecting : .reconnecting }
            let opened = Date()
            do {
                try remote.streamEvents(connId: connId) { [self] event in
                    handle(event)
                    return !stopping.load(ordering: .relaxed)
                }
                state.withLock { $0.lastError = "the server closed the event stream" }
            } catch {
                state.withLock { $0.lastError = error.description }
                logger.info("event stream dropped: \(error)")
            }
            guard !stopping.load(ordering: .relaxed) else { return }
            if Date().timeIntervalSince(opened) > 10 { backoff = 0.5 }
            state.withLock { $0.reconnects += 1; $0.phase = .reconnecting }
            Thread.sleep(forTimeInterval: backoff * Double.random(in: 0.5...1.0))
            backoff = min(backoff * 2, Self.maxBackoff)
        }
    }

    private func handle(_ event: ServerEvent) {
        state.withLock { s in
            s.phase = .open
            s.lastEventAt = Date()
        }
        guard event.type != "heartbeat",
              let object = try? JSONSerialization.jsonObject(with: Data(event.data.utf8)) as? [String: Any],
              let taskId = object["taskId"] as? String else { return }
        onTaskEvent(event.type, taskId)
    }
}
