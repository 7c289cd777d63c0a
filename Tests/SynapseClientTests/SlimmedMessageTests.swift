import Foundation
import Testing
import SynapseClient
import SynapseCore

/// `getUiMessageById` slims long texts (seed L142); the client makes them whole with
/// `messagePayload` (L143), learns how this server cuts, and fetches each whole text once.
@Suite struct SlimmedMessageTests {
    let task = "51190000-0000-4000-8000-000000000001"

    /// Runs a task whose reply is about 3,600 characters and waits for it to complete.
    func runLongTask(_ client: InfiniSynapseClient) async throws {
        try await offPool { try client.send(.newTask(taskId: task, text: "Write at length [emu:words 600] [emu:delay 0]", connId: "c1")) }
        for _ in 0..<200 {
            if try await offPool({ try client.messages(taskId: task) }).contains(where: \.isCompletion) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the task did not complete")
    }

    @Test(arguments: ["none", "ellipsis", "flag"])
    func cutTextsAreMadeWhole(marker: String) async throws {
        let emulator = try await LiveEmulator.start(seedTasks: 0, faults: #"{"slimMessagesOver": 1000, "slimMarker": "\#(marker)"}"#)
        defer { Task { await emulator.stop() } }
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("synapsefs-slim-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: state) }
        let client = emulator.client(stateDirectory: state)
        try await runLongTask(client)
        let whole = try emulator.storedTexts(task: task)
        #expect(whole.contains { $0.count > 1000 })
        #expect(try await offPool { try client.messages(taskId: task) }.compactMap(\.text) == whole)
    }

    /// Unmarked cuts are learnt from one check and remembered across restarts; texts shorter
    /// than a seen cut are not checked again.
    @Test func anUnmarkedCutIsLearntOnceAndRemembered() async throws {
        let emulator = try await LiveEmulator.start(seedTasks: 0, faults: #"{"slimMessagesOver": 1000}"#)
        defer { Task { await emulator.stop() } }
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("synapsefs-slim-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: state) }
        try await runLongTask(emulator.client(stateDirectory: state))
        let learnt = try FileManager.default.contentsOfDirectory(atPath: state.appendingPathComponent("whole-texts").path)
            .filter { $0.hasPrefix("slimming-") }
        #expect(learnt.count == 1)
        let knowledge = try JSONSerialization.jsonObject(with: Data(contentsOf: state.appendingPathComponent("whole-texts/\(learnt[0])"))) as? [String: Any]
        #expect(knowledge?["cutAt"] as? Int == 1000, "\(String(describing: knowledge))")
        // A new client (a remount) with the payload route missing still shows the whole text.
        let whole = try emulator.storedTexts(task: task)
        try await setMissingPayloadRoute(emulator)
        let again = emulator.client(stateDirectory: state)
        #expect(try await offPool { try again.messages(taskId: task) }.compactMap(\.text) == whole)
    }

    /// A server with no `messagePayload` route: the listed texts are shown as they are.
    @Test func withoutThePayloadRouteTheListedTextStays() async throws {
        let emulator = try await LiveEmulator.start(seedTasks: 0, faults: #"{"slimMessagesOver": 1000, "missingRoutes": ["payload"]}"#)
        defer { Task { await emulator.stop() } }
        let client = emulator.client()
        try await runLongTask(client)
        let texts = try await offPool { try client.messages(taskId: task) }.compactMap(\.text)
        #expect(texts.contains { $0.count == 1000 })
    }

    func setMissingPayloadRoute(_ emulator: LiveEmulator) async throws {
        let result = try await offPool { () throws -> Int32 in
            let curl = Process()
            curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            curl.arguments = ["-sf", "-o", "/dev/null", "-H", "Authorization: Bearer test-key", "-d", #"{"slimMessagesOver": 1000, "missingRoutes": ["payload"]}"#,
                              "\(emulator.server.baseURL)/_emulator/faults"]
            try curl.run()
            curl.waitUntilExit()
            return curl.terminationStatus
        }
        #expect(result == 0)
    }
}
