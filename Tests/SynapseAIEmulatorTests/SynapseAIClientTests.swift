import Foundation
import Logging
@testable import SynapseAI
import SynapseAIEmulator
import SynapseCore
import SynapseHTTP
import Testing

/// The Synapse client against its emulator: agents, a chat turn streamed into the session's
/// record, the record surviving a restart, a turn whose stream is cut failing, errno of keys.
@Suite struct SynapseAIClientTests {
    func withClient(_ configure: (inout SynapseAIEmulatorConfiguration) -> Void = { _ in },
                    _ body: (SynapseAIEmulatorServer, URL, SynapseAIClient) async throws -> Void) async throws {
        var configuration = SynapseAIEmulatorConfiguration(apiKeys: ["sk-syn-k"])
        configure(&configuration)
        var logger = Logger(label: "emulator")
        logger.logLevel = .warning
        let server = try await SynapseAIEmulatorServer.start(configuration: configuration, logger: logger)
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: state) }
        let client = SynapseAIClient(baseURL: server.baseURL, apiKey: "sk-syn-k", timeouts: Timeouts(connect: 2, idle: 5, request: 10),
                                     stateDirectory: state, logger: Logger(label: "client"))
        do { try await body(server, state, client) } catch {
            _ = try? await offPool { client.stop() }
            await server.stop()
            throw error
        }
        _ = try? await offPool { client.stop() }
        await server.stop()
    }

    /// The transcript once `done` holds of its status (or after 10 s).
    func poll(_ client: SynapseAIClient, _ id: String, until done: @escaping (TaskStatus) -> Bool) async throws -> Transcript {
        let end = Date().addingTimeInterval(10)
        var last = try await offPool { try client.transcript(taskId: id) }
        while !done(TaskStatus.derive(last, listed: nil)), Date() < end {
            try await Task.sleep(for: .milliseconds(30))
            last = try await offPool { try client.transcript(taskId: id) }
        }
        return last
    }

    func finished(_ client: SynapseAIClient, _ id: String) async throws -> Transcript { try await poll(client, id) { $0.isFinished } }

    /// Finished or waiting.
    func settled(_ client: SynapseAIClient, _ id: String) async throws -> Transcript { try await poll(client, id) { $0 != .running } }

    @Test func aTurnIsRecordedAndTheRecordSurvivesARestart() async throws {
        try await withClient { server, state, client in
            let agents = try await offPool { try client.listAgents() }
            #expect(agents.map(\.id) == ["agent_research", "agent_writer"] && agents[0].details["model"] == "gpt-4o")
            _ = try await offPool { try client.send(Prompt(taskId: "draft-a", text: "Hello [emu:words 4]", startsTask: true)) }
            let done = try await finished(client, "draft-a")
            #expect(TaskStatus.derive(done, listed: nil) == .completed)
            #expect(done.entries.first?.speaker == .user && done.entries.last?.text == "the quarterly numbers show")
            let again = SynapseAIClient(baseURL: server.baseURL, apiKey: "sk-syn-k", stateDirectory: state, logger: Logger(label: "again"))
            let listed = try await offPool { try again.listTasks(from: nil, pageSize: 10) }
            #expect(listed.items.map(\.id) == ["draft-a"])
            #expect(try await offPool { try again.transcript(taskId: "draft-a") } == done)
        }
    }

    @Test func anOrchestrationRunPausesIsAnsweredAndEnds() async throws {
        try await withClient { _, _, client in
            let orchestrations = try await offPool { try client.listOrchestrations() }
            let review = try #require(orchestrations.first { $0.id == "orch_review" })
            #expect(review.steps.map(\.id) == ["draft", "review", "final"] && review.steps[1].kind == "human")
            #expect(review.steps[0].name == "draft" && review.steps[0].agent == "agent_research")
            _ = try await offPool { try client.send(Prompt(taskId: "run-1", text: "Write the note [emu:words 3]", startsTask: true, orchestration: "orch_review")) }
            let paused = try await settled(client, "run-1")
            #expect(TaskStatus.derive(paused, listed: nil) == .waiting)
            #expect(TaskStatus.question(in: paused)?.hasPrefix("input: Is the draft good to publish?") == true)
            #expect(paused.entries.contains { $0.speaker == .agentSays("answer, step Draft") })
            let task = try await offPool { try client.taskInfo(id: "run-1") }
            #expect(task.orchestration == "orch_review")
            #expect(task.details?["runId"]?.hasPrefix("run_orch_review_") == true)

            _ = try await offPool { try client.send(Prompt(taskId: "run-1", text: "ship it", startsTask: false)) }
            let done = try await settled(client, "run-1")
            #expect(TaskStatus.derive(done, listed: nil) == .completed)
            let finalStep = done.entries.last { $0.speaker == .agentSays("answer, step Final text") }
            #expect(done.entries.last?.speaker == .result && finalStep != nil && done.entries.last?.text == finalStep?.text)
            #expect(done.entries.filter { $0.speaker == .user }.map(\.text) == ["Write the note [emu:words 3]", "ship it"])
            // The server would resume an ended run; the mount refuses.
            let error = await #expect(throws: RemoteError.self) {
                try await offPool { try client.send(Prompt(taskId: "run-1", text: "again", startsTask: false)) }
            }
            #expect(error.map { if case .invalidRequest = $0 { true } else { false } } == true)
            // A chat names the agent it chose; the server's `session` event says who answered.
            _ = try await offPool { try client.send(Prompt(taskId: "chat-w", text: "Hi [emu:words 2]", startsTask: true, agent: "agent_writer")) }
            _ = try await finished(client, "chat-w")
            #expect(try await offPool { try client.taskInfo(id: "chat-w") }.details?["agent"] == "agent_writer")
            #expect(try await offPool { try client.taskInfo(id: "chat-w") }.orchestration == nil)
        }
    }

    @Test func anAnswerThatReachesNoOneLeavesTheRunWaiting() async throws {
        try await withClient({ $0.silentResumes = true }) { _, _, client in
            _ = try await offPool { try client.send(Prompt(taskId: "run-s", text: "Write [emu:words 2]", startsTask: true, orchestration: "orch_review")) }
            #expect(TaskStatus.derive(try await settled(client, "run-s"), listed: nil) == .waiting)
            let error = await #expect(throws: RemoteError.self) {
                try await offPool { try client.send(Prompt(taskId: "run-s", text: "ship it", startsTask: false)) }
            }
            #expect(error?.errno == EINVAL || error.map { if case .malformed = $0 { true } else { false } } == true)
            let after = try await offPool { try client.transcript(taskId: "run-s") }
            #expect(TaskStatus.derive(after, listed: nil) == .waiting)
            #expect(!after.entries.contains { $0.text == "ship it" })
        }
    }

    @Test func everyTurnOfAChatGoesToItsAgentAndACancelLastsUntilTheNextTurn() async throws {
        try await withClient { _, _, client in
            _ = try await offPool { try client.send(Prompt(taskId: "c", text: "One [emu:words 2]", startsTask: true, agent: "agent_writer")) }
            _ = try await finished(client, "c")
            _ = try await offPool { try client.send(Prompt(taskId: "c", text: "Two [emu:words 2]", startsTask: false)) }
            let two = try await finished(client, "c")
            #expect(two.entries.filter { $0.speaker == .result }.count == 2)
            #expect(try await offPool { try client.taskInfo(id: "c") }.details?["agent"] == "agent_writer")
            _ = try await offPool { try client.send(Prompt(taskId: "c", text: "Forever [emu:forever] [emu:delay 20]", startsTask: false)) }
            try await Task.sleep(for: .milliseconds(200))
            try await offPool { try client.control(.cancel, taskId: "c") }
            let cancelled = try await finished(client, "c")
            #expect(TaskStatus.derive(cancelled, listed: try await offPool { try client.taskInfo(id: "c") }.status) == .cancelled)
            _ = try await offPool { try client.send(Prompt(taskId: "c", text: "Three [emu:words 2] [emu:delay 300]", startsTask: false)) }
            let running = try await offPool { try client.transcript(taskId: "c") }
            #expect(TaskStatus.derive(running, listed: try await offPool { try client.taskInfo(id: "c") }.status) == .running)
            #expect(TaskStatus.derive(try await finished(client, "c"), listed: nil) == .completed)
        }
    }

    @Test func anAnswerGoesAsTheOneFieldAskedForOrAsTheObjectWritten() {
        #expect(SynapseAIClient.answer("ship it\n", fields: ["answer"]) as? [String: String] == ["answer": "ship it"])
        #expect(SynapseAIClient.answer("{\"approve\": true, \"note\": \"ok\"}", fields: ["approve", "note"]) as? NSDictionary == ["approve": true, "note": "ok"])
        #expect(SynapseAIClient.answer("free text", fields: ["a", "b"]) as? String == "free text")
        #expect(SynapseAIClient.answer("free text", fields: []) as? String == "free text")
    }

    @Test func aCutStreamFailsTheTurnAndAWrongKeyIsRejected() async throws {
        try await withClient({ $0.dropStreamsAfter = 3 }) { server, _, client in
            _ = try await offPool { try client.send(Prompt(taskId: "draft-b", text: "Hi [emu:words 4]", startsTask: true)) }
            let done = try await finished(client, "draft-b")
            #expect(TaskStatus.derive(done, listed: nil) == .failed)
            #expect(done.entries.last?.text.contains("Synapse keeps no turn whose stream is lost") == true)
            let wrong = SynapseAIClient(baseURL: server.baseURL, apiKey: "sk-syn-x", stateDirectory: FileManager.default.temporaryDirectory, logger: Logger(label: "w"))
            let error = await #expect(throws: RemoteError.self) { try await offPool { try wrong.listAgents() } }
            #expect(error?.errno == EACCES)
        }
    }
}
