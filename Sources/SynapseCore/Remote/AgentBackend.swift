import Foundation

/// An agent server as the filesystem needs it, in words every server maps its own onto. Each
/// backend decodes its own answers (the core holds no server JSON) and says what it can do.
/// Calls block: the FUSE layer calls them on its own worker threads, never on Swift's pool.
/// Implemented by each server's module; tests use an in-memory fake.
public protocol AgentBackend: Sendable {
    /// What this server can do; what it cannot is refused with a clear errno.
    var capabilities: BackendCapabilities { get }
    /// One page of the account's tasks, from `position` (nil: the first page), at most
    /// `pageSize` (≤ 100) of them.
    func listTasks(from position: PagePosition?, pageSize: Int) throws(RemoteError) -> TaskPage
    func taskInfo(id: String) throws(RemoteError) -> TaskSummary
    func transcript(taskId: String) throws(RemoteError) -> Transcript
    func workspace(taskId: String) throws(RemoteError) -> [WorkspaceEntry]
    /// Streams `length` bytes of the file from `offset` (to its end when `length` is nil) into
    /// `sink`, chunk by chunk, each with its offset in the file. A server that ignores HTTP
    /// Range sends the whole file, from offset 0. The sink returns false to abort the transfer.
    /// `ifRange` is the validator of the version cached so far: a server that has another
    /// version now sends that whole file (with its own validator) instead of the range.
    func download(taskId: String, path: String, offset: Int64, length: Int64?, ifRange: String?,
                  into sink: (DownloadChunk) -> Bool) throws(RemoteError) -> DownloadResult
    /// Sends a prompt: a draft's first, or the next turn (also the answer to a question). A
    /// server that chooses task ids itself says which it gave the draft.
    @discardableResult
    func send(_ prompt: Prompt) throws(RemoteError) -> SentPrompt
    /// Uploads `body` as the file `name` into the task, streaming it. With `answering`, the
    /// file answers that question of the agent's (which wants a file), once.
    func upload(_ body: UploadBody, as name: String, taskId: String, answering question: PendingQuestion?) throws(RemoteError) -> UploadOutcome
    func control(_ command: TaskControl, taskId: String) throws(RemoteError)
    /// Holds the server's mount-wide feed of events open, handing each to `onEvent`, until the
    /// server closes it (a normal return), it fails (a throw), or `onEvent` returns false.
    func followFeed(onEvent: (FeedEvent) -> Bool) throws(RemoteError)
    /// What names this mount's feed to the server (InfiniSynapse's `connId`), for status.json.
    var feedIdentity: String? { get }
    /// The backend's kind and server, naming its cached files apart from another's.
    var cacheNamespace: String { get }
    /// The workspace a task's files live in: its own, or one it shares with other tasks (an
    /// agent's, a working folder's), so a shared one is cached once.
    func workspaceScope(taskId: String) -> String
    /// The server's agents (`agents/`), where it has them (`capabilities.agents`).
    func listAgents() throws(RemoteError) -> [AgentSummary]
    /// The server's orchestrations (`orchestrations/`), where it has them
    /// (`capabilities.orchestrations`); their runs are tasks whose `orchestration` names them.
    func listOrchestrations() throws(RemoteError) -> [OrchestrationSummary]
    /// Ends what the backend holds open on threads of its own (a run's stream) and waits for
    /// it; called once, when the mount stops, after the feed has stopped.
    func stop()
}

extension AgentBackend {
    /// Most backends hold nothing open between calls.
    public func stop() {}

    public func listAgents() throws(RemoteError) -> [AgentSummary] { throw .routeMissing("this server has no agents") }

    public func listOrchestrations() throws(RemoteError) -> [OrchestrationSummary] { throw .routeMissing("this server has no orchestrations") }
}

/// An agent of the server, as `agents/AGENT/info.json` shows it.
public struct AgentSummary: Sendable, Equatable {
    public var id: String
    public var name: String
    /// The id through which the agent's files are read: `workspace` and `download` take it as
    /// a task id (nil: the agent has no files). It must be one no task of the server can have.
    public var workspaceId: String?
    /// The server's own words for the agent (its mode, description), shown as they are.
    public var details: [String: String]

    public init(id: String, name: String, workspaceId: String? = nil, details: [String: String] = [:]) {
        self.id = id
        self.name = name
        self.workspaceId = workspaceId
        self.details = details
    }
}

/// What a backend can do.
public struct BackendCapabilities: Sendable, Equatable {
    /// Deleting a task on the server (`ctl delete`).
    public var delete = true
    /// Cancelling a running task (`ctl cancel`).
    public var cancel = true
    /// A mount-wide feed of events (else runs are followed by polling).
    public var feed = true
    /// Files dropped into a task (`uploads/`); without it uploads/ is read-only (EROFS).
    public var uploads = true
    /// A prompt while the task runs (else EBUSY: on some servers it would interrupt the run).
    public var promptWhileRunning = true
    /// Agents of its own (`agents/`); without it the folder is absent.
    public var agents = false
    /// Runs that ask permission to run a tool, answered with `echo allow|deny > ctl`.
    public var permissions = false
    /// Files of a task's own (`workspace/`, `uploads/`); without them both are absent (ENOENT).
    public var files = true
    /// A draft's agent chosen by writing its `agent` file before the first prompt (else the
    /// server's default agent answers, and the file is absent).
    public var agentChoice = false
    /// Orchestrations (`orchestrations/ORCH/`), multi-agent workflows whose runs are tasks
    /// made with `mkdir orchestrations/ORCH/runs/NAME`; without them the folder is absent.
    public var orchestrations = false

    public init() {}

    /// What the server cannot do, each with what the mount does instead (for status.json).
    public var missing: [String] {
        var missing: [String] = []
        if !cancel { missing.append("cancel: `echo cancel > ctl` fails with ENOTSUP") }
        if !delete { missing.append("delete: `echo delete > ctl` fails with ENOTSUP") }
        if !feed { missing.append("feed: no mount-wide event stream; open stream.log files are polled") }
        if !files { missing.append("files: tasks have no workspace/ or uploads/ (ENOENT)") }
        if files, !uploads { missing.append("uploads: uploads/ is read-only (EROFS)") }
        if !promptWhileRunning { missing.append("prompt while running: prompt.txt fails with EBUSY until the run ends") }
        return missing
    }
}

/// A prompt to send.
public struct Prompt: Sendable, Equatable {
    public var taskId: String
    public var text: String
    /// The first prompt of a draft: it makes the task on the server.
    public var startsTask: Bool
    /// Uploads waiting for this prompt (`UploadOutcome.attachedToNextPrompt`'s references).
    public var attachments: [String]
    /// A first prompt's orchestration, where the draft is a run of one (its prompt starts the run).
    public var orchestration: String?
    /// A first prompt's agent, where the draft chose one (`agent`); nil: the server's default.
    public var agent: String?

    public init(taskId: String, text: String, startsTask: Bool, attachments: [String] = [], orchestration: String? = nil, agent: String? = nil) {
        self.taskId = taskId
        self.text = text
        self.startsTask = startsTask
        self.attachments = attachments
        self.orchestration = orchestration
        self.agent = agent
    }
}

/// What became of a prompt.
public struct SentPrompt: Sendable, Equatable {
    /// The id the server gave the task its first prompt made, where the server chooses ids
    /// (nil: the draft's id is the task's). The mount keeps using the draft's id, and its
    /// folder; the backend is asked with this one.
    public var serverTaskId: String?
    /// The uploads waiting for this prompt did not go with it (it answered a question): they
    /// wait for the next one.
    public var attachmentsKept: Bool

    public init(serverTaskId: String? = nil, attachmentsKept: Bool = false) {
        self.serverTaskId = serverTaskId
        self.attachmentsKept = attachmentsKept
    }
}

/// What became of an upload.
public enum UploadOutcome: Sendable, Equatable {
    /// Stored with the task (its workspace), as the server answered (JSON text).
    case stored(String)
    /// Answered the agent's question that wanted a file.
    case answeredAgent(String)
    /// Stored by the server apart from the task, to be named in the task's next prompt (the
    /// reference, as Sage's `oss/upload` URL): the file waits for that prompt.
    case attachedToNextPrompt(String)
}

/// A command for a task (`ctl`).
public enum TaskControl: String, Sendable, Equatable {
    case cancel, delete
    /// The answer to the agent's request to run a tool (`capabilities.permissions`).
    case allow, deny
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

extension AgentBackend {
    /// A download with no version to match (a first fetch, or tests).
    public func download(taskId: String, path: String, offset: Int64, length: Int64?,
                         into sink: (DownloadChunk) -> Bool) throws(RemoteError) -> DownloadResult {
        try download(taskId: taskId, path: path, offset: offset, length: length, ifRange: nil, into: sink)
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

/// One event of a server's mount-wide feed, in the core's words.
public enum FeedEvent: Sendable, Equatable {
    /// An entry of a task's transcript, whole (new, or changed).
    case entry(taskId: String, TranscriptEntry)
    /// A streaming update of an entry: its whole text so far, or only what is new (servers
    /// differ; stream.log learns which).
    case partial(taskId: String, TranscriptEntry)
    /// The agent took entries back.
    case removed(taskId: String, ids: [String])
    /// The server says the task changed: it is fetched again.
    case changed(taskId: String)
    /// A message the server sent about no task in particular; an error fails the task that
    /// was active, when that cannot be ambiguous.
    case notice(title: String, text: String, isError: Bool)
    /// Liveness only.
    case heartbeat
}

/// An orchestration of the server (a multi-agent workflow), as
/// `orchestrations/ORCH/info.json` shows it.
public struct OrchestrationSummary: Sendable, Equatable {
    public struct Step: Sendable, Equatable {
        public var id: String
        public var name: String
        /// The server's word for the step (`agent`, `human`, `router`, …).
        public var kind: String
        public var agent: String?

        public init(id: String, name: String, kind: String, agent: String? = nil) {
            self.id = id
            self.name = name
            self.kind = kind
            self.agent = agent
        }
    }

    public var id: String
    public var name: String
    public var steps: [Step]
    /// The server's own words for it (its description), shown as they are.
    public var details: [String: String]

    public init(id: String, name: String, steps: [Step] = [], details: [String: String] = [:]) {
        self.id = id
        self.name = name
        self.steps = steps
        self.details = details
    }
}
