import Foundation

/// One task as the task list and task info describe it.
public struct TaskSummary: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    /// The server's own status word, verbatim (shown in info.json).
    public var serverStatus: String?
    /// What that word means, where the backend knows (decides only without a transcript).
    public var status: TaskStatus?
    public var createdAt: Date?
    public var updatedAt: Date?
    /// The orchestration this task is a run of (`orchestrations/ORCH/runs/`); nil: a task of `tasks/`.
    public var orchestration: String?
    /// The server's own words for the task (a run's id, the agent it talks to), shown in info.json.
    public var details: [String: String]?

    public init(id: String, name: String, serverStatus: String? = nil, status: TaskStatus? = nil, createdAt: Date? = nil, updatedAt: Date? = nil,
                orchestration: String? = nil, details: [String: String]? = nil) {
        self.id = id
        self.name = name
        self.serverStatus = serverStatus
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.orchestration = orchestration
        self.details = details
    }
}

extension TaskStatus: Codable {}

/// Where a page of the task list starts: a number, where the server numbers its pages (then
/// several can be fetched side by side), or the cursor the page before gave (followed one
/// page after another).
public enum PagePosition: Sendable, Hashable {
    case number(Int)
    case cursor(String)

    /// The page number `position` stands for, for a server that numbers its pages from 1
    /// (nil: the first); a cursor it never gives is refused, naming `server`.
    public static func pageNumber(_ position: PagePosition?, server: String) throws(RemoteError) -> Int {
        switch position {
        case nil: 1
        case .number(let number): number
        case .cursor(let cursor): throw .invalidRequest("\(server) numbers its pages; it gave no cursor \(cursor)")
        }
    }
}

/// One page of the task list.
public struct TaskPage: Sendable, Equatable {
    public var items: [TaskSummary]
    /// Where the next page starts; nil when this one is the last.
    public var next: PagePosition?
    /// What the server says of the whole list, where it says: a hint, never a size.
    public var totalItems: Int?
    public var totalPages: Int?

    public init(items: [TaskSummary], next: PagePosition?, totalItems: Int? = nil, totalPages: Int? = nil) {
        self.items = items
        self.next = next
        self.totalItems = totalItems
        self.totalPages = totalPages
    }
}

/// One file of a workspace listing, normalised from the server's shape.
public struct WorkspaceEntry: Sendable, Equatable, Codable {
    /// The path exactly as the server gave it: untrusted, used only to ask the server.
    public var path: String
    public var size: Int64?
    public var mtime: Date?

    public init(path: String, size: Int64? = nil, mtime: Date? = nil) {
        self.path = path
        self.size = size
        self.mtime = mtime
    }
}

/// What a finished download delivered.
public struct DownloadResult: Sendable, Equatable {
    public var bytesWritten: Int64
    /// The file's whole size when the answer tells it (a whole-file or open-ended answer's length).
    public var totalSize: Int64?

    public init(bytesWritten: Int64, totalSize: Int64?) {
        self.bytesWritten = bytesWritten
        self.totalSize = totalSize
    }
}
