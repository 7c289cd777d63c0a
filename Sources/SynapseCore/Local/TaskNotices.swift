import Foundation
import Logging

/// Local notices for a task's transcript (a send that failed, a refused prompt, a reconnect):
/// appended to its stream.log among the server's messages.
public final class TaskNotices: Sendable {
    private let logs: TranscriptLogs
    private let logger: Logger

    init(logs: TranscriptLogs, logger: Logger) {
        self.logs = logs
        self.logger = logger
    }

    public func add(_ text: String, taskId: String) {
        do { try logs.log(for: taskId).notice(text) } catch { logger.warning("notice for \(taskId) not recorded: \(error)") }
    }
}
