import Foundation

/// A task's messages and workspace listing, fetched on demand and reused for a short TTL.
/// A workspace listing is saved on disk so it can be served while the server is unreachable.
public final class TaskDetails: Sendable {
    private let remote: any TaskRemote
    private let store: ListingStore
    private let health: ServerHealth
    private let messageCache: Expiring<String, [TaskMessage]>
    private let workspaceCache: Expiring<String, WorkspaceTree>

    public init(remote: any TaskRemote, store: ListingStore, health: ServerHealth, messagesTTL: Double, workspaceTTL: Double) {
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
                return messages
            } catch {
                health.record(error)
                if error.isConnectivity, let last = messageCache.last(for: taskId) { return last }
                throw error.fsError
            }
        }
    }

    /// Messages if they can be had without an error (status falls back to the server field).
    public func messagesIfAvailable(of taskId: String) -> [TaskMessage]? {
        try? messages(of: taskId)
    }

    public func workspace(of taskId: String) throws(FSError) -> WorkspaceTree {
        try workspaceCache.value(for: taskId) { () throws(FSError) -> WorkspaceTree in
            do throws(RemoteError) {
                let entries = try remote.workspace(taskId: taskId)
                health.recordSuccess()
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
