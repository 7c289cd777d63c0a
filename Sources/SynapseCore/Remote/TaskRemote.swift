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
    /// Streams `length` bytes of the file from `offset` (to its end when `length` is nil) into
    /// `sink`, chunk by chunk, each with its offset in the file. A server that ignores HTTP
    /// Range sends the whole file, from offset 0. The sink returns false to abort the transfer.
    /// `ifRange` is the validator of the version cached so far: a server that has another
    /// version now sends that whole file (with its own validator) instead of the range.
    func download(taskId: String, path: String, offset: Int64, length: Int64?, ifRange: String?,
                  into sink: (DownloadChunk) -> Bool) throws(RemoteError) -> DownloadResult
    /// Sends a message to the agent (`POST /api/ai/message`).
    func send(_ message: OutgoingMessage) throws(RemoteError)
    /// Uploads `body` as the file `name`, streaming it; returns the server's answer as JSON text.
    func upload(_ body: UploadBody, as name: String, to destination: UploadDestination, taskId: String) throws(RemoteError) -> String
    func deleteTask(id: String) throws(RemoteError)
    /// Holds the event stream open, handing each event to `onEvent`, until the server closes it
    /// (a normal return), it fails (a throw), or `onEvent` returns false.
    func streamEvents(connId: String, onEvent: (ServerEvent) -> Bool) throws(RemoteError)
}

/// A piece of a download: where it belongs in the file and, when the server said so
/// (Content-Range, or the length of a whole-file answer), the file's whole size.
public struct DownloadChunk {
    public var offset: Int64
    public var bytes: UnsafeRawBufferPointer
    public var fileSize: Int64?
    /// The version the server says the bytes are of (a strong ETag, or Last-Modified).
    public var validator: String?

    public init(offset: Int64, bytes: UnsafeRawBufferPointer, fileSize: Int64?, validator: String? = nil) {
        self.offset = offset
        self.bytes = bytes
        self.fileSize = fileSize
        self.validator = validator
    }
}

extension TaskRemote {
    /// A download with no version to match (a first fetch, or tests).
    public func download(taskId: String, path: String, offset: Int64, length: Int64?,
                         into sink: (DownloadChunk) -> Bool) throws(RemoteError) -> DownloadResult {
        try download(taskId: taskId, path: path, offset: offset, length: length, ifRange: nil, into: sink)
    }
}

/// What the mount sends to the agent.
public enum OutgoingMessage: Sendable, Equatable {
    /// The first prompt of a task, with a client-generated id, in act mode.
    case newTask(taskId: String, text: String, connId: String)
    /// A later prompt or an answer to the agent's question (`askResponse=messageResponse`).
    case answer(taskId: String, text: String, connId: String)
    case cancel(taskId: String)

    public var taskId: String {
        switch self {
        case .newTask(let id, _, _), .answer(let id, _, _), .cancel(let id): id
        }
    }
}

/// What an upload sends.
public enum UploadBody: Sendable {
    /// A finished file on disk.
    case file(URL)
    /// Bytes handed over while they are still being written; the size is known only at the end.
    case stream(any UploadStream)
}

/// The bytes of an upload that is still being written.
public protocol UploadStream: AnyObject, Sendable {
    /// Copies the next bytes into `buffer`, waiting until there are some: their count, 0 at
    /// the end, nil when the upload must be abandoned.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int?
}

/// The two upload endpoints, not to be mixed.
public enum UploadDestination: Sendable, Equatable {
    /// `taskUpload`: archived in the workspace under `upload_documents/`, original name.
    case workspace
    /// `/api/ai/upload`: for the agent's `upload_file_to_sandbox` request.
    case sandbox
}

/// One server-sent event: its type and its data text.
public struct ServerEvent: Sendable, Equatable {
    public var type: String
    public var data: String

    public init(type: String, data: String) {
        self.type = type
        self.data = data
    }
}
