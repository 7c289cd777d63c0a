import Foundation
import Logging
import SynapseAI
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

    func finished(_ client: SynapseAIClient, _ id: String) async throws -> Transcript {
        let end = Date().addingTimeInterval(10)
        var last = try await offPool { try client.transcript(taskId: id) }
        while TaskStatus.derive(last, listed: nil).isFinished == false, Date() < end {
            try await Task.sleep(for: .milliseconds(30))
            last = try await offPool { try client.transcript(taskId: id) }
        }
        return last
    }

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
