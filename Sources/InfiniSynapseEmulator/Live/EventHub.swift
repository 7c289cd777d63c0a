import Foundation
import Synchronization

/// Routes events to SSE connections: a task's events go to the connection id that started or
/// last answered it.
final class EventHub: Sendable {
    private struct State {
        var connections: [String: [UUID: AsyncStream<ServerEvent>.Continuation]] = [:]
        var owners: [String: String] = [:]
    }
    private let state = Mutex(State())
    /// `--event-log`: one line per event sent, `<unix seconds> <type> <taskId> <text bytes>`,
    /// for measuring how long events take to reach a reader.
    private let eventLog: Mutex<FileHandle?>

    init(eventLog: URL? = nil) {
        if let eventLog {
            FileManager.default.createFile(atPath: eventLog.path, contents: nil)
            self.eventLog = Mutex(try? FileHandle(forWritingTo: eventLog))
        } else {
            self.eventLog = Mutex(nil)
        }
    }

    /// The events for `connId` until the connection goes away, and the continuation feeding
    /// them (the connection adds its own heartbeats through it).
    func subscribe(connId: String) -> (AsyncStream<ServerEvent>, AsyncStream<ServerEvent>.Continuation) {
        let (stream, continuation) = AsyncStream<ServerEvent>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        let id = UUID()
        state.withLock { $0.connections[connId, default: [:]][id] = continuation }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { s in
                s.connections[connId]?[id] = nil
                if s.connections[connId]?.isEmpty == true { s.connections[connId] = nil }
            }
        }
        return (stream, continuation)
    }

    /// Makes `connId` the connection that hears about `taskId` from now on.
    func assign(taskId: String, to connId: String?) {
        guard let connId, !connId.isEmpty else { return }
        state.withLock { $0.owners[taskId] = connId }
    }

    func publish(_ event: ServerEvent, taskId: String) {
        let targets = state.withLock { s in s.owners[taskId].flatMap { s.connections[$0] }.map { Array($0.values) } ?? [] }
        eventLog.withLock { handle in
            guard let handle, !targets.isEmpty else { return }
            let text = event.textLength.map(String.init) ?? "-"
            handle.write(Data(String(format: "%.6f %@ %@ %@\n", Date().timeIntervalSince1970, event.name, taskId, text).utf8))
        }
        for continuation in targets { continuation.yield(event) }
    }

    var connectionCount: Int { state.withLock { $0.connections.values.reduce(0) { $0 + $1.count } } }
}
