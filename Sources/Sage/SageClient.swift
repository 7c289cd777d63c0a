import Foundation
import Logging
import Synchronization
import SynapseCore
import SynapseHTTP

/// A Sage server on libcurl. Logs in with a user's name and password (never from argv),
/// keeps the session cookie the server ties its state to, and logs in again when the session
/// or its token runs out, without failing the request that found out. Blocking: call it from
/// threads of your own.
///
/// Conversations are tasks; a conversation's files are its agent's workspace, shared by all
/// the agent's conversations (cached once, under the agent).
public final class SageClient: AgentBackend {
    public let baseURL: String
    public var cacheNamespace: String { "sage " + baseURL }
    public var feedIdentity: String? { nil }
    /// A prompt while a conversation runs would interrupt the run: refused (EBUSY).
    public var capabilities: BackendCapabilities {
        var capabilities = BackendCapabilities()
        capabilities.promptWhileRunning = false
        capabilities.agents = true
        return capabilities
    }
    let transport: CurlTransport
    let session: BearerSession
    let logger: Logger
    let streaming: SageStreaming
    let runs: SageRunStreams
    /// The agent of each conversation seen (listings and messages say).
    private let agents = Mutex<[String: String]>([:])
    /// The agent a new conversation gets: the server's first (`GET /api/agent/list`).
    private let firstAgent = Mutex<String?>(nil)

    public init(baseURL: String, user: String, password: String, timeouts: Timeouts = Timeouts(), caFile: String? = nil,
                logger: Logger) throws(RemoteError) {
        let base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        guard let jar = CookieJar() else { throw .malformed("libcurl cannot keep cookies here; Sage needs its session cookie") }
        let transport = CurlTransport(timeouts: timeouts, caFile: caFile, cookies: jar, errorInSuccess: SageEnvelope.errorInSuccess)
        self.baseURL = base
        self.transport = transport
        self.logger = logger
        // The login answers with the session cookie (kept by the jar), an access token and a
        // refresh token, which renews the session without the password while the server takes it.
        let refreshToken = RefreshToken()
        let session = BearerSession { previous throws(RemoteError) -> String in
            if previous != nil, let renewed = Self.refresh(refreshToken, base: base, transport: transport) { return renewed }
            let body = (try? JSONSerialization.data(withJSONObject: ["username_or_email": user, "password": password])) ?? Data()
            let request = HTTPRequest(method: "POST", url: base + "/api/auth/login", headers: ["Accept: application/json"], body: body)
            let data: Any
            do throws(RemoteError) { data = try Self.data(of: transport.perform(request), what: "login") } catch {
                // The server's words are not repeated: an answer may echo the request, password and all.
                switch error {
                case .refused, .rejectedKey, .invalidRequest:
                    // Wrong credentials: as a rejected key is for other servers.
                    throw .rejectedKey("login of \(user) refused")
                case .server(let status, _): throw .server(status: status, message: "login of \(user) failed")
                case .malformed: throw .malformed("login of \(user): an answer that is not Sage's")
                default: throw error
                }
            }
            guard let token = (data as? [String: Any])?["access_token"] as? String, !token.isEmpty else {
                throw .malformed("login: no access_token")
            }
            refreshToken.value.withLock { $0 = (data as? [String: Any])?["refresh_token"] as? String }
            return token
        }
        self.session = session
        let streaming = SageStreaming(base: base, transport: transport, session: session, runIdleTimeout: max(45, timeouts.idle))
        self.streaming = streaming
        runs = SageRunStreams(logger: logger, reading: streaming.readRun, stored: streaming.storedEntries)
    }

    /// The workspace a conversation's files live in: its agent's.
    public func workspaceScope(taskId: String) -> String {
        if let agent = Self.agent(ofWorkspace: taskId) { return "agent " + agent }
        return agents.withLock { $0[taskId] }.map { "agent " + $0 } ?? "conversation " + taskId
    }

    /// An agent's own files are read through `agents/ID` (a task id no conversation has: ids
    /// with a slash could not be in the routes' paths).
    static let agentWorkspacePrefix = "agents/"

    static func agent(ofWorkspace id: String) -> String? {
        id.hasPrefix(agentWorkspacePrefix) ? String(id.dropFirst(agentWorkspacePrefix.count)) : nil
    }

    /// `GET /api/agent/list`: each agent, with its workspace.
    public func listAgents() throws(RemoteError) -> [AgentSummary] {
        SageWire.agents(try get("/api/agent/list", what: "agent list")).map { agent in
            AgentSummary(id: agent.id, name: agent.name, workspaceId: Self.agentWorkspacePrefix + agent.id, details: SageWire.details(agent.row))
        }
    }

    // MARK: Reading

    /// `GET /api/conversations`: numbered pages; `has_next` says whether another follows.
    public func listTasks(from position: PagePosition?, pageSize: Int) throws(RemoteError) -> TaskPage {
        let page = try PagePosition.pageNumber(position, server: "Sage")
        let data = try get("/api/conversations", query: [("page", "\(page)"), ("page_size", "\(pageSize)")], what: "conversation list")
        let (listed, seen) = try SageWire.page(data, requested: page, what: "conversation list")
        agents.withLock { for (id, agent) in seen { $0[id] = agent } }
        var decorated = listed
        decorated.items = listed.items.map(withRunState)
        return decorated
    }

    public func taskInfo(id: String) throws(RemoteError) -> TaskSummary {
        let (info, _) = try conversation(id)
        guard let info else { throw .notFound("conversation \(id): no conversation_info") }
        return withRunState(info)
    }

    /// Sage keeps no status: running is what this mount holds or the server lists as active;
    /// cancelled is a run this mount interrupted (until the next prompt); the rest the
    /// transcript tells.
    private func withRunState(_ summary: TaskSummary) -> TaskSummary {
        var summary = summary
        if runs.wasInterrupted(summary.id) {
            summary.status = .cancelled
            summary.serverStatus = "interrupted"
        } else if runs.isRunning(summary.id) {
            summary.status = .running
            summary.serverStatus = "running"
        }
        return summary
    }

    public func transcript(taskId: String) throws(RemoteError) -> Transcript {
        try conversation(taskId).1
    }

    /// The conversation's agent's files (`POST /api/agent/{agent}/file_workspace`).
    public func workspace(taskId: String) throws(RemoteError) -> [WorkspaceEntry] {
        let agent = try agent(of: taskId)
        let data = try request("POST", "/api/agent/\(URLEncoding.segment(agent))/file_workspace", query: sessionQuery(taskId),
                               body: Data("{}".utf8), what: "workspace of agent \(agent)")
        return try SageWire.workspace(data, what: "workspace of agent \(agent)")
    }

    public func download(taskId: String, path: String, offset: Int64, length: Int64?, ifRange: String?,
                         into sink: (DownloadChunk) -> Bool) throws(RemoteError) -> DownloadResult {
        let agent = try agent(of: taskId)
        let url = self.url("/api/agent/\(URLEncoding.segment(agent))/file_workspace/download",
                           query: [("file_path", path)] + sessionQuery(taskId))
        return try session.perform { (authorization) throws(RemoteError) -> DownloadResult in
            try transport.download(HTTPRequest(url: url, headers: [authorization]), path: path, offset: offset, length: length,
                                   ifRange: ifRange, into: sink) { response throws(RemoteError) in
                _ = try SageEnvelope.data(from: response, what: "file \(path)")
            }
        }
    }

    // MARK: Changing

    /// `POST /api/oss/upload`: the file is stored apart from the conversation; the URL it
    /// answers is named in the conversation's next prompt.
    public func upload(_ body: UploadBody, as name: String, taskId: String, answering question: PendingQuestion?) throws(RemoteError) -> UploadOutcome {
        let url = self.url("/api/oss/upload", query: [])
        let what = "upload of \(name)"
        let data = try session.perform { (authorization) throws(RemoteError) -> Any in
            var request = HTTPRequest(method: "POST", url: url, headers: [authorization, "Accept: application/json"])
            request.upload = (field: "file", body: body, filename: name)
            return try Self.data(of: transport.perform(request), what: what)
        }
        guard let stored = (data as? [String: Any])?["url"] as? String, !stored.isEmpty else { throw .malformed("\(what): no url") }
        return .attachedToNextPrompt(stored)
    }

    /// Cancel interrupts the conversation's run (what it said so far stays); delete removes it.
    public func control(_ command: TaskControl, taskId: String) throws(RemoteError) {
        let id = URLEncoding.segment(taskId)
        switch command {
        case .cancel:
            let answer = try request("POST", "/api/sessions/\(id)/interrupt", query: [], body: Data("{}".utf8), what: "interrupt of \(taskId)")
            // `interrupted: false`: nothing ran (a run that had just ended is not cancelled).
            if (answer as? [String: Any])?["interrupted"] as? Bool != false { runs.interrupted(taskId) }
        case .delete:
            _ = try request("DELETE", "/api/conversations/\(id)", query: [], body: nil, what: "delete of \(taskId)")
        case .allow, .deny:
            throw .refused("Sage's agents ask no permission")
        }
    }

    // MARK: Plumbing

    /// A conversation's summary and transcript (`GET /api/conversations/{id}/messages`).
    private func conversation(_ id: String) throws(RemoteError) -> (TaskSummary?, Transcript) {
        let what = "conversation \(id)"
        let data = try get("/api/conversations/\(URLEncoding.segment(id))/messages", what: what)
        let (info, agent, transcript) = try SageWire.conversation(data, id: id, isRunning: runs.isRunning(id),
                                                                 interrupted: runs.wasInterrupted(id), what: what)
        if let agent { agents.withLock { $0[id] = agent } }
        // A run this mount holds: what it said so far, not stored yet, grows at the end.
        let stored = Set(transcript.entries.map(\.id))
        var withLive = transcript
        withLive.entries += runs.liveEntries(id).filter { !stored.contains($0.id) }
        return (info, withLive)
    }

    func remember(agent: String, of taskId: String) {
        agents.withLock { $0[taskId] = agent }
    }

    /// A new access token for the refresh token (`POST /api/oauth2/token`), or nil when the
    /// server has none to give (no refresh token, no such route, refused): then the user logs in.
    private static func refresh(_ refreshToken: RefreshToken, base: String, transport: CurlTransport) -> String? {
        guard let token = refreshToken.value.withLock({ $0 }) else { return nil }
        let form = "grant_type=refresh_token&refresh_token=" + URLEncoding.value(token)
        let request = HTTPRequest(method: "POST", url: base + "/api/oauth2/token",
                                  headers: ["Accept: application/json", "Content-Type: application/x-www-form-urlencoded"], body: Data(form.utf8))
        guard case .success(let response) = transport.perform(request), (200..<300).contains(response.status),
              let answer = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any] else { return nil }
        // A bare OAuth2 answer, or one in Sage's envelope.
        let fields = (answer["data"] as? [String: Any]) ?? answer
        guard let access = fields["access_token"] as? String, !access.isEmpty else { return nil }
        refreshToken.value.withLock { $0 = fields["refresh_token"] as? String ?? token }
        return access
    }

    /// The server's first agent, which new conversations get.
    func defaultAgent() throws(RemoteError) -> String {
        if let known = firstAgent.withLock({ $0 }) { return known }
        let data = try get("/api/agent/list", what: "agent list")
        guard let first = SageWire.agents(data).first else { throw .notFound("the server has no agent to start a conversation with") }
        firstAgent.withLock { $0 = first.id }
        return first.id
    }

    /// The conversation a workspace request is for (none for an agent's own folder).
    private func sessionQuery(_ taskId: String) -> [(String, String)] {
        Self.agent(ofWorkspace: taskId) == nil ? [("session_id", taskId)] : []
    }

    func agent(of taskId: String) throws(RemoteError) -> String {
        if let agent = Self.agent(ofWorkspace: taskId) { return agent }
        if let known = agents.withLock({ $0[taskId] }) { return known }
        _ = try conversation(taskId)
        guard let agent = agents.withLock({ $0[taskId] }) else { throw .malformed("conversation \(taskId): no agent_id") }
        return agent
    }

    private func get(_ path: String, query: [(String, String)] = [], what: String) throws(RemoteError) -> Any {
        try request("GET", path, query: query, body: nil, what: what)
    }

    /// A request with the session's token, logged in again once if the server says the
    /// session is gone.
    private func request(_ method: String, _ path: String, query: [(String, String)], body: Data?, what: String) throws(RemoteError) -> Any {
        try Self.request(method, url(path, query: query), body: body, what: what, transport: transport, session: session)
    }

    static func request(_ method: String, _ url: String, body: Data?, what: String, transport: CurlTransport,
                        session: BearerSession) throws(RemoteError) -> Any {
        try session.perform { (authorization) throws(RemoteError) -> Any in
            try data(of: transport.perform(HTTPRequest(method: method, url: url, headers: [authorization, "Accept: application/json"], body: body)),
                     what: what)
        }
    }

    private static func data(of outcome: Result<HTTPResponse, TransportFailure>, what: String) throws(RemoteError) -> Any {
        switch outcome {
        case .success(let response): try SageEnvelope.data(from: response, what: what)
        case .failure(let failure): throw failure.remoteError(what: what)
        }
    }

    func url(_ path: String, query: [(String, String)]) -> String {
        Self.url(baseURL, path, query: query)
    }

    static func url(_ base: String, _ path: String, query: [(String, String)]) -> String {
        guard !query.isEmpty else { return base + path }
        return base + path + "?" + query.map { "\($0.0)=\(URLEncoding.value($0.1))" }.joined(separator: "&")
    }
}

/// The refresh token of the session's last login or refresh.
final class RefreshToken: Sendable {
    let value = Mutex<String?>(nil)
}
