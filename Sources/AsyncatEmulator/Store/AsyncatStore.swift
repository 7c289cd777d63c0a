import Foundation
import Synchronization
import SynapseEmulatorKit

/// The emulated server's state: conversations (with a trash) in memory, the working
/// directory's artifacts on disk (`DATA/root/.asyncat/artifacts/`).
final class AsyncatStore: Sendable {
    struct Conversation: Sendable {
        var id: String
        var title: String
        var createdAt: Date
        var updatedAt: Date
        var messages: [Message]
        var deletedAt: Date?
        var isArchived = false
    }

    /// A message as saved: the role comes from `type` only (as the server's code reads it).
    struct Message: Sendable {
        var id: String
        var type: String
        var content: String
        var timestamp: String
        var agentSessionId: String?

        var json: [String: Any] {
            var object: [String: Any] = ["id": id, "type": type, "role": type, "content": content, "timestamp": timestamp]
            object["agentSessionId"] = agentSessionId
            return object
        }
    }

    let root: URL
    var artifacts: URL { root.appendingPathComponent(".asyncat/artifacts", isDirectory: true) }
    private let conversations = Mutex<[String: Conversation]>([:])
    /// Saves answered so far (tests count them).
    let saves = Atomic<Int>(0)

    init(root: URL) {
        self.root = root
    }

    func conversation(_ id: String) -> Conversation? { conversations.withLock { $0[id] } }

    func save(_ conversation: Conversation) { conversations.withLock { $0[conversation.id] = conversation } }

    /// Live conversations, newest first (`last_message_at`, then created).
    func listed(includeArchived: Bool) -> [Conversation] {
        conversations.withLock { Array($0.values) }
            .filter { $0.deletedAt == nil && (includeArchived || !$0.isArchived) }
            .sorted { ($0.updatedAt, $0.createdAt, $0.id) > ($1.updatedAt, $1.createdAt, $1.id) }
    }

    /// Every conversation ever saved, the trash included (the real server's `total` counts them).
    var countIncludingTrash: Int { conversations.withLock { $0.count } }

    func trash(_ id: String) -> Bool {
        conversations.withLock { all in
            guard all[id]?.deletedAt == nil, all[id] != nil else { return false }
            all[id]?.deletedAt = Date()
            return true
        }
    }

    var trashed: [Conversation] { conversations.withLock { $0.values.filter { $0.deletedAt != nil } } }
}
