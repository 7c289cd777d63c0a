import Foundation

/// A task's transcript and workspace listing, fetched on demand and reused for a short TTL.
/// A workspace listing is saved on disk so it can be served while the server is unreachable.
public final class TaskDetails: Sendable {
    /// The most messages and workspace files one task may have: beyond them the answer is
    /// refused (EIO), so a hostile or runaway listing cannot take the daemon's memory.
    public static let maxMessages = 100_000
    public static let maxWorkspaceFiles = 100_000

    private let remote: any AgentBackend
    private let store: ListingStore
    private let health: ServerHealth
    private let transcriptCache: Expiring<String, Transcript>
    private let workspaceCache: Expiring<String, WorkspaceTree>
    /// Told every transcript fetched from the server.
    private let fetchedTranscript: @Sendable (String, Transcript) -> Void

    public init(remote: any AgentBackend, store: ListingStore, health: ServerHealth, messagesTTL: Double, workspaceTTL: Double,
                fetchedTranscript: @escaping @Sendable (String, Transcript) -> Void = { _, _ in }) {
        self.fetchedTranscript = fetchedTranscript
        self.remote = remote
        self.store = store
        self.health = health
        transcriptCache = Expiring(ttl: messagesTTL)
        workspaceCache = Expiring(ttl: workspaceTTL)
    }

    public func transcript(of taskId: String) throws(FSError) -> Transcript {
        try transcriptCache.value(for: taskId) { () throws(FSError) -> Transcript in
            do throws(RemoteError) {
                let transcript = try remote.transcript(taskId: taskId)
                health.recordSuccess()
                guard transcript.entries.count <= Self.maxMessages else {
                    throw RemoteError.malformed("task \(taskId) has \(transcript.entries.count) messages, more than the \(Self.maxMessages) the mount shows")
                }
                fetchedTranscript(taskId, transcript)
                return transcript
            } catch {
                health.record(error)
                if error.isConnectivity, let last = transcriptCache.last(for: taskId) { return last }
                throw error.fsError
            }
        }
    }

    /// The transcript last fetched, however old, without asking the server.
    public func lastKnownTranscript(of taskId: String) -> Transcript? { transcriptCache.last(for: taskId) }

    /// The transcript if it can be had without an error (status falls back to the listed one).
    public func transcriptIfAvailable(of taskId: String) -> Transcript? {
        try? transcript(of: taskId)
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
        transcriptCache.invalidate(taskId)
        workspaceCache.invalidate(taskId)
    }
}
