import Foundation
import Logging
import Synchronization
import SynapseCore
import SynapseHTTP

/// The InfiniSynapse server API on libcurl, as an agent backend. Blocking: call it from
/// threads of your own.
public final class InfiniSynapseClient: AgentBackend {
    public let baseURL: String
    /// This mount's event-stream connection: the server routes the events of the tasks it
    /// started or answered to it.
    public let connId = UUID().uuidString.lowercased()
    public var feedIdentity: String? { connId }
    public let capabilities = BackendCapabilities()
    public var cacheNamespace: String { "infinisynapse " + baseURL }
    /// Every task has a workspace of its own.
    public func workspaceScope(taskId: String) -> String { "task " + taskId }
    private let apiKey: String
    let transport: CurlTransport
    /// The event stream is dropped after this long without a byte (heartbeats come every 15 s).
    let eventIdleTimeout: Double
    private let logger: Logger
    /// Long texts the message list cuts, made whole.
    private let slimmedTexts: SlimmedTexts
    /// A JSON object sent with every newTask (the user's config); nil: the server's own settings apply.
    let autoApprovalSettings: Data?
    /// Routes older deployments have under other paths (or not at all, for cancel).
    private let downloadRoute = RouteFallback()
    let uploadRoute = RouteFallback()
    let cancelRoute = RouteFallback()

    /// `caFile` is the CA bundle the server's certificate must chain to (libcurl's system
    /// bundle when nil); `stateDirectory` keeps what the client learns (whole texts of long
    /// messages); `autoApprovalSettings` goes with every newTask.
    public init(baseURL: String, apiKey: String, timeouts: Timeouts = Timeouts(), caFile: String? = nil,
                stateDirectory: URL? = nil, autoApprovalSettings: Data? = nil, logger: Logger) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        self.transport = CurlTransport(timeouts: timeouts, caFile: caFile, errorInSuccess: Envelope.errorInSuccess)
        self.eventIdleTimeout = max(45, timeouts.idle)
        self.logger = logger
        self.autoApprovalSettings = autoApprovalSettings
        slimmedTexts = SlimmedTexts(directory: stateDirectory?.appendingPathComponent("whole-texts", isDirectory: true),
                                    server: self.baseURL, logger: logger)
    }

    /// `GET /api/ai/ping`: checks the server is there and accepts the key.
    public func ping() throws(RemoteError) {
        _ = try get("/api/ai/ping", what: "ping")
    }

    /// Numbered pages from 1 (`meta.totalPages` says how many there are).
    public func listTasks(from position: PagePosition?, pageSize: Int) throws(RemoteError) -> TaskPage {
        try listTasks(page: PagePosition.pageNumber(position, server: "InfiniSynapse"), pageSize: pageSize)
    }

    public func listTasks(page: Int, pageSize: Int) throws(RemoteError) -> TaskPage {
        let body = try getBody("/api/ai_task/list", query: [("page", "\(page)"), ("pageSize", "\(pageSize)"),
                                                             ("field", "created_at"), ("order", "desc")],
                               what: "task list")
        return try WireDecoding.page(body, requested: page, pageSize: pageSize, what: "task list")
    }

    public func taskInfo(id: String) throws(RemoteError) -> TaskSummary {
        let body = try getBody("/api/ai_task/getTaskInfo/" + URLEncoding.segment(id), what: "task \(id)")
        var task = try WireDecoding.task(body, what: "getTaskInfo")
        if task.id.isEmpty { task.id = id }
        return task
    }

    /// The task's messages, long texts whole (the list slims them; see `SlimmedTexts`).
    public func transcript(taskId: String) throws(RemoteError) -> Transcript {
        Transcript(entries: try messages(taskId: taskId).map(\.entry))
    }

    /// The task's messages as the server has them, long texts whole.
    public func messages(taskId: String) throws(RemoteError) -> [UIMessage] {
        let listed = try WireDecoding.messages(try getBody("/api/ai_task/getUiMessageById", query: [("id", taskId)],
                                                           what: "messages of \(taskId)"), what: "getUiMessageById")
        return try slimmedTexts.complete(listed, taskId: taskId) { (ts) throws(RemoteError) -> String? in
            let data = try get("/api/ai_task/messagePayload", query: [("taskId", taskId), ("messageTs", "\(ts)")],
                               what: "messagePayload of \(taskId)")
            return Decoding.payloadText(data)
        }
    }

    public func workspace(taskId: String) throws(RemoteError) -> [WorkspaceEntry] {
        try WireDecoding.workspace(try getBody("/api/ai_task/getTaskWorkspace/" + URLEncoding.segment(taskId),
                                               what: "workspace of \(taskId)"), what: "getTaskWorkspace")
    }

    public func download(taskId: String, path: String, offset: Int64, length: Int64?, ifRange: String?,
                         into sink: (DownloadChunk) -> Bool) throws(RemoteError) -> DownloadResult {
        try downloadRoute.run { (legacy) throws(RemoteError) in
            try download(taskId: taskId, path: path, offset: offset, length: length, ifRange: ifRange, legacy: legacy, into: sink)
        }
    }

    private func download(taskId: String, path: String, offset: Int64, length: Int64?, ifRange: String?, legacy: Bool,
                          into sink: (DownloadChunk) -> Bool) throws(RemoteError) -> DownloadResult {
        let prefix = legacy ? "/api/storage/downloadTaskFile/" : "/api/tools/storage/downloadTaskFile/"
        let request = HTTPRequest(url: url(prefix + URLEncoding.segment(taskId), query: [("path", path)]),
                                  headers: authHeaders)
        return try transport.download(request, path: path, offset: offset, length: length, ifRange: ifRange, into: sink) { response throws(RemoteError) in
            _ = try Envelope.data(from: response, what: "file \(path)")
        }
    }

    // MARK: Plumbing

    var authHeaders: [String] {
        ["Authorization: Bearer \(apiKey)", "Accept: application/json", "x-lang: en"]
    }

    func get(_ path: String, query: [(String, String)] = [], what: String) throws(RemoteError) -> Any {
        try send(HTTPRequest(url: url(path, query: query), headers: authHeaders), what: what)
    }

    /// The checked body of a GET, for answers decoded by `WireDecoding`.
    private func getBody(_ path: String, query: [(String, String)] = [], what: String) throws(RemoteError) -> Data {
        switch transport.perform(HTTPRequest(url: url(path, query: query), headers: authHeaders)) {
        case .success(let response):
            return try Envelope.checkedBody(of: response, what: what)
        case .failure(let failure):
            throw failure.remoteError(what: what)
        }
    }

    func send(_ request: HTTPRequest, what: String) throws(RemoteError) -> Any {
        switch transport.perform(request) {
        case .success(let response):
            return try Envelope.data(from: response, what: what)
        case .failure(let failure):
            throw failure.remoteError(what: what)
        }
    }

    func url(_ path: String, query: [(String, String)]) -> String {
        guard !query.isEmpty else { return baseURL + path }
        return baseURL + path + "?" + query.map { "\($0.0)=\(URLEncoding.value($0.1))" }.joined(separator: "&")
    }

}
