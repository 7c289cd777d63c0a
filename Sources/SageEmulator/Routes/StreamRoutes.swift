import Foundation
import Hummingbird
import NIOCore

/// `POST /api/web-stream` (a run's JSON lines, as it goes), `GET /api/stream/resume/{id}`
/// (from a chunk index), `POST /api/sessions/{id}/interrupt`, and
/// `GET /api/stream/active_sessions` (SSE of the running conversations).
struct StreamRoutes {
    let store: SageStore
    let runs: SageRuns
    let faults: SageFaults
    let heartbeatSeconds: Double

    func register(on router: Router<some RequestContext>) {
        router.post("/api/web-stream") { request, _ in try await start(request) }
        router.get("/api/stream/resume/:id") { request, context in
            if faults.isMissing("resume") { return Response(status: .notFound) }
            let id = context.parameters.get("id") ?? ""
            let from = Int(request.sageQuery("last_index") ?? "") ?? 0
            guard let run = runs.run(id) else {
                return Self.lines(["{\"resume_fallback\":true,\"session_id\":\"\(id)\",\"type\":\"stream_end\"}"])
            }
            return follow(run, from: from)
        }
        router.post("/api/sessions/:id/interrupt") { _, context in
            let id = context.parameters.get("id") ?? ""
            return SageResponse.ok(["session_id": id, "interrupted": await runs.interrupt(id)])
        }
        router.get("/api/stream/active_sessions") { [heartbeatSeconds] _, _ in
            if faults.isMissing("active_sessions") { return Response(status: .notFound) }
            return Response(status: .ok, headers: [.contentType: "text/event-stream"], body: ResponseBody { writer in
                var last: [String]? = nil
                var lastWrite = Date()
                while !Task.isCancelled {
                    let active = runs.active.sorted()
                    if active != last {
                        let items = active.map { ["session_id": $0] }
                        let data = (try? JSONSerialization.data(withJSONObject: items)) ?? Data("[]".utf8)
                        try await writer.write(ByteBuffer(string: "data: " + String(decoding: data, as: UTF8.self) + "\n\n"))
                        last = active
                        lastWrite = Date()
                    } else if Date().timeIntervalSince(lastWrite) > heartbeatSeconds {
                        try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                        lastWrite = Date()
                    }
                    try await Task.sleep(for: .milliseconds(100))
                }
                try await writer.finish(nil)
            })
        }
    }

    private func start(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 4 << 20)
        if faults.takePromptFailure() {
            return SageResponse.error(SageError(code: 500, message: "Internal Server Error", detail: "prompt failed (injected)"), withHTTP200: false)
        }
        let fields = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
        let messages = fields["messages"] as? [[String: Any]] ?? []
        guard let last = messages.last(where: { $0["role"] as? String == "user" }) ?? messages.last else {
            throw SageError(code: 500, message: "消息列表不能为空", detail: "messages must not be empty")
        }
        let prompt = (last["content"] as? String)
            ?? ((last["content"] as? [[String: Any]])?.compactMap { $0["text"] as? String }.joined(separator: "\n")) ?? ""
        let messageId = last["message_id"] as? String
        let sessionId = fields["session_id"] as? String ?? "sess_" + UUID().uuidString.prefix(12).lowercased()
        let agentId = (fields["agent_id"] as? String) ?? store.conversation(sessionId)?.agentId ?? store.agents[0].id
        guard store.agent(agentId) != nil else { throw SageError.notFound("agent \(agentId)") }
        return follow(await runs.start(sessionId: sessionId, agentId: agentId, prompt: prompt, messageId: messageId), from: 0)
    }

    /// The run's chunks from `index`, one a line, until `stream_end` (or the injected drop).
    private func follow(_ run: SageRuns.Run, from index: Int) -> Response {
        let dropAfter = faults.current.dropStreamsAfter
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: ResponseBody { [heartbeatSeconds] writer in
            var next = index
            var sent = 0
            var lastWrite = Date()
            while true {
                let (chunks, over) = run.chunks(from: next)
                for line in chunks {
                    // The connection breaks mid-run; the run goes on without its reader.
                    if dropAfter > 0, sent >= dropAfter { throw CancellationError() }
                    try await writer.write(ByteBuffer(string: line + "\n"))
                    next += 1
                    sent += 1
                }
                if over && chunks.isEmpty {
                    // Asked from past the end: the server says the run is over, as the real one does.
                    if sent == 0 {
                        try await writer.write(ByteBuffer(string: "{\"resume_fallback\":true,\"session_id\":\"\(run.sessionId)\",\"type\":\"stream_end\"}\n"))
                    }
                    break
                }
                // Polled, not waited on: a wait would hold one of Swift's few pool threads.
                if chunks.isEmpty {
                    try await Task.sleep(for: .milliseconds(10))
                    // A quiet run says it is alive; heartbeats are no chunks (resume indexes skip them).
                    if Date().timeIntervalSince(lastWrite) > heartbeatSeconds {
                        try await writer.write(ByteBuffer(string: ": heartbeat\n"))
                        lastWrite = Date()
                    }
                } else {
                    lastWrite = Date()
                }
            }
            try await writer.finish(nil)
        })
    }

    static func lines(_ lines: [String]) -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: lines.map { $0 + "\n" }.joined())))
    }
}
