import Foundation
import Synchronization
import SynapseEmulatorKit

/// The emulated server's state: agents, conversations and their messages in memory, agents'
/// file workspaces on disk (`DATA/agents/AGENT/`), login sessions.
final class SageStore: Sendable {
    struct Agent: Sendable {
        var id: String
        var name: String
        var agentMode: String
    }

    struct Message: Sendable {
        var messageId: String
        var role: String
        var content: String
        var type: String?
        var createdAt: Double
    }

    struct Conversation: Sendable {
        var sessionId: String
        var agentId: String
        var title: String
        var createdAt: Double
        var updatedAt: Double
        var messages: [Message]
        /// Chunks streamed so far: where a resume after the last one starts.
        var streamIndex = 0
    }

    struct Session: Sendable {
        var user: String
        var accessToken: String
        var refreshToken: String
        var expiresAt: Date
    }

    let root: URL
    let agents: [Agent]
    private let conversations = Mutex<[String: Conversation]>([:])
    private let sessions = Mutex<[String: Session]>([:])
    /// How many logins and refreshes were answered (tests tell which one renewed a session).
    let logins = Atomic<Int>(0)
    let refreshes = Atomic<Int>(0)

    init(root: URL, agents: [Agent]) {
        self.root = root
        self.agents = agents
    }

    func workspace(of agentId: String) -> URL { root.appendingPathComponent("agents", isDirectory: true).appendingPathComponent(agentId) }

    func agent(_ id: String) -> Agent? { agents.first { $0.id == id } }

    // MARK: Conversations

    func save(_ conversation: Conversation) { conversations.withLock { $0[conversation.sessionId] = conversation } }

    func conversation(_ id: String) -> Conversation? { conversations.withLock { $0[id] } }

    /// Newest first, as the sidebar sorts them.
    func allConversations() -> [Conversation] {
        conversations.withLock { Array($0.values) }.sorted { ($0.updatedAt, $0.sessionId) > ($1.updatedAt, $1.sessionId) }
    }

    @discardableResult
    func deleteConversation(_ id: String) -> Bool { conversations.withLock { $0.removeValue(forKey: id) } != nil }

    // MARK: Login

    /// A new session for `user`; its cookie value is the returned key.
    func login(_ user: String, lasting seconds: Double) -> (cookie: String, Session) {
        let session = Session(user: user, accessToken: "sage-at-" + UUID().uuidString.lowercased(),
                              refreshToken: "sage-rt-" + UUID().uuidString.lowercased(), expiresAt: Date().addingTimeInterval(seconds))
        let cookie = UUID().uuidString.lowercased()
        sessions.withLock { $0[cookie] = session }
        return (cookie, session)
    }

    /// Whether a request with this session cookie and bearer token is logged in: the session
    /// must exist, and a token, when sent, must be the session's and unexpired.
    func isLoggedIn(cookie: String?, bearer: String?) -> Bool {
        sessions.withLock { sessions in
            guard let cookie, let session = sessions[cookie], session.expiresAt > Date() else { return false }
            return bearer.map { $0 == session.accessToken } ?? true
        }
    }

    /// The session holding `refreshToken`, with a new access token lasting `seconds` (a
    /// refresh token is used once: it is replaced too); nil when none holds it.
    func refresh(_ refreshToken: String, lasting seconds: Double) -> Session? {
        sessions.withLock { sessions in
            guard let cookie = sessions.first(where: { $0.value.refreshToken == refreshToken })?.key else { return nil }
            sessions[cookie]?.accessToken = "sage-at-" + UUID().uuidString.lowercased()
            sessions[cookie]?.refreshToken = "sage-rt-" + UUID().uuidString.lowercased()
            sessions[cookie]?.expiresAt = Date().addingTimeInterval(seconds)
            return sessions[cookie]
        }
    }

    func logout(cookie: String) { sessions.withLock { _ = $0.removeValue(forKey: cookie) } }
}
