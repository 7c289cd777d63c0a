import Foundation
import Logging
import Synchronization
import SynapseCore
import SynapseHTTP

/// An Asyncat server on libcurl: a bearer token when one is given (today's server runs
/// without auth), conversations with server-chosen ids, runs held on streams of their own,
/// artifacts of the working directory. Blocking: call it from threads of your own.
public final class AsyncatClient: AgentBackend {
    public let baseURL: String
    public var cacheNamespace: String { "asyncat " + baseURL }
    public var feedIdentity: String? { nil }
    public var capabilities: BackendCapabilities {
        var capabilities = BackendCapabilities()
        // A new run while one goes on would run two agents on one conversation.
        capabilities.promptWhileRunning = false
        capabilities.permissions = true
        return capabilities
    }
    let transport: CurlTransport
    let token: String?
    let autoApprove: Bool
    let logger: Logger
    let runs: AsyncatRuns
    let attachments: AsyncatAttachments

    /// Turns into `conversationHistory`, at most (the server keeps 12).
    static let historyLimit = 12

    public init(baseURL: String, token: String?, timeouts: Timeouts = Timeouts(), caFile: String? = nil, stateDirectory: URL,
                autoApprove: Bool = false, logger: Logger) {
        let base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        let transport = CurlTransport(timeouts: timeouts, caFile: caFile, errorInSuccess: AsyncatWire.errorInSuccess)
        self.baseURL = base
        self.transport = transport
        self.token = token
        self.autoApprove = autoApprove
        self.logger = logger
        attachments = AsyncatAttachments(directory: stateDirectory.appendingPathComponent("asyncat-attachments", isDirectory: true))
        let headers = Self.headers(token)
        let idle = max(45, timeouts.idle)
        let save = Self.saver(base: base, transport: transport, headers: headers)
        runs = AsyncatRuns(logger: logger, reading: { body, onEvent throws(RemoteError) in
            try Self.readRun(base: base, transport: transport, headers: headers, idleTimeout: idle, body: body, onEvent: onEvent)
        }, saving: save)
    }

    // MARK: Reading

    /// `GET /api/ai/chats?limit&offset`: pages until a short one (the server's `total` and
    /// `hasMore` count its trash too).
    public func listTasks(from position: PagePosition?, pageSize: Int) throws(RemoteError) -> TaskPage {
        let page = try PagePosition.pageNumber(position, server: "Asyncat")
        let object = try get("/api/ai/chats", query: [("limit", "\(pageSize)"), ("offset", "\((page - 1) * pageSize)"), ("includeArchived", "false")],
                             what: "conversation list")
        guard let rows = object["conversations"] as? [[String: Any]] else { throw .malformed("conversation list: no conversations") }
        let tasks = rows.compactMap(AsyncatWire.task).map(withRunState)
        return TaskPage(items: tasks, next: rows.count >= pageSize ? .number(page + 1) : nil)
    }

    public func taskInfo(id: String) throws(RemoteError) -> TaskSummary {
        guard let task = AsyncatWire.task(try conversation(id)) else { throw .malformed("conversation \(id): no id") }
        return withRunState(task)
    }

    public func transcript(taskId: String) throws(RemoteError) -> Transcript {
        let messages = try conversation(taskId)["messages"] as? [[String: Any]] ?? []
        var entries = AsyncatWire.transcript(messages)
        let stored = Set(entries.map(\.id))
        // The run this mount holds: what it said so far (the server saves it only at the end).
        entries += runs.liveEntries(taskId).filter { !stored.contains($0.id) }
        return Transcript(entries: entries, cancelled: runs.wasInterrupted(taskId) && !runs.isRunning(taskId))
    }

    /// Asyncat keeps no status a client can read while it runs: running is a run this mount
    /// holds; waiting, what that run asks.
    private func withRunState(_ task: TaskSummary) -> TaskSummary {
        var task = task
        if let pending = runs.pending(task.id) {
            task.status = .waiting
            task.serverStatus = "waiting (\(pending.kind))"
        } else if runs.isRunning(task.id) {
            task.status = .running
            task.serverStatus = "running"
        } else if runs.wasInterrupted(task.id) {
            task.status = .cancelled
            task.serverStatus = "cancelled"
        }
        return task
    }

    /// The working directory's artifacts, the same for every conversation (a flat folder).
    public func workspace(taskId: String) throws(RemoteError) -> [WorkspaceEntry] {
        try AsyncatWire.artifacts(try get("/api/ai/artifacts", what: "artifacts"), what: "artifacts")
    }

    public func workspaceScope(taskId: String) -> String { "artifacts" }

    public func download(taskId: String, path: String, offset: Int64, length: Int64?, ifRange: String?,
                         into sink: (DownloadChunk) -> Bool) throws(RemoteError) -> DownloadResult {
        let url = url("/api/ai/artifacts/\(URLEncoding.segment(path))", query: [("download", "1")])
        // Identity: the server compresses text otherwise, and ranges would be of the gzip.
        return try transport.download(HTTPRequest(url: url, headers: Self.headers(token) + ["Accept-Encoding: identity"]), path: path,
                                      offset: offset, length: length, ifRange: ifRange, into: sink) { response throws(RemoteError) in
            _ = try AsyncatWire.object(from: response, what: "artifact \(path)")
        }
    }

    // MARK: Changing

    /// Uploads wait, on disk, to go with the next run as `fileAttachments` (the server's
    /// limits are checked here: it drops what is over them without a word).
    public func upload(_ body: UploadBody, as name: String, taskId: String, answering question: PendingQuestion?) throws(RemoteError) -> UploadOutcome {
        .attachedToNextPrompt(try attachments.keep(body, as: name, taskId: taskId))
    }

    public func control(_ command: TaskControl, taskId: String) throws(RemoteError) {
        switch command {
        case .cancel:
            guard runs.cancel(taskId) else { throw .refused("conversation \(taskId) has no run in flight to cancel") }
        case .delete:
            // A run in flight goes first: its events would name a task the mount forgot.
            _ = runs.cancel(taskId)
            _ = try request("DELETE", "/api/ai/chats/\(URLEncoding.segment(taskId))", body: nil, what: "delete of \(taskId)")
        case .allow, .deny:
            guard let pending = runs.pending(taskId), pending.kind == "permission" else {
                throw .refused("conversation \(taskId) waits for no permission")
            }
            let body = try Self.json(["decision": command.rawValue])
            _ = try request("POST", "/api/ai/permissions/\(URLEncoding.segment(pending.id))", body: body, what: "\(command.rawValue) for \(taskId)")
            runs.answered(taskId, requestId: pending.id, entry: TranscriptEntry(id: "decision-" + pending.id, time: Self.now, speaker: .user, text: command.rawValue))
        }
    }

    public func followFeed(onEvent: (FeedEvent) -> Bool) throws(RemoteError) {
        guard onEvent(.heartbeat) else { return }
        while Cancellation.current?.isCancelled != true {
            for event in runs.takeEvents(waitingUpTo: 0.25) {
                guard onEvent(event) else { return }
            }
        }
    }

    public func stop() { runs.stop() }

    // MARK: Plumbing

    static var now: Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    static func headers(_ token: String?) -> [String] {
        ["Accept: application/json"] + (token.map { ["Authorization: Bearer \($0)"] } ?? [])
    }

    func conversation(_ id: String) throws(RemoteError) -> [String: Any] {
        let object = try get("/api/ai/chats/\(URLEncoding.segment(id))", what: "conversation \(id)")
        guard let conversation = object["conversation"] as? [String: Any] else { throw .malformed("conversation \(id): no conversation") }
        return conversation
    }

    func get(_ path: String, query: [(String, String)] = [], what: String) throws(RemoteError) -> [String: Any] {
        try Self.call(transport, HTTPRequest(url: url(path, query: query), headers: Self.headers(token)), what: what)
    }

    func request(_ method: String, _ path: String, body: Data?, what: String) throws(RemoteError) -> [String: Any] {
        try Self.call(transport, HTTPRequest(method: method, url: url(path, query: []), headers: Self.headers(token), body: body), what: what)
    }

    static func call(_ transport: CurlTransport, _ request: HTTPRequest, what: String) throws(RemoteError) -> [String: Any] {
        switch transport.perform(request) {
        case .success(let response): try AsyncatWire.object(from: response, what: what)
        case .failure(let failure): throw failure.remoteError(what: what)
        }
    }

    func url(_ path: String, query: [(String, String)]) -> String {
        guard !query.isEmpty else { return baseURL + path }
        return baseURL + path + "?" + query.map { "\($0.0)=\(URLEncoding.value($0.1))" }.joined(separator: "&")
    }
}
