import Foundation
import Logging
@testable import Asyncat
import AsyncatEmulator
import SynapseCore
import SynapseHTTP
import Synchronization
import Testing

/// The Asyncat client against its emulator on loopback, and its attachment limits on disk.
@Suite struct AsyncatClientTests {
    /// An emulator (with `tokens`, or none) and a client of it, stopped after `body`.
    func withLive(tokens: [String] = [], token: String? = nil, autoApprove: Bool = false, questionTimeout: Double = 300,
                  _ body: (AsyncatEmulatorServer, AsyncatClient) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("asyncat-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        var configuration = AsyncatEmulatorConfiguration(dataDirectory: dir, tokens: tokens)
        configuration.seedConversations = 2
        configuration.questionTimeoutSeconds = questionTimeout
        var logger = Logger(label: "emulator")
        logger.logLevel = .warning
        let server = try await AsyncatEmulatorServer.start(configuration: configuration, logger: logger)
        let client = AsyncatClient(baseURL: server.baseURL, token: token, timeouts: Timeouts(connect: 2, idle: 5, request: 10),
                                   stateDirectory: dir.appendingPathComponent("client"), autoApprove: autoApprove, logger: Logger(label: "client"))
        do {
            try await body(server, client)
        } catch {
            _ = try? await offPool { client.stop() }
            await server.stop()
            throw error
        }
        _ = try? await offPool { client.stop() }
        await server.stop()
    }

    /// Polls the transcript until `done` holds of it.
    func transcript(_ client: AsyncatClient, _ id: String, until done: @escaping (Transcript) -> Bool) async throws -> Transcript {
        var last = try await offPool { try client.transcript(taskId: id) }
        let end = Date().addingTimeInterval(15)
        while !done(last), Date() < end {
            try await Task.sleep(for: .milliseconds(50))
            last = try await offPool { try client.transcript(taskId: id) }
        }
        return last
    }

    @Test func aTokenIsSentWhereTheServerChecksOneAndAWrongOneIsRejected() async throws {
        try await withLive(tokens: ["t0k"], token: "t0k") { (server: AsyncatEmulatorServer, client: AsyncatClient) async throws in
            #expect(try await offPool { try client.listTasks(from: nil, pageSize: 10) }.items.count == 2)
            let wrong = AsyncatClient(baseURL: server.baseURL, token: "nope", stateDirectory: FileManager.default.temporaryDirectory, logger: Logger(label: "x"))
            let error = await #expect(throws: RemoteError.self) { try await offPool { try wrong.listTasks(from: nil, pageSize: 10) } }
            #expect(error?.errno == EACCES)
        }
    }

    @Test func autoApproveRunsToolsWithoutAsking() async throws {
        try await withLive(autoApprove: true) { (_: AsyncatEmulatorServer, client: AsyncatClient) async throws in
            let sent = try await offPool { try client.send(Prompt(taskId: "draft-1", text: "Test it [emu:approve make check] [emu:words 3]", startsTask: true)) }
            let id = try #require(sent.serverTaskId)
            let done = try await transcript(client, id) { TaskStatus.derive($0, listed: nil) == .completed }
            #expect(TaskStatus.derive(done, listed: nil) == .completed)
            #expect(done.entries.last?.text == "the quarterly numbers ")
            // The run's session, as the server records it, and the one the saved reply names.
            let sessionId = try #require(done.entries.last?.attributes["agentSessionId"])
            let answer = try await offPool { try CurlTransport(timeouts: Timeouts(), errorInSuccess: { _ in nil })
                .perform(HTTPRequest(url: client.baseURL + "/api/ai/sessions/" + sessionId)).get() }
            let session = (try JSONSerialization.jsonObject(with: answer.body) as? [String: Any])?["session"] as? [String: Any]
            #expect(session?["status"] as? String == "completed")
        }
    }

    @Test func aQuestionLeftUnansweredTimesOutAndTheRunGoesOn() async throws {
        try await withLive(questionTimeout: 0.5) { (_: AsyncatEmulatorServer, client: AsyncatClient) async throws in
            let sent = try await offPool { try client.send(Prompt(taskId: "draft-2", text: "Ask [emu:ask] [emu:words 2]", startsTask: true)) }
            let id = try #require(sent.serverTaskId)
            let done = try await transcript(client, id) { TaskStatus.derive($0, listed: nil) == .completed }
            #expect(done.entries.last?.text == "the quarterly ")
        }
    }

    @Test func attachmentsAreHeldToTheServersLimits() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attachments-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let attachments = AsyncatAttachments(directory: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let small = dir.appendingPathComponent("small.txt")
        try Data("hello\n".utf8).write(to: small)
        var references: [String] = []
        for index in 0..<AsyncatAttachments.maxFiles {
            references.append(try attachments.keep(.file(small), as: "n\(index).txt", taskId: "c"))
        }
        #expect(throws: RemoteError.tooMany("n10.txt: a run takes at most 10 attached files, and 10 wait for the next prompt")) {
            _ = try attachments.keep(.file(small), as: "n10.txt", taskId: "c")
        }
        let big = dir.appendingPathComponent("big.txt")
        try Data(repeating: 0x61, count: Int(AsyncatAttachments.maxTextBytes) + 1).write(to: big)
        let error = #expect(throws: RemoteError.self) { _ = try attachments.keep(.file(big), as: "big.txt", taskId: "other") }
        #expect(error?.errno == EFBIG)
        let sent = attachments.attachments(references)
        #expect(sent.count == 10 && sent.allSatisfy { $0["content"] as? String == "hello\n" && $0["promptOnly"] as? Bool == true })
        attachments.sent(references, taskId: "c")
        #expect(references.allSatisfy { !FileManager.default.fileExists(atPath: $0) })
        _ = try attachments.keep(.file(small), as: "again.txt", taskId: "c")
    }
}

/// Runs the blocking client on a thread of its own, as the mount does, never on Swift's pool.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
