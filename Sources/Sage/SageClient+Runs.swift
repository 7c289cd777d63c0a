import Foundation
import SynapseCore
import SynapseHTTP

/// Prompts and the runs they start: a prompt is `POST /api/web-stream`, whose answer is the
/// run's JSON lines for as long as it runs; the mount holds that stream (`SageRunStreams`)
/// and the feed hands on what it says. Runs started elsewhere are found through
/// `GET /api/stream/active_sessions` and followed from the resume route.
extension SageClient {
    /// Sends the prompt as the conversation's next user message (a draft's first makes the
    /// conversation, under the draft's id: Sage lets the client choose it). Attached uploads'
    /// URLs follow the text, one a line.
    @discardableResult
    public func send(_ prompt: Prompt) throws(RemoteError) -> SentPrompt {
        let agent = prompt.startsTask ? try defaultAgent() : try agent(of: prompt.taskId)
        // The client names the user's message, so the stored one is known as the same entry.
        let messageId = "msg_" + UUID().uuidString.prefix(12).lowercased()
        let content = prompt.attachments.isEmpty ? prompt.text
            : prompt.text + "\n\n" + prompt.attachments.map { "Attached file: \($0)" }.joined(separator: "\n")
        let request: [String: Any] = [
            "messages": [["message_id": messageId, "role": "user", "content": content]],
            "session_id": prompt.taskId,
            "agent_id": agent,
        ]
        guard let body = try? JSONSerialization.data(withJSONObject: request) else { throw .malformed("prompt for \(prompt.taskId): not encodable") }
        remember(agent: agent, of: prompt.taskId)
        let entry = TranscriptEntry(id: messageId, time: Int64((Date().timeIntervalSince1970 * 1000).rounded()), speaker: .user,
                                    text: content, attributes: ["role": "user"])
        try runs.start(taskId: prompt.taskId, request: body, prompt: entry)
        return SentPrompt()
    }

    /// The feed: what the held runs say, and runs started elsewhere (watched on a thread of
    /// the feed's own while it is followed).
    public func followFeed(onEvent: (FeedEvent) -> Bool) throws(RemoteError) {
        let watch = ActiveSessionsWatch(client: self)
        defer {
            watch.stop()
            runs.forgetActiveSessions()
        }
        guard onEvent(.heartbeat) else { return }
        while Cancellation.current?.isCancelled != true {
            for event in runs.takeEvents(waitingUpTo: 0.25) {
                guard onEvent(event) else { return }
            }
        }
    }

    /// Ends every run stream held (the runs go on on the server).
    public func stop() {
        runs.stop()
    }
}

/// The watch over `active_sessions` while the feed is followed: a thread that reconnects
/// with backoff, gives up only on a server without the route, and is stopped with the feed.
final class ActiveSessionsWatch: Sendable {
    private let cancellation = Cancellation()
    private let done = DispatchSemaphore(value: 0)

    init(client: SageClient) {
        let thread = Thread { [cancellation, done] in
            Cancellation.run(cancellation) { Self.watch(client, cancellation) }
            done.signal()
        }
        thread.name = "sage-active"
        thread.start()
    }

    func stop() {
        cancellation.cancel()
        done.wait()
    }

    private static func watch(_ client: SageClient, _ cancellation: Cancellation) {
        var backoff = 0.5
        while !cancellation.isCancelled {
            let opened = Date()
            do {
                try client.streaming.watchActiveSessions { client.runs.activeSessions($0) }
            } catch .routeMissing(let why), .notFound(let why) {
                // Sage answers a missing route with a bare 404 (not found).
                client.logger.notice("runs started elsewhere are not followed: \(why)")
                client.runs.forgetActiveSessions()
                return
            } catch {
                if cancellation.isCancelled { return }
                client.logger.info("active sessions watch dropped: \(error)")
            }
            // While it is down, what it said may go stale.
            client.runs.forgetActiveSessions()
            if Date().timeIntervalSince(opened) > 10 { backoff = 0.5 }
            let until = Date().addingTimeInterval(backoff)
            while Date() < until, !cancellation.isCancelled { Thread.sleep(forTimeInterval: 0.05) }
            backoff = min(backoff * 2, 30)
        }
    }
}

/// The long requests of runs: a run's JSON lines and the list of running conversations,
/// each held open for as long as the server sends (heartbeats keep an idle one alive).
struct SageStreaming: Sendable {
    let base: String
    let transport: CurlTransport
    let session: BearerSession
    /// No total timeout (runs last long), only an idle one, longer than the server's heartbeats.
    let runIdleTimeout: Double

    /// The conversation's stored messages that are final (`GET …/messages`).
    func storedEntries(taskId: String) throws(RemoteError) -> [TranscriptEntry] {
        let what = "conversation \(taskId)"
        let url = SageClient.url(base, "/api/conversations/\(URLEncoding.segment(taskId))/messages", query: [])
        let data = try SageClient.request("GET", url, body: nil, what: what, transport: transport, session: session)
        return try SageWire.conversation(data, id: taskId, isRunning: true, what: what).2.entries.filter(\.isFinal)
    }

    /// Reads a run's JSON lines: the prompt's own answer, or a resume from chunk `lastIndex`.
    func readRun(taskId: String, prompt: Data?, lastIndex: Int, lines: ([[UInt8]]) -> Bool) throws(RemoteError) {
        let url = prompt == nil
            ? SageClient.url(base, "/api/stream/resume/\(URLEncoding.segment(taskId))", query: [("last_index", "\(lastIndex)")])
            : SageClient.url(base, "/api/web-stream", query: [])
        let what = prompt == nil ? "run stream of \(taskId)" : "prompt for \(taskId)"
        try session.perform { (authorization) throws(RemoteError) in
            let request = HTTPRequest(method: prompt == nil ? "GET" : "POST", url: url, headers: [authorization], body: prompt)
            var parser = JSONLinesParser(maxLineBytes: Self.maxLineBytes)
            var envelopeError: RemoteError?
            var first = true
            let outcome = withoutActuallyEscaping(lines) { lines in
                transport.stream(request, idleTimeout: runIdleTimeout) { _, chunk in
                    let (seen, dropped) = (parser.linesSeen, parser.linesDropped)
                    var values = parser.feed(chunk)
                    // A line too long to keep still counts where the run is (an empty value stands for it).
                    values += Array(repeating: [], count: parser.linesDropped - dropped)
                    // An error envelope where the stream should be (sent as text): the error it is.
                    if first, let value = values.first {
                        first = false
                        if let error = Self.envelopeError(value) {
                            envelopeError = error
                            return false
                        }
                    }
                    // Any whole line, a heartbeat too, says the run is alive.
                    return parser.linesSeen == seen || lines(values)
                }
            }
            if let envelopeError { throw envelopeError }
            switch outcome {
            case .failure(.aborted):
                return
            case .failure(let failure):
                throw failure.remoteError(what: what)
            case .success(let (_, _, bodyError?)):
                throw bodyError
            case .success(let (response, _, nil)):
                guard (200..<300).contains(response.status) else {
                    _ = try SageEnvelope.data(from: response, what: what)
                    throw .server(status: response.status, message: "\(what) answered \(response.status)")
                }
                // A last line without its line end counts only when it is whole.
                if let last = parser.finish(), (try? JSONSerialization.jsonObject(with: Data(last))) != nil { _ = lines([last]) }
            }
        }
    }

    /// Run chunks longer than this are dropped (counted): a delta is a few words.
    static let maxLineBytes = 4 << 20

    /// The error a stream's first value stands for: an envelope (`code`, no chunk's fields).
    static func envelopeError(_ value: [UInt8]) -> RemoteError? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(value)) as? [String: Any],
              object["code"] != nil, object["type"] == nil, object["message_id"] == nil else { return nil }
        return SageEnvelope.errorInSuccess(HTTPResponse(status: 200, body: Data(value)))
    }

    /// `GET /api/stream/active_sessions`: SSE whose every event is the list of running
    /// conversations (objects with `session_id`, or ids).
    func watchActiveSessions(onChange: (Set<String>) -> Void) throws(RemoteError) {
        let what = "active sessions"
        let url = SageClient.url(base, "/api/stream/active_sessions", query: [])
        try session.perform { (authorization) throws(RemoteError) in
            var parser = SSEParser()
            let request = HTTPRequest(url: url, headers: [authorization, "Accept: text/event-stream"])
            let outcome = withoutActuallyEscaping(onChange) { onChange in
                transport.stream(request, idleTimeout: runIdleTimeout) { _, chunk in
                    for event in parser.feed(chunk) {
                        if let active = SageWire.sessionIds(event.data) { onChange(active) }
                    }
                    return true
                }
            }
            switch outcome {
            case .failure(.aborted): return
            case .failure(let failure): throw failure.remoteError(what: what)
            case .success(let (_, _, bodyError?)): throw bodyError
            case .success(let (response, _, nil)):
                if !(200..<300).contains(response.status) { _ = try SageEnvelope.data(from: response, what: what) }
            }
        }
    }
}
