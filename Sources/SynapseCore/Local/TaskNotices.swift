import Foundation
import Synchronization

/// Local notices for a task's transcript (a send that failed, a refused prompt), shown in
/// stream.log among the server's messages.
public final class TaskNotices: Sendable {
    public struct Notice: Sendable, Equatable {
        public var at: Date
        public var text: String
    }

    private let notices = Mutex<[String: [Notice]]>([:])

    public init() {}

    public func add(_ text: String, taskId: String) {
        notices.withLock { $0[taskId, default: []].append(Notice(at: Date(), text: text)) }
    }

    public func of(_ taskId: String) -> [Notice] { notices.withLock { $0[taskId] ?? [] } }
}
