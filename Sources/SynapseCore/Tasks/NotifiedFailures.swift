import Foundation
import Synchronization

/// Tasks an error notice failed (InfiniSynapse's seed: "treat notification.type=error as task
/// failure"), which their transcript may never show. A failure stands until the task has an
/// entry newer than the last one it had when the notice came (a new prompt, a retry).
final class NotifiedFailures: Sendable {
    /// Task → the newest entry it had when it failed (nil: none).
    private let failures = Mutex<[String: String?]>([:])

    /// Task `taskId` failed; `lastEntryId` is the newest entry it had then.
    func record(_ taskId: String, lastEntryId: String?) {
        failures.withLock { $0[taskId] = .some(lastEntryId) }
    }

    /// Whether the task still stands failed, given its transcript now: until an entry after the
    /// one it had then.
    func hasFailed(_ taskId: String, transcript: Transcript?) -> Bool {
        guard let recorded = failures.withLock({ $0[taskId] }) else { return false }
        guard let last = transcript?.entries.last?.id else { return true }
        return recorded == last
    }

    /// A prompt was sent: whatever failed before no longer decides the status.
    func clear(_ taskId: String) {
        _ = failures.withLock { $0.removeValue(forKey: taskId) }
    }
}
