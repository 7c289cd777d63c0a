import Foundation

/// One task as the task list and `getTaskInfo` describe it.
public struct TaskSummary: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    /// The server's own status field, verbatim (its vocabulary is not documented).
    public var serverStatus: String?
    public var createdAt: Date?
    public var updatedAt: Date?

    public init(id: String, name: String, serverStatus: String? = nil, createdAt: Date? = nil, updatedAt: Date? = nil) {
        self.id = id
        self.name = name
        self.serverStatus = serverStatus
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// One page of `ai_task/list`.
public struct TaskPage: Sendable, Equatable {
    public var items: [TaskSummary]
    public var totalItems: Int
    public var totalPages: Int
    public var currentPage: Int

    public init(items: [TaskSummary], totalItems: Int, totalPages: Int, currentPage: Int) {
        self.items = items
        self.totalItems = totalItems
        self.totalPages = totalPages
        self.currentPage = currentPage
    }
}

/// One message of a task's transcript; `ts` identifies it within its task.
public struct TaskMessage: Sendable, Equatable, Codable {
    public var ts: Int64
    public var type: String
    public var say: String?
    public var ask: String?
    public var text: String?
    public var reasoning: String?
    public var partial: Bool?

    public init(ts: Int64, type: String, say: String? = nil, ask: String? = nil, text: String? = nil,
                reasoning: String? = nil, partial: Bool? = nil) {
        self.ts = ts
        self.type = type
        self.say = say
        self.ask = ask
        self.text = text
        self.reasoning = reasoning
        self.partial = partial
    }

    public var isCompletion: Bool { say == "completion_result" || ask == "completion_result" }
    public var isFailure: Bool { ask == "api_req_failed" || say == "error" }
    /// An `ask` other than completion: the agent waits for an answer.
    public var isQuestion: Bool { type == "ask" && !isCompletion && !isFailure }
}

/// One file of `getTaskWorkspace`, normalised from either listing shape.
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
