import Foundation
import Synchronization

/// Tasks an `error` notification failed (the seed: "treat notification.type=error as task
/// failure"), which their transcript may never show. A failure stands until the task has a
/// message newer than the last one it had when the notification came (a new prompt, a retry).
final class NotifiedFailures: Sendable {
    private let failures = Mutex<[String: Int64]>([:])

    /// Task `taskId` failed; `lastTs` is the newest message it had then (0 for none).
    func record(_ taskId: String, lastTs: Int64) {
        failures.withLock { $0[taskId] = lastTs }
    }

    /// Whether the task still stands failed, given its messages now.
    func hasFailed(_ taskId: String, messages: [TaskMessage]?) -> Bool {
        guard let at = failures.withLock({ $0[taskId] }) else { return false }
        return (messages?.map(\.ts).max() ?? 0) <= at
    }

    /// A prompt was sent: whatever failed before no longer decides the status.
    func clear(_ taskId: String) {
        _ = failures.withLock { $0.removeValue(forKey: taskId) }
    }
}
