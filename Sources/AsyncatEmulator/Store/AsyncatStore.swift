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

    /// An agent session: one per run (a `continueSessionId` goes on with its session).
    struct Session: Sendable {
        var id: String
        var goal: String
        /// active, completed or failed (a run whose client went away mid-call stays active, as the server's do).
        var status: String
        var createdAt: Date
        var updatedAt: Date

        var json: [String: Any] {
            ["id": id, "goal": goal, "status": status, "working_dir": "", "total_rounds": 1,
             "created_at": AsyncatResponse.iso(createdAt), "updated_at": AsyncatResponse.iso(updatedAt)]
        }
    }

    let root: URL
    private let sessions = Mutex<[String: Session]>([:])

    func session(_ id: String) -> Session? { sessions.withLock { $0[id] } }

    func recentSessions(limit: Int) -> [Session] {
        sessions.withLock { Array($0.values) }.sorted { $0.updatedAt > $1.updatedAt }.prefix(limit).map { $0 }
    }

    /// Records the session of a run (new, or going on) as `status`.
    func sessionRan(_ id: String, goal: String, status: String) {
        sessions.withLock { all in
            let now = Date()
            all[id] = Session(id: id, goal: all[id]?.goal ?? goal, status: status, createdAt: all[id]?.createdAt ?? now, updatedAt: now)
        }
    }

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
