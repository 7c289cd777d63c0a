import Foundation
import Logging
import Synchronization
import SynapseCore
import SynapseHTTP

/// A Synapse server (API v1) on libcurl: agents, orchestrations, and the chat sessions and
/// orchestration runs this mount makes (the server lists neither and gives no history back:
/// their transcripts are the mount's own record of the streams it held). Tasks have no files.
/// Blocking: call it from threads of your own.
public final class SynapseAIClient: AgentBackend {
    public let baseURL: String
    public var cacheNamespace: String { "synapse " + baseURL }
    public var feedIdentity: String? { nil }
    public var capabilities: BackendCapabilities {
        var capabilities = BackendCapabilities()
        capabilities.files = false
        capabilities.uploads = false
        capabilities.agents = true
        capabilities.agentChoice = true
        capabilities.orchestrations = true
        // A second turn while one streams would interleave two answers in one session.
        capabilities.promptWhileRunning = false
        return capabilities
    }
    typealias Run = HeldRun<SynapseStreamLog>

    let transport: CurlTransport
    let apiKey: String
    let logger: Logger
    let sessions: SynapseSessions
    private let queue = FeedEventQueue(limit: 100_000)
    /// Runs by task, readers still in flight, whether the mount stops, and the runs `ctl cancel` closed.
    private let runs = Mutex<(byTask: [String: Run], readers: [ObjectIdentifier: Run], stopped: Bool, cancelled: Set<ObjectIdentifier>)>(([:], [:], false, []))
    private let idleTimeout: Double

    public init(baseURL: String, apiKey: String, timeouts: Timeouts = Timeouts(), caFile: String? = nil, stateDirectory: URL, logger: Logger) {
        var base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        if !base.hasSuffix("/api/v1") { base += "/api/v1" }
        self.baseURL = base
        self.apiKey = apiKey
        self.logger = logger
        transport = CurlTransport(timeouts: timeouts, caFile: caFile, errorInSuccess: { _ in nil })
        sessions = SynapseSessions(directory: stateDirectory)
        // Chat turns think quietly (the server sends no heartbeats): a long idle allowance.
        idleTimeout = max(120, timeouts.idle)
    }

    // MARK: Reading

    public func listTasks(from position: PagePosition?, pageSize: Int) throws(RemoteError) -> TaskPage {
        let page = try PagePosition.pageNumber(position, server: "Synapse")
        let all = sessions.all
        let slice = all.dropFirst((page - 1) * pageSize).prefix(pageSize)
        return TaskPage(items: slice.map(summary), next: (page - 1) * pageSize + slice.count < all.count ? .number(page + 1) : nil,
                        totalItems: all.count)
    }

    public func taskInfo(id: String) throws(RemoteError) -> TaskSummary {
        guard let session = sessions.session(id) else { throw .notFound("session \(id): not one this mount made") }
        return summary(session)
    }

    private func summary(_ session: SynapseSessions.Session) -> TaskSummary {
        let firstLine = session.entries.first { $0.kind == "user" }?.text.split(whereSeparator: \.isNewline).first
        let name = firstLine.map { String($0.prefix(60)).trimmingCharacters(in: .whitespaces) } ?? session.id
        var details: [String: String] = ["transcript": "this mount's record of the streams it held (Synapse keeps no history a client can read)"]
        details["agent"] = session.agent
        details["runId"] = session.runId
        var task = TaskSummary(id: session.id, name: name, createdAt: session.createdAt, updatedAt: session.updatedAt,
                               orchestration: session.orchestration, details: details)
        // A cancel is the transcript's to say (a listed `cancelled` would outlast the next turn).
        if run(of: session.id) != nil {
            task.status = .running
            task.serverStatus = "streaming"
        }
        return task
    }

    public func transcript(taskId: String) throws(RemoteError) -> Transcript {
        guard let session = sessions.session(taskId) else { throw .notFound("session \(taskId): not one this mount made") }
        return Transcript(entries: session.entries.map(\.entry), cancelled: session.isCancelled)
    }

    public func workspace(taskId: String) throws(RemoteError) -> [WorkspaceEntry] { [] }

    public func workspaceScope(taskId: String) -> String { "none" }

    public func download(taskId: String, path: String, offset: Int64, length: Int64?, ifRange: String?,
                         into sink: (DownloadChunk) -> Bool) throws(RemoteError) -> DownloadResult {
        throw .notFound("\(path): Synapse tasks have no files")
    }

    public func listAgents() throws(RemoteError) -> [AgentSummary] {
        guard let rows = try get("/agents") as? [[String: Any]] else { throw .malformed("agents: not a list") }
        return rows.compactMap { row in
            guard let id = row["id"] as? String else { return nil }
            var details: [String: String] = [:]
            for key in ["type", "model", "description"] { if let value = row[key] as? String { details[key] = value } }
            return AgentSummary(id: id, name: row["name"] as? String ?? id, details: details)
        }
    }

    /// The orchestrations, each with its steps (`GET /orchestrations` gives only their count).
    public func listOrchestrations() throws(RemoteError) -> [OrchestrationSummary] {
        guard let rows = try get("/orchestrations") as? [[String: Any]] else { throw .malformed("orchestrations: not a list") }
        var orchestrations: [OrchestrationSummary] = []
        for row in rows.prefix(Self.maxOrchestrations) {
            guard let id = row["id"] as? String else { continue }
            let detail: [String: Any]
            do throws(RemoteError) {
                detail = try get("/orchestrations/" + URLEncoding.segment(id)) as? [String: Any] ?? row
            } catch .notFound {
                continue  // deleted since it was listed
            } catch {
                // Its steps cannot be read now: it is listed all the same (its runs stay reachable).
                logger.debug("orchestration \(id): steps not read: \(error)")
                detail = row
            }
            let steps = (detail["steps"] as? [[String: Any]] ?? []).compactMap { step -> OrchestrationSummary.Step? in
                guard let stepId = step["id"] as? String else { return nil }
                let label = (step["label"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? step["name"] as? String ?? stepId
                return OrchestrationSummary.Step(id: stepId, name: label, kind: step["type"] as? String ?? "step", agent: step["agent_id"] as? String)
            }
            var details: [String: String] = [:]
            if let description = detail["description"] as? String ?? row["description"] as? String { details["description"] = description }
            orchestrations.append(OrchestrationSummary(id: id, name: detail["name"] as? String ?? row["name"] as? String ?? id, steps: steps, details: details))
        }
        return orchestrations
    }

    /// Orchestrations read, at most (each costs a request for its steps).
    static let maxOrchestrations = 200

    // MARK: Changing

    public func upload(_ body: UploadBody, as name: String, taskId: String, answering question: PendingQuestion?) throws(RemoteError) -> UploadOutcome {
        throw .refused("Synapse tasks take no files")
    }

    public func control(_ command: TaskControl, taskId: String) throws(RemoteError) {
        switch command {
        case .cancel:
            // Synapse cannot stop a turn or run: closing its stream ends it on the server. Marked
            // only while its reader is registered (it unmarks it when it ends).
            let run = runs.withLock { r -> Run? in
                guard let run = r.byTask[taskId], !run.isFinished, r.readers[ObjectIdentifier(run)] != nil else { return nil }
                r.cancelled.insert(ObjectIdentifier(run))
                return run
            }
            guard let run else { throw .refused("session \(taskId) has no turn in flight") }
            run.cancellation.cancel()
        case .delete:
            // Only this mount's record: the server keeps its history files.
            guard sessions.remove(taskId) else { throw .notFound("session \(taskId)") }
        case .allow, .deny:
            throw .refused("Synapse's chat asks no permission")
        }
    }

    /// A chat turn (`POST /chat/stream` with the session's id, the mount's), or an
    /// orchestration run's start (`POST /orchestrations/{id}/run/stream`) or, while it waits
    /// for a human, its answer (`POST /orchestrations/runs/{run_id}/resume/stream`); the
    /// stream is held on a thread.
    @discardableResult
    public func send(_ prompt: Prompt) throws(RemoteError) -> SentPrompt {
        let session = sessions.session(prompt.taskId)
        if !prompt.startsTask, session == nil { throw .notFound("session \(prompt.taskId): not one this mount made") }
        let orchestration = session?.orchestration ?? (prompt.startsTask ? prompt.orchestration : nil)
        // A first prompt whose sender gave up waiting may have started the run all the same: the record says.
        let (path, request) = try route(prompt, session: session, orchestration: orchestration)
        let entry = TranscriptEntry(id: "msg_" + UUID().uuidString.prefix(12).lowercased(), time: Int64((Date().timeIntervalSince1970 * 1000).rounded()),
                                    speaker: .user, text: prompt.text)
        let run = Run(taskId: prompt.taskId, prompt: entry, progress: SynapseStreamLog(runId: "turn-" + UUID().uuidString.prefix(8).lowercased()))
        try runs.withLock { (r) throws(RemoteError) in
            guard !r.stopped else { throw .interrupted("the mount is stopping") }
            if let running = r.byTask[prompt.taskId], !running.isFinished { throw .busy("\(prompt.taskId) is answering; wait, or `echo cancel > ctl`") }
            // Two answers to one pause: the second finds the pause answered.
            if path.hasSuffix("/resume/stream"), sessions.session(prompt.taskId)?.isPaused != true {
                throw .invalidRequest("run of \(prompt.taskId) is no longer waiting for an answer")
            }
            r.byTask[prompt.taskId] = run
            r.readers[ObjectIdentifier(run)] = run
        }
        let body = (try? JSONSerialization.data(withJSONObject: request)) ?? Data()
        let deliver = deliver(run, orchestration: orchestration)
        let thread = Thread { [self] in
            Cancellation.run(run.cancellation) { read(run, path: path, body: body, orchestration: orchestration, deliver: deliver) }
            _ = run.refused(.interrupted("the mount is stopping: prompt for \(run.taskId) not confirmed"))
            runs.withLock { _ = $0.readers.removeValue(forKey: ObjectIdentifier(run)) }
            run.readerDone()
        }
        thread.name = "synapse-stream"
        thread.start()
        try run.waitUntilAccepted(within: 5, enqueue: deliver)
        return SentPrompt()
    }

    /// Where a prompt goes, and with what body.
    private func route(_ prompt: Prompt, session: SynapseSessions.Session?, orchestration: String?) throws(RemoteError) -> (String, [String: Any]) {
        guard let orchestration else {
            var body: [String: Any] = ["message": prompt.text, "session_id": prompt.taskId]
            // Every turn names the session's agent: the server keeps a history per agent.
            body["agent"] = prompt.agent ?? session?.agent
            return ("/chat/stream", body)
        }
        // A run never started (its stream failed before the server named it): this starts it.
        guard let session, let runId = session.runId else {
            return ("/orchestrations/\(URLEncoding.segment(orchestration))/run/stream", ["message": prompt.text])
        }
        // The server resumes any run it is asked to (even a finished one): the mount keeps track.
        guard session.isPaused else {
            throw .invalidRequest("run \(runId) is not waiting for an answer (it has ended): make a new run folder with mkdir to run again")
        }
        return ("/orchestrations/runs/\(URLEncoding.segment(runId))/resume/stream", ["response": Self.answer(prompt.text, fields: session.inputFields ?? [])])
    }

    /// The answer to a pause: a JSON object is sent as it is; text answers the one field asked
    /// for, or goes as a string (the server stores it as `{"response": text}`).
    static func answer(_ text: String, fields: [String]) -> Any {
        if let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] { return object }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return fields.count == 1 ? [fields[0]: trimmed] : trimmed
    }

    public func followFeed(onEvent: (FeedEvent) -> Bool) throws(RemoteError) {
        guard onEvent(.heartbeat) else { return }
        while Cancellation.current?.isCancelled != true {
            for event in queue.take(waitingUpTo: 0.25) {
                guard onEvent(event) else { return }
            }
        }
    }

    /// How long an unmount waits for turns in flight before it closes them.
    static let unmountWait = 30.0

    /// Unmount: turns in flight are waited for (up to `unmountWait`; Synapse loses a turn whose
    /// stream goes away), then closed, the mount's record saying so.
    public func stop() {
        let readers = runs.withLock { r in
            r.stopped = true
            return Array(r.readers.values)
        }
        Run.stop(readers, waitingUpTo: Self.unmountWait, what: "turn", why: "Synapse loses a turn whose stream closes") {
            logger.warning("\($0)")
        }
    }

    // MARK: Plumbing

    private func run(of taskId: String) -> Run? {
        runs.withLock { $0.byTask[taskId] }.flatMap { $0.isFinished ? nil : $0 }
    }

    /// Hands a run's events on, recording its final entries first (the durable transcript).
    private func deliver(_ run: Run, orchestration: String?) -> @Sendable ([FeedEvent]) -> Void {
        { [sessions, queue] events in
            let entries = events.compactMap { if case .entry(_, let entry) = $0 { entry } else { nil } }
            if !entries.isEmpty { sessions.record(entries, session: run.taskId, orchestration: orchestration) }
            queue.add(events)
        }
    }

    private func read(_ run: Run, path: String, body: Data, orchestration: String?, deliver: @escaping @Sendable ([FeedEvent]) -> Void) {
        var failure: RemoteError?
        var heard = false
        let request = HTTPRequest(method: "POST", url: baseURL + path,
                                  headers: ["Authorization: Bearer \(apiKey)", "Accept: text/event-stream"], body: body)
        var parser = SSEParser()
        // What the stream said of the session (the run's id, a pause's fields, the agent), recorded as it changes.
        var said: (run: String?, fields: [String]?, agent: String?) = (nil, nil, nil)
        let outcome = transport.stream(request, idleTimeout: idleTimeout) { _, chunk in
            for event in parser.feed(chunk) {
                guard let object = (try? JSONSerialization.jsonObject(with: Data(event.data.utf8))) as? [String: Any] else { continue }
                heard = true
                let (events, done, now) = run.progress.withLock { log in
                    (log.take(object, taskId: run.taskId), log.done, (run: log.orchestrationRun, fields: log.inputFields, agent: log.agent))
                }
                if now != said {
                    said = now
                    self.sessions.record([], session: run.taskId, orchestration: orchestration) { session in
                        if let runId = now.run { session.runId = runId }
                        if let fields = now.fields { session.inputFields = fields }
                        if let agent = now.agent { session.agent = agent }
                    }
                }
                // Taken: the sender goes on once what the stream said of the session is recorded.
                run.accepted(enqueue: deliver)
                if done { run.finish() }
                deliver(events)
                if done { return false }
            }
            return true
        }
        switch outcome {
        case .failure(.aborted): break
        case .failure(let transportFailure): failure = transportFailure.remoteError(what: "turn of \(run.taskId)")
        case .success(let (response, _, _)):
            if !(200..<300).contains(response.status) { failure = Self.error(response, what: "turn of \(run.taskId)") }
        }
        // A success with nothing in it took nothing: the sender hears so, if it still waits.
        if !heard, failure == nil, !run.cancellation.isCancelled { failure = .malformed("\(path): the server answered with no events") }
        if !heard, let failure, run.refused(failure) { return }
        let (answered, done) = run.progress.withLock { ($0.answered, $0.done) }
        let byUser = runs.withLock { $0.cancelled.remove(ObjectIdentifier(run)) != nil }
        if !heard, !byUser, path.hasSuffix("/resume/stream"), let question = sessions.session(run.taskId)?.entries.last(where: { $0.kind == "asks" }) {
            // The answer never reached the server (nothing came back): the run still waits, so
            // the question is asked again, to be answered by the next prompt.
            let why = failure?.description ?? "the server said nothing"
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            deliver([.entry(taskId: run.taskId, TranscriptEntry(id: "\(run.taskId)-\(UUID().uuidString.prefix(6))-unsent", time: now, speaker: .notice,
                                                                text: "the answer did not reach the server (\(why)); the run still waits: answer again")),
                     .entry(taskId: run.taskId, TranscriptEntry(id: "\(run.taskId)-\(UUID().uuidString.prefix(6))-asks", time: now,
                                                                speaker: .agentAsks(SynapseStreamLog.pause), text: question.text))])
        } else if !answered, !done {
            let isRun = run.progress.withLock { $0.orchestrationRun } != nil || sessions.session(run.taskId)?.orchestration != nil
            let id = "\(run.taskId)-\(UUID().uuidString.prefix(6))-" + (byUser ? "cancelled" : "lost")
            let entry: TranscriptEntry
            if byUser {
                entry = TranscriptEntry(id: id, time: Int64(Date().timeIntervalSince1970 * 1000), speaker: .notice,
                                        text: isRun ? "run cancelled: its stream was closed, which ends it on the server (Synapse cannot resume it)"
                                                    : "turn cancelled: its stream was closed (Synapse keeps no turn whose stream is closed)")
                sessions.record([], session: run.taskId) { $0.cancelNotice = id }
            } else {
                let why = failure?.description ?? "the server closed the stream"
                entry = TranscriptEntry(id: id, time: Int64(Date().timeIntervalSince1970 * 1000), speaker: .error,
                                        text: isRun ? "the run's stream ended before the run paused or finished (\(why)); Synapse cannot resume a run whose stream is lost"
                                                    : "the turn's stream ended before the agent answered (\(why)); Synapse keeps no turn whose stream is lost")
            }
            deliver([.entry(taskId: run.taskId, entry)])
        }
        run.finish()
        queue.add([.changed(taskId: run.taskId)])
    }

    func get(_ path: String) throws(RemoteError) -> Any {
        let what = "GET \(path)"
        switch transport.perform(HTTPRequest(url: baseURL + path, headers: ["Authorization: Bearer \(apiKey)", "Accept: application/json"])) {
        case .failure(let failure): throw failure.remoteError(what: what)
        case .success(let response):
            if let error = Self.error(response, what: what) { throw error }
            guard let value = try? JSONSerialization.jsonObject(with: response.body, options: .fragmentsAllowed) else { throw .malformed("\(what): not JSON") }
            return value
        }
    }

    /// FastAPI's `{detail}` with the HTTP status; nil for a success.
    static func error(_ response: HTTPResponse, what: String) -> RemoteError? {
        guard !(200..<300).contains(response.status) else { return nil }
        let detail = ((try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any])?["detail"].map { "\($0)" }
            ?? String(decoding: response.body.prefix(200), as: UTF8.self)
        switch response.status {
        case 401, 403: return .rejectedKey("\(what): \(detail)")
        case 404: return .notFound("\(what): \(detail)")
        case 400: return .refused("\(what): \(detail)")
        case 422: return .invalidRequest("\(what): \(detail)")
        default: return .server(status: response.status, message: "\(what): \(detail)")
        }
    }
}
