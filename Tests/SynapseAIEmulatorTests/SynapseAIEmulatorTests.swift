import Foundation
import Logging
import SynapseAIEmulator
import SynapseCore
import SynapseHTTP
import Testing

/// The Synapse emulator as its API document and the server's code describe it, driven with
/// the mount's transport: API keys and `{detail}` errors, agents, chat SSE, orchestration runs
/// that pause for a human and resume, 503 while starting.
@Suite struct SynapseAIEmulatorTests {
    static let key = "sk-syn-test"

    func withServer(_ configure: (inout SynapseAIEmulatorConfiguration) -> Void = { _ in },
                    _ body: (String) async throws -> Void) async throws {
        var configuration = SynapseAIEmulatorConfiguration(apiKeys: [Self.key])
        configure(&configuration)
        var logger = Logger(label: "emulator")
        logger.logLevel = .warning
        let server = try await SynapseAIEmulatorServer.start(configuration: configuration, logger: logger)
        do { try await body(server.baseURL + "/api/v1") } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    static let transport = CurlTransport(timeouts: Timeouts(connect: 2, idle: 5, request: 10), errorInSuccess: { _ in nil })

    func json(_ url: String, key: String? = key, body: [String: Any]? = nil) async throws -> (Int, Any) {
        let headers = key.map { ["Authorization: Bearer \($0)"] } ?? []
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        // (HTTPRequest is not Sendable: made on the thread that sends it.)
        let response = try await offPool {
            try Self.transport.perform(HTTPRequest(method: data == nil ? "GET" : "POST", url: url, headers: headers, body: data)).get()
        }
        return (response.status, try JSONSerialization.jsonObject(with: response.body, options: .fragmentsAllowed))
    }

    /// The `data:` events of a stream, as objects, in order.
    func events(_ url: String, body: [String: Any]) async throws -> [[String: Any]] {
        let payload = try JSONSerialization.data(withJSONObject: body)
        let data = try await offPool { () throws -> Data in
            let request = HTTPRequest(method: "POST", url: url, headers: ["Authorization: Bearer \(Self.key)"], body: payload)
            var parser = SSEParser()
            var all: [String] = []
            _ = Self.transport.stream(request) { _, chunk in
                all += parser.feed(chunk).map(\.data)
                return true
            }
            return try JSONSerialization.data(withJSONObject: all)
        }
        let texts = try JSONSerialization.jsonObject(with: data) as? [String] ?? []
        return texts.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    @Test func keysAreCheckedAndErrorsAreDetail() async throws {
        try await withServer { base in
            let (missing, body) = try await json(base + "/agents", key: nil)
            #expect(missing == 401 && (body as? [String: Any])?["detail"] as? String == "Not authenticated")
            let (wrong, _) = try await json(base + "/agents", key: "sk-syn-nope")
            #expect(wrong == 401)
            let (status, agents) = try await json(base + "/agents")
            #expect(status == 200 && (agents as? [[String: Any]])?.map { $0["id"] as? String } == ["agent_research", "agent_writer"])
            let (notFound, detail) = try await json(base + "/agents/nobody")
            #expect(notFound == 404 && (detail as? [String: Any])?["detail"] as? String == "Agent not found")
        }
    }

    @Test func aChatStreamsItsEventsThenTheWholeResponseThenDone() async throws {
        try await withServer { base in
            let events = try await events(base + "/chat/stream", body: ["message": "Hi [emu:words 5]", "agent": "writer", "session_id": "s1"])
            #expect(events.map { $0["type"] as? String } == ["session", "status", "thinking", "llm_thought", "response", "done"])
            #expect(events.first?["agent_id"] as? String == "agent_writer" && events.first?["session_id"] as? String == "s1")
            #expect(events[4]["content"] as? String == "the quarterly numbers show steady")
        }
    }

    @Test func anOrchestrationPausesForAHumanAndResumesToItsEnd() async throws {
        try await withServer { base in
            let first = try await events(base + "/orchestrations/orch_review/run/stream", body: ["message": "Write the note [emu:words 3]"])
            let pause = try #require(first.first { $0["type"] as? String == "human_input_required" })
            let runId = try #require(pause["run_id"] as? String)
            #expect(first.last?["type"] as? String == "done")
            #expect(!first.contains { $0["type"] as? String == "orchestration_complete" })
            let rest = try await events(base + "/orchestrations/runs/\(runId)/resume/stream", body: ["response": ["answer": "ship it"]])
            #expect(rest.contains { $0["type"] as? String == "orchestration_complete" && $0["status"] as? String == "completed" })
            #expect(rest.last?["type"] as? String == "done")
            // An unknown run's error comes inside HTTP 200.
            let unknown = try await events(base + "/orchestrations/runs/run_x/resume/stream", body: ["response": "x"])
            #expect(unknown.first?["type"] as? String == "orchestration_error")
        }
    }

    @Test func theSyncRoutesAnswerWithTheRunsOutcomeAndAFinishedRunResumesToItsEndAgain() async throws {
        try await withServer { base in
            let (status, paused) = try await json(base + "/orchestrations/orch_review/run", body: ["message": "Write [emu:words 2]"])
            let pause = try #require(paused as? [String: Any])
            #expect(status == 200 && pause["status"] as? String == "paused")
            let human = try #require(pause["human_input_required"] as? [String: Any])
            #expect(human["step_id"] as? String == "review" && (human["fields"] as? [[String: Any]])?.first?["name"] as? String == "answer")
            let runId = try #require(pause["run_id"] as? String)
            let (_, done) = try await json(base + "/orchestrations/runs/\(runId)/resume", body: ["response": ["answer": "fine"]])
            #expect((done as? [String: Any])?["status"] as? String == "completed")
            #expect(((done as? [String: Any])?["response"] as? String)?.isEmpty == false)
            // The server does not check that a run is paused: a finished one says its end again.
            let again = try await events(base + "/orchestrations/runs/\(runId)/resume/stream", body: ["response": "more"])
            #expect(again.map { $0["type"] as? String } == ["orchestration_complete", "final", "done"])
            let (missing, _) = try await json(base + "/orchestrations/runs/run_nope/resume", body: ["response": "x"])
            #expect(missing == 404)
            let (noBody, _) = try await json(base + "/orchestrations/runs/\(runId)/resume", body: [:])
            #expect(noBody == 422)
        }
    }

    @Test func chatIsUnavailableWhileTheServerStarts() async throws {
        try await withServer({ $0.startingSeconds = 30 }) { base in
            let (status, body) = try await json(base + "/chat", body: ["message": "hi"])
            #expect(status == 503 && ((body as? [String: Any])?["detail"] as? String)?.contains("still be starting") == true)
            let (agents, _) = try await json(base + "/agents")
            #expect(agents == 200)
        }
    }
}

/// Runs blocking calls on a thread of their own, never on Swift's pool.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
