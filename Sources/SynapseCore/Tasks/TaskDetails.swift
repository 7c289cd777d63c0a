import Foundation

/// A task's messages and workspace listing, fetched on demand and reused for a short TTL.
/// A workspace listing is saved on disk so it can be served while the server is unreachable.
public final class TaskDetails: Sendable {
    /// The most messages and workspace files one task may have: beyond them the answer is
    /// refused (EIO), so a hostile or runaway listing cannot take the daemon's memory.
    public static let maxMessages = 100_000
    public static let maxWorkspaceFiles = 100_000

    private let remote: any TaskRemote
    private let store: ListingStore
    private let health: ServerHealth
    private let messageCache: Expiring<String, [TaskMessage]>
    private let workspaceCache: Expiring<String, WorkspaceTree>
    /// Told every transcript fetched from the server.
    private let fetchedMessages: @Sendable (String, [TaskMessage]) -> Void

    public init(remote: any TaskRemote, store: ListingStore, health: ServerHealth, messagesTTL: Double, workspaceTTL: Double,
                fetchedMessages: @escaping @Sendable (String, [TaskMessage]) -> Void = { _, _ in }) {
        self.fetchedMessages = fetchedMessages
        self.remote = remote
        self.store = store
        self.health = health
        messageCache = Expiring(ttl: messagesTTL)
        workspaceCache = Expiring(ttl: workspaceTTL)
    }

    public func messages(of taskId: String) throws(FSError) -> [TaskMessage] {
        try messageCache.value(for: taskId) { () throws(FSError) -> [TaskMessage] in
            do throws(RemoteError) {
                let messages = try remote.messages(taskId: taskId)
                health.recordSuccess()
                guard messages.count <= Self.maxMessages else {
                    throw RemoteError.malformed("task \(taskId) has \(messages.count) messages, more than the \(Self.maxMessages) the mount shows")
                }
                fetchedMessages(taskId, messages)
                return messages
            } catch {
                health.record(error)
                if error.isConnectivity, let last = messageCache.last(for: taskId) { return last }
                throw error.fsError
            }
        }
    }

    /// The messages last fetched, however old, without asking the server.
    public func lastKnownMessages(of taskId: String) -> [TaskMessage]? { messageCache.last(for: taskId) }

    /// Messages if they can be had without an error (status falls back to the server field).
    public func messagesIfAvailable(of taskId: String) -> [TaskMessage]? {
        try? messages(of: taskId)
    }

    public func workspace(of taskId: String) throws(FSError) -> WorkspaceTree {
        try workspaceCache.value(for: taskId) { () throws(FSError) -> WorkspaceTree in
            do throws(RemoteError) {
                let entries = try remote.workspace(taskId: taskId)
                health.recordSuccess()
                guard entries.count <= Self.maxWorkspaceFiles else {
                    throw RemoteError.malformed("the workspace of \(taskId) lists \(entries.count) files, more than the \(Self.maxWorkspaceFiles) the mount shows")
                }
                store.saveWorkspace(entries, taskId: taskId)
                return WorkspaceTree(entries: entries)
            } catch {
                health.record(error)
                if error.isConnectivity {
                    if let last = workspaceCache.last(for: taskId) { return last }
                    if let saved = store.loadWorkspace(taskId: taskId) { return WorkspaceTree(entries: saved) }
                }
                throw error.fsError
            }
        }
    }

    public func invalidate(_ taskId: String) {
        messageCache.invalidate(taskId)
        workspaceCache.invalidate(taskId)
    }
}
