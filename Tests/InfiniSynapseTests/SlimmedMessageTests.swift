import Foundation
import Testing
import SynapseHTTP
import SynapseCore
import Logging
import Synchronization
@testable import InfiniSynapse

/// `getUiMessageById` slims long texts (seed L142); the client makes them whole with
/// `messagePayload` (L143), learns how this server cuts, and fetches each whole text once.
@Suite struct SlimmedMessageTests {
    let task = "51190000-0000-4000-8000-000000000001"

    /// Runs a task whose reply is about 3,600 characters and waits for it to complete.
    func runLongTask(_ client: InfiniSynapseClient) async throws {
        try await offPool { try client.send(Prompt(taskId: task, text: "Write at length [emu:words 600] [emu:delay 0]", startsTask: true)) }
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

/// The rules of `SlimmedTexts` with a scripted payload source.
@Suite struct SlimmedTextRuleTests {
    func listed(_ ts: Int64, _ text: String, partial: Bool = false, marked: Bool = false) -> SlimmedTexts.Listed {
        SlimmedTexts.Listed(message: UIMessage(ts: ts, type: "say", say: "text", text: text, partial: partial), markedCut: marked)
    }

    func texts() -> SlimmedTexts { SlimmedTexts(directory: nil, server: "http://test", logger: Logger(label: "test")) }

    /// A server that cannot be reached fails the listing: a cut text is never passed on as final.
    @Test func anUnreachableServerFailsTheListingInsteadOfServingACutText() {
        let slimmed = texts()
        #expect(throws: RemoteError.self) {
            try slimmed.complete([listed(1, "x", marked: true)], taskId: "t") { (_) throws(RemoteError) -> String? in throw .timedOut("payload") }
        }
    }

    /// The cut length is learnt only from a text the whole one starts with and is longer than,
    /// never below the floor, and a marked short text teaches nothing.
    @Test func onlyARealCutTeachesTheCutLength() throws {
        let slimmed = texts()
        let short = String(repeating: "a", count: 100)
        _ = try slimmed.complete([listed(1, short, marked: true)], taskId: "t") { (_) throws(RemoteError) -> String? in short + "b" }
        #expect(slimmed.current.cutAt == nil)
        let long = String(repeating: "c", count: 300)
        _ = try slimmed.complete([listed(2, long)], taskId: "t") { (_) throws(RemoteError) -> String? in "something else entirely" }
        #expect(slimmed.current.cutAt == nil)
        _ = try slimmed.complete([listed(3, long + "…")], taskId: "t") { (_) throws(RemoteError) -> String? in long + "ddd" }
        #expect(slimmed.current.cutAt == 300)
    }

    /// A 404 for one message is that message's; only several in a row close the route, and a
    /// growing message is never fetched, its cut marker dropped.
    @Test func notFoundIsPerMessageAndGrowingMessagesAreNotFetched() throws {
        let slimmed = texts()
        let asked = Mutex<[Int64]>([])
        let result = try slimmed.complete([listed(1, "gone", marked: true), listed(2, "here", marked: true),
                                           listed(3, "growing…", partial: true, marked: true)], taskId: "t") { (ts) throws(RemoteError) -> String? in
            asked.withLock { $0.append(ts) }
            if ts == 1 { throw .notFound("message") }
            return "here and more"
        }
        #expect(asked.withLock { $0 } == [1, 2])
        #expect(result.map(\.text) == ["gone", "here and more", "growing"])
        // Asked again within the retry time: the missing one is not, the stored one is not fetched.
        asked.withLock { $0.removeAll() }
        _ = try slimmed.complete([listed(1, "gone", marked: true)], taskId: "t") { (ts) throws(RemoteError) -> String? in
            asked.withLock { $0.append(ts) }
            return nil
        }
        #expect(asked.withLock { $0 }.isEmpty)
    }

    /// A list that marks every text cut costs a bounded number of fetches per read.
    @Test func fetchesPerListingAreBounded() throws {
        let slimmed = texts()
        let count = Mutex(0)
        let many = (1...1000).map { listed(Int64($0), "t\($0)", marked: true) }
        _ = try slimmed.complete(many, taskId: "t") { (_) throws(RemoteError) -> String? in
            count.withLock { $0 += 1 }
            return "whole"
        }
        #expect(count.withLock { $0 } == SlimmedTexts.fetchesPerListing)
    }
}
