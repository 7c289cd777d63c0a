import Foundation
import Hummingbird
import NIOCore
import SynapseEmulatorKit

/// An error as FastAPI answers it: `{"detail": …}` with the HTTP status.
struct DetailError: Error {
    var status: HTTPResponse.Status
    var detail: String
}

enum SynapseAIResponse {
    static func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A data-only SSE stream: `events` writes each event through `send`; the stream is cut
    /// after `dropAfter` events when set (the work is lost with it, as the server's is).
    static func stream(dropAfter: Int, _ events: @escaping @Sendable (_ send: (_ event: [String: Any]) async throws -> Void) async throws -> Void) -> Response {
        Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: ResponseBody { writer in
            var sent = 0
            try await events { event in
                if dropAfter > 0, sent >= dropAfter { throw CancellationError() }
                let data = (try? JSONSerialization.data(withJSONObject: event, options: [.withoutEscapingSlashes])) ?? Data()
                try await writer.write(ByteBuffer(string: "data: " + String(decoding: data, as: UTF8.self) + "\n\n"))
                sent += 1
            }
            try await writer.finish(nil)
        })
    }
}

extension Request {
    func synapseBody() async throws -> [String: Any] {
        let body = try await self.body.collect(upTo: 8 << 20)
        guard let object = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] else {
            throw DetailError(status: .unprocessableContent, detail: "body must be a JSON object")
        }
        return object
    }
}

/// The API key check in front of every v1 route, and `{detail}` for every failure.
struct SynapseAIGate<Context: RequestContext>: RouterMiddleware {
    let apiKeys: [String]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
                throw DetailError(status: .unauthorized, detail: "Not authenticated")
            }
            guard apiKeys.contains(String(header.dropFirst(7))) else { throw DetailError(status: .unauthorized, detail: "Invalid or revoked API key") }
            return try await next(request, context)
        } catch let error as DetailError {
            return SynapseAIResponse.json(["detail": error.detail], status: error.status)
        }
    }
}

/// Agents, chat (sync and SSE), orchestrations (runs that pause for a human, and resume).
struct SynapseAIRoutes {
    let store: SynapseAIStore
    let configuration: SynapseAIEmulatorConfiguration
    let startedAt: Date

    func register(on router: Router<some RequestContext>) {
        let v1 = router.group("/api/v1")
        v1.get("/agents") { _, _ in SynapseAIResponse.json(store.agents.map(\.row)) }
        v1.get("/agents/:id") { _, context in
            guard let agent = store.agents.first(where: { $0.id == context.parameters.get("id") }) else {
                throw DetailError(status: .notFound, detail: "Agent not found")
            }
            return SynapseAIResponse.json(agent.row.merging(["description": agent.description]) { $1 })
        }
        v1.post("/chat") { request, _ in
            let (agent, session, message) = try await chat(request)
            let reply = Self.reply(message)
            _ = store.turnFinished(agent: agent.id, session: session)
            return SynapseAIResponse.json(["response": reply, "agent_id": agent.id, "agent_name": agent.name, "session_id": session])
        }
        v1.post("/chat/stream") { request, _ in
            let (agent, session, message) = try await chat(request)
            return SynapseAIResponse.stream(dropAfter: configuration.dropStreamsAfter) { send in
                try await Self.chatEvents(message, agent: agent, session: session, send: send)
                _ = store.turnFinished(agent: agent.id, session: session)
            }
        }
        v1.get("/orchestrations") { _, _ in
            SynapseAIResponse.json(store.orchestrations.map { ["id": $0.id, "name": $0.name, "description": $0.description, "steps": $0.steps.count] })
        }
        v1.get("/orchestrations/:id") { _, context in
            guard let o = store.orchestration(context.parameters.get("id") ?? "") else {
                throw DetailError(status: .notFound, detail: "Orchestration not found")
            }
            // Stored steps have a name, not a label: the server answers `label` empty.
            let steps: [[String: Any]] = o.steps.map { ["id": $0.id, "label": "", "type": $0.type, "agent_id": $0.agentId as Any? ?? NSNull(), "depends_on": [String]()] }
            return SynapseAIResponse.json(["id": o.id, "name": o.name, "description": o.description, "steps": steps, "edges": [String]()])
        }
        v1.post("/orchestrations/:id/run/stream") { request, context in
            let run = try await startRun(request, context: context)
            return SynapseAIResponse.stream(dropAfter: configuration.dropStreamsAfter) { send in
                try await send(["type": "orchestration_start", "run_id": run.id, "orchestration_id": run.orchestrationId,
                                "orchestration_name": store.orchestration(run.orchestrationId)?.name ?? ""])
                try await proceed(run.id, send: send)
            }
        }
        v1.post("/orchestrations/:id/run") { request, context in
            let run = try await startRun(request, context: context)
            return SynapseAIResponse.json(try await syncOutcome(run.id) { send in try await proceed(run.id, send: send) })
        }
        v1.post("/orchestrations/runs/:run/resume/stream") { request, context in
            let (id, answer) = try await resumption(request, context: context)
            return SynapseAIResponse.stream(dropAfter: configuration.dropStreamsAfter) { send in
                if configuration.silentResumes { return }
                // Errors of a resume come inside HTTP 200, as the server's do.
                guard store.run(id) != nil else {
                    try await send(["type": "orchestration_error", "error": "Run '\(id)' not found"])
                    try await send(["type": "done"])
                    return
                }
                try await resume(id, answer: answer, send: send)
            }
        }
        v1.post("/orchestrations/runs/:run/resume") { request, context in
            let (id, answer) = try await resumption(request, context: context)
            guard store.run(id) != nil else { throw DetailError(status: .notFound, detail: "Run '\(id)' not found") }
            return SynapseAIResponse.json(try await syncOutcome(id) { send in try await resume(id, answer: answer, send: send) })
        }
    }

    private func startRun(_ request: Request, context: some RequestContext) async throws -> SynapseAIStore.Run {
        guard let o = store.orchestration(context.parameters.get("id") ?? "") else {
            throw DetailError(status: .notFound, detail: "Orchestration not found")
        }
        let body = try await request.synapseBody()
        let run = SynapseAIStore.Run(id: "run_\(o.id)_\(Int(Date().timeIntervalSince1970 * 1000))_\(Int.random(in: 100...999))", orchestrationId: o.id,
                                     input: body["message"] as? String ?? "", status: "running", nextStep: 0)
        store.save(run)
        return run
    }

    /// A resume's run id and answer: `response` is an object of the fields asked for, or a string.
    private func resumption(_ request: Request, context: some RequestContext) async throws -> (String, String) {
        let body = try await request.synapseBody()
        guard let response = body["response"] else { throw DetailError(status: .unprocessableContent, detail: "response is required") }
        let answer = (response as? [String: Any]).map { $0["answer"].map { "\($0)" } ?? "\($0)" } ?? "\(response)"
        return (context.parameters.get("run") ?? "", answer)
    }

    /// The sync routes' answer: the run's outcome once its events are played (unsent).
    private func syncOutcome(_ runId: String, play: ((_ event: [String: Any]) async throws -> Void) async throws -> Void) async throws -> [String: Any] {
        let events = EventLog()
        try await play { events.add($0) }
        guard let run = store.run(runId) else { throw DetailError(status: .notFound, detail: "Run '\(runId)' not found") }
        if let pause = events.all.last(where: { $0["type"] as? String == "human_input_required" }) {
            return ["status": "paused", "run_id": run.id,
                    "human_input_required": ["step_id": pause["orch_step_id"] ?? "", "prompt": pause["prompt"] ?? "", "fields": pause["fields"] ?? [], "agent_context": pause["agent_context"] ?? ""]]
        }
        let final = events.all.last { $0["type"] as? String == "final" && $0["intent"] as? String == "orchestration" }
        return ["status": run.status, "run_id": run.id, "response": final?["response"] ?? "", "shared_state": ["answers": run.answers], "step_history": []]
    }

    /// A paused run goes on with the answer; a finished one says again how it ended (the server
    /// does not check that a run is paused).
    private func resume(_ id: String, answer: String, send: (_ event: [String: Any]) async throws -> Void) async throws {
        guard var run = store.run(id), let o = store.orchestration(run.orchestrationId) else { return }
        if run.status == "paused" {
            run.answers.append(answer)
            let step = o.steps[run.nextStep]
            run.nextStep += 1
            run.status = "running"
            store.save(run)
            try await send(["type": "step_complete", "orch_step_id": step.id, "step_name": step.name, "duration_seconds": 0.0])
        }
        try await proceed(id, send: send)
    }

    private func chat(_ request: Request) async throws -> (SynapseAIStore.Agent, String, String) {
        if Date().timeIntervalSince(startedAt) < configuration.startingSeconds {
            throw DetailError(status: .serviceUnavailable, detail: "No agent sessions available. Server may still be starting.")
        }
        let body = try await request.synapseBody()
        guard let message = body["message"] as? String, !message.isEmpty else { throw DetailError(status: .unprocessableContent, detail: "message is required") }
        let session = body["session_id"] as? String ?? "api_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        return (store.agent(named: body["agent"] as? String), session, message)
    }

    static func reply(_ message: String) -> String {
        let directives = Directives(prompt: message)
        return (0..<directives.words).map { Directives.vocabularyWord($0) }.joined(separator: " ")
    }

    /// A chat turn's events: no token deltas, the whole answer in `response`, then `done`.
    static func chatEvents(_ message: String, agent: SynapseAIStore.Agent, session: String, step: SynapseAIStore.Step? = nil,
                           send: (_ event: [String: Any]) async throws -> Void) async throws {
        let directives = Directives(prompt: message)
        let delay = Duration.milliseconds(directives.delayMilliseconds)
        func tagged(_ event: [String: Any]) -> [String: Any] { step.map { event.merging(["orch_step_id": $0.id, "step_name": $0.name]) { $1 } } ?? event }
        if step == nil { try await send(["type": "session", "session_id": session, "agent_id": agent.id, "agent_name": agent.name]) }
        try await send(tagged(["type": "status", "message": "Thinking…"]))
        try await send(tagged(["type": "thinking", "message": "Reading the request"]))
        var turn = 0
        repeat {
            turn += 1
            try await send(tagged(["type": "llm_thought", "thought": "Step \(turn) of the answer", "turn": turn]))
            try await Task.sleep(for: delay)
        } while directives.forever
        for file in directives.files {
            try await send(tagged(["type": "tool_execution", "tool_name": "write_file", "args": ["path": file.path]]))
            try await send(tagged(["type": "tool_result", "tool_name": "write_file", "preview": "wrote \(file.size) bytes"]))
        }
        if directives.fail { try await send(tagged(["type": "error", "message": "The agent failed."])) }
        let answer = directives.fail ? "Error: The agent failed." : reply(message)
        if step == nil {
            // The API turns the agent's `final` into `response`, then `done`.
            try await send(["type": "response", "content": answer, "intent": "chat", "session_id": session])
            try await send(["type": "done"])
        } else {
            // In an orchestration the agent's raw `final` passes through, tagged with its step.
            try await send(tagged(["type": "final", "response": answer, "intent": "chat", "tool_name": NSNull()]))
        }
    }

    /// Runs the orchestration's steps from where the run is, until a human step (it pauses)
    /// or the end.
    private func proceed(_ runId: String, send: (_ event: [String: Any]) async throws -> Void) async throws {
        guard var run = store.run(runId), let o = store.orchestration(run.orchestrationId) else { return }
        var last = run.lastOutput
        while run.status != "completed", run.nextStep < o.steps.count {
            let step = o.steps[run.nextStep]
            try await send(["type": "step_start", "orch_step_id": step.id, "step_name": step.name, "step_type": step.type])
            if step.type == "human" {
                run.status = "paused"
                store.save(run)
                try await send(["type": "human_input_required", "orch_step_id": step.id, "prompt": "Is the draft good to publish? Say what to change.",
                                "fields": [["name": "answer", "type": "text", "label": "Your review"]], "run_id": run.id,
                                "agent_context": "A draft is ready: \(last)", "channel_id": NSNull()])
                try await send(["type": "done"])
                return
            }
            let agent = store.agent(named: step.agentId)
            let text = run.input + (run.answers.last.map { " (review: \($0))" } ?? "")
            try await Self.chatEvents(text, agent: agent, session: run.id, step: step, send: send)
            last = Self.reply(text)
            try await send(["type": "step_complete", "orch_step_id": step.id, "step_name": step.name, "duration_seconds": 0.1])
            run.nextStep += 1
            run.lastOutput = last
            store.save(run)
        }
        run.status = "completed"
        store.save(run)
        try await send(["type": "orchestration_complete", "run_id": run.id, "status": "completed", "final_state": ["answers": run.answers]])
        try await send(["type": "final", "response": last, "intent": "orchestration", "tool_name": NSNull(),
                        "data": ["run_id": run.id, "status": "completed", "step_history": [Any](), "shared_state": ["answers": run.answers]]])
        try await send(["type": "done"])
    }
}

/// The events a sync route plays, kept to make its one answer.
private final class EventLog: @unchecked Sendable {
    private var events: [[String: Any]] = []
    private let lock = NSLock()
    func add(_ event: [String: Any]) { lock.withLock { events.append(event) } }
    var all: [[String: Any]] { lock.withLock { events } }
}
