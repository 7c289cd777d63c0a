import Foundation
import Hummingbird
import NIOCore
import SynapseEmulatorKit

/// `POST /api/ai/run`: the scripted agent's run as data-only SSE (`data: {type, data}`), for as
/// long as the client holds the stream (a disconnect stops it, its questions unanswered);
/// `POST /api/ai/ask/:id` and `/api/ai/permissions/:id` answer what it asks.
struct RunRoutes {
    let store: AsyncatStore
    let questions: AsyncatQuestions
    let faults: AsyncatFaults
    let questionTimeout: Double
    let pingSeconds: Double

    func register(on router: Router<some RequestContext>) {
        router.post("/api/ai/run") { request, _ in try await run(request) }
        router.post("/api/ai/ask/:id") { request, context in
            let body = try await request.jsonBody()
            let answer = body["answer"].map { "\($0)" } ?? ""
            guard questions.answer(context.parameters.get("id") ?? "", with: answer) else { throw AsyncatError.notFound("Question request not found") }
            return AsyncatResponse.ok([:])
        }
        router.post("/api/ai/permissions/:id") { request, context in
            let body = try await request.jsonBody()
            let decision = ["allow", "deny", "allow_session", "allow_always_tool", "allow_always_command"].contains(body["decision"] as? String ?? "")
                ? body["decision"] as! String : "deny"
            guard questions.answer(context.parameters.get("id") ?? "", with: decision) else {
                // The real server answers 200 even when nothing waited.
                return AsyncatResponse.ok(["decision": decision, "note": "already_resolved"])
            }
            return AsyncatResponse.ok(["decision": decision])
        }
    }

    private func run(_ request: Request) async throws -> Response {
        let body = try await request.jsonBody()
        let goal = (body["goal"] as? String) ?? (body["message"] as? String) ?? ""
        guard !goal.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw AsyncatError.invalid("Goal is required") }
        if faults.takePromptFailure() { throw AsyncatError(status: .internalServerError, message: "Agent run failed to start") }
        let continued = body["continueSessionId"] as? String
        let sessionId = continued ?? "ses_" + UUID().uuidString.prefix(12).lowercased()
        let autoApprove = (body["autoApprove"] as? Bool) == true || (body["autoApprove"] as? String) == "all"
        let attachments = (body["fileAttachments"] as? [Any] ?? []).prefix(10).compactMap { $0 as? [String: Any] }
        let script = Script(goal: goal, sessionId: sessionId, continued: continued != nil, autoApprove: autoApprove,
                            attachments: attachments.map { ($0["name"] as? String ?? "file", ($0["content"] as? String)?.count ?? 0) })
        let dropAfter = faults.current.dropStreamsAfter
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: ResponseBody { writer in
            var sent = 0
            var lastWrite = Date()
            func send(_ type: String, _ data: [String: Any]) async throws {
                // The connection breaks mid-run: the run stops with it (no resume exists).
                if dropAfter > 0, sent >= dropAfter { throw CancellationError() }
                let json = (try? JSONSerialization.data(withJSONObject: ["type": type, "data": data], options: [.withoutEscapingSlashes])) ?? Data()
                try await writer.write(ByteBuffer(string: "data: " + String(decoding: json, as: UTF8.self) + "\n\n"))
                sent += 1
                lastWrite = Date()
            }
            func alive() async throws {
                if Date().timeIntervalSince(lastWrite) > pingSeconds {
                    try await writer.write(ByteBuffer(string: ": ping\n\n"))
                    lastWrite = Date()
                }
            }
            try await script.play(send: send, alive: alive, questions: questions, timeout: questionTimeout, store: store)
            try await writer.finish(nil)
        })
    }
}

/// What the scripted agent does with a goal: the shared `[emu:…]` directives.
struct Script {
    let goal: String
    let sessionId: String
    let continued: Bool
    let autoApprove: Bool
    let attachments: [(name: String, characters: Int)]

    func play(send: (String, [String: Any]) async throws -> Void, alive: () async throws -> Void,
              questions: AsyncatQuestions, timeout: Double, store: AsyncatStore) async throws {
        let directives = Directives(prompt: goal)
        let delay = Duration.milliseconds(directives.delayMilliseconds)
        store.sessionRan(sessionId, goal: goal, status: "active")
        try await send("session_start", ["sessionId": sessionId, "goal": goal, "status": "active", "workingDir": store.root.path,
                                         "continued": continued, "agentMode": "action"])
        try await send("thinking", ["thought": "Reading the goal" + (attachments.isEmpty ? "." : " and \(attachments.count) attached file(s)."), "round": 1])
        try await send("reasoning_delta", ["content": "The goal is clear enough to start."])
        try await send("plan_update", ["plan": [["id": "1", "content": "Understand the goal", "activeForm": "Understanding the goal", "status": "completed"],
                                                ["id": "2", "content": "Write the answer", "activeForm": "Writing the answer", "status": "in_progress"]],
                                       "round": 1])
        if let command = directives.approve {
            var allowed = autoApprove
            if !autoApprove {
                let id = questions.ask()
                try await send("permission_request", ["requestId": id, "sessionId": sessionId, "tool": "run_command", "toolName": "run_command",
                                                      "args": ["command": command], "permission": "ask", "description": "Run `\(command)`",
                                                      "round": 1, "expiresInMs": Int(timeout * 1000)])
                let decision = try await questions.wait(for: id, seconds: timeout, alive: alive)
                allowed = decision == "allow" || decision == "allow_session"
            }
            try await send("tool_start", ["tool": "run_command", "args": ["command": command], "permissionDecision": allowed ? "allow" : "deny", "round": 1])
            try await send("tool_result", ["tool": "run_command", "result": allowed ? ["success": true, "output": "ran \(command)"]
                                                                                  : ["success": false, "error": "Permission denied"], "round": 1])
        }
        if directives.ask {
            let id = questions.ask()
            try await send("ask_user", ["requestId": id, "sessionId": sessionId, "question": "Which region should I focus on?",
                                        "choices": ["north", "south"], "default": NSNull(), "round": 1, "expiresInMs": Int(timeout * 1000)])
            let answer = try await questions.wait(for: id, seconds: timeout, alive: alive)
            try await send("tool_result", ["tool": "ask_user", "result": answer.map { ["success": true, "answer": $0] }
                                                                           ?? ["success": false, "error": "User did not answer in time"], "round": 1])
        }
        for file in directives.files {
            try await send("tool_start", ["tool": "write_file", "args": ["path": file.path], "round": 1])
            let url = store.artifacts.appendingPathComponent((file.path as NSString).lastPathComponent)
            try FileManager.default.createDirectory(at: store.artifacts, withIntermediateDirectories: true)
            try DeterministicBytes.write(size: file.size, seed: file.path, to: url)
            try await send("tool_result", ["tool": "write_file", "result": ["success": true, "path": url.lastPathComponent], "round": 1])
        }
        var text = ""
        var count = 0
        while directives.forever || count < directives.words {
            let word = Directives.vocabularyWord(count) + " "
            text += word
            try await send("delta", ["content": word])
            count += 1
            try await alive()
            try await Task.sleep(for: delay)
        }
        if directives.fail {
            try await send("error", ["message": "The agent failed.", "round": 1])
            try await send("done", ["answer": "Error: The agent failed.", "stopReason": "answer", "sessionId": sessionId, "rounds": 1, "maxRounds": 25])
            store.sessionRan(sessionId, goal: goal, status: "failed")
            return
        }
        try await send("answer", ["answer": text, "round": 1])
        try await send("done", ["answer": text, "stopReason": "answer", "sessionId": sessionId, "rounds": 1, "maxRounds": 25])
        store.sessionRan(sessionId, goal: goal, status: "completed")
    }
}
