import Foundation

/// The agent server as the filesystem needs it. The libcurl client implements it for
/// InfiniSynapse; tests use an in-memory fake. Calls block: the FUSE layer calls them on
/// its own worker threads, never on Swift's cooperative pool.
public protocol TaskRemote: Sendable {
    /// One page of the account's tasks (`page` starts at 1, `pageSize` ≤ 100).
    func listTasks(page: Int, pageSize: Int) throws(RemoteError) -> TaskPage
    func taskInfo(id: String) throws(RemoteError) -> TaskSummary
    func messages(taskId: String) throws(RemoteError) -> [TaskMessage]
    func workspace(taskId: String) throws(RemoteError) -> [WorkspaceEntry]
    /// Streams the file's bytes from `offset` to its end into `sink`, chunk by chunk.
    /// The sink returns false to abort the transfer.
    func download(taskId: String, path: String, offset: Int64,
                  into sink: (UnsafeRawBufferPointer) -> Bool) throws(RemoteError) -> DownloadResult
}
