import Foundation
import Logging
import Sage
import SageEmulator
import SynapseCore
import SynapseHTTP
import Testing

/// The Sage client against the Sage emulator on loopback: conversations, transcripts, the
/// agent's workspace and its files, and a session that runs out and is renewed.
@Suite struct SageClientTests {
    func all(_ client: SageClient, pageSize: Int) throws -> [TaskSummary] {
        var tasks: [TaskSummary] = []
        var position: PagePosition? = nil
        repeat {
            let page = try client.listTasks(from: position, pageSize: pageSize)
            tasks += page.items
            position = page.next
        } while position != nil && tasks.count < 1000
        return tasks
    }

    @Test func everyConversationIsListedOnceAcrossPages() async throws {
        let live = try await LiveSage.start(conversations: 5)
        defer { Task { await live.stop() } }
        let client = try live.client()
        let tasks = try await offPool { try all(client, pageSize: 2) }
        #expect(tasks.count == 5)
        #expect(Set(tasks.map(\.id)).count == 5)
        #expect(tasks.allSatisfy { $0.name.hasPrefix("Demo conversation") && $0.createdAt != nil })
    }

    @Test func aTranscriptAndItsInfoReadAsTheServerKeepsThem() async throws {
        let live = try await LiveSage.start()
        defer { Task { await live.stop() } }
        let client = try live.client()
        let first = try #require(try await offPool { try client.listTasks(from: nil, pageSize: 10) }.items.first)
        let transcript = try await offPool { try client.transcript(taskId: first.id) }
        #expect(transcript.entries.map(\.speaker) == [.user, .result])
        #expect(transcript.entries.first?.text == "Summarise the notes, please.")
        #expect(transcript.entries.map(\.id) == ["\(first.id)-u1", "\(first.id)-a1"])
        #expect(transcript.entries[0].time < transcript.entries[1].time)
        let info = try await offPool { try client.taskInfo(id: first.id) }
        #expect(info.id == first.id && info.name == first.name)
        await #expect(throws: RemoteError.notFound("conversation sess_none: conversation sess_none not found")) {
            try await offPool { try client.transcript(taskId: "sess_none") }
        }
    }

    @Test func aConversationsFilesAreItsAgentsSharedWorkspace() async throws {
        let live = try await LiveSage.start(conversations: 4)
        defer { Task { await live.stop() } }
        let client = try live.client()
        let tasks = try await offPool { try all(client, pageSize: 10) }
        // Conversations 1 and 3 have the same agent (the demo alternates two).
        let scopes = tasks.map { client.workspaceScope(taskId: $0.id) }
        #expect(Set(scopes).count == 2)
        let files = try await offPool { try client.workspace(taskId: tasks[0].id) }
        #expect(Set(files.map(\.path)) == ["notes.md", "reports/data.bin"], "files only: folders are implied")
        #expect(files.first { $0.path == "reports/data.bin" }?.size == 300_000)
        #expect(files.allSatisfy { $0.mtime != nil })
    }

    @Test func aRangedDownloadGivesTheStoredBytesAndAMissingFileIsNotFound() async throws {
        let live = try await LiveSage.start()
        defer { Task { await live.stop() } }
        let client = try live.client()
        let task = try #require(try await offPool { try client.listTasks(from: nil, pageSize: 10) }.items.first)
        _ = try await offPool { try client.workspace(taskId: task.id) }
        let agent = String(client.workspaceScope(taskId: task.id).dropFirst("agent ".count))
        let stored = try Data(contentsOf: live.directory.appendingPathComponent("agents/\(agent)/reports/data.bin"))
        let window = try await offPool { () -> Data in
            var bytes = Data()
            _ = try client.download(taskId: task.id, path: "reports/data.bin", offset: 1000, length: 4096, ifRange: nil) { chunk in
                #expect(chunk.offset == 1000 + Int64(bytes.count))
                bytes.append(contentsOf: chunk.bytes)
                return true
            }
            return bytes
        }
        #expect(window == stored[1000..<5096])
        let error = await #expect(throws: RemoteError.self) {
            try await offPool { _ = try client.download(taskId: task.id, path: "reports/none.bin", offset: 0, length: nil, ifRange: nil) { _ in true } }
        }
        #expect(error?.errno == ENOENT)
    }

    @Test func anExpiredSessionIsRenewedWithoutFailingTheRequest() async throws {
        let live = try await LiveSage.start(tokenSeconds: 1.5)
        defer { Task { await live.stop() } }
        let client = try live.client()
        _ = try await offPool { try client.listTasks(from: nil, pageSize: 10) }
        try await Task.sleep(for: .milliseconds(1800))
        let again = try await offPool { try client.listTasks(from: nil, pageSize: 10) }
        #expect(again.items.count == 3)
        // Renewed with the refresh token, not the password.
        #expect(live.server.logins == 1 && live.server.refreshes == 1, "\(live.server.logins) logins, \(live.server.refreshes) refreshes")
    }

    @Test func withoutARefreshRouteAnExpiredSessionLogsInAgain() async throws {
        let live = try await LiveSage.start(tokenSeconds: 1.5)
        defer { Task { await live.stop() } }
        var faults = SageFaults.Settings()
        faults.missingRoutes = ["oauth2"]
        live.server.faults.replace(with: faults)
        let client = try live.client()
        _ = try await offPool { try client.listTasks(from: nil, pageSize: 10) }
        try await Task.sleep(for: .milliseconds(1800))
        let again = try await offPool { try client.listTasks(from: nil, pageSize: 10) }
        #expect(again.items.count == 3)
        #expect(live.server.logins == 2 && live.server.refreshes == 0)
    }

    @Test func aWrongPasswordIsARejectedKey() async throws {
        let live = try await LiveSage.start()
        defer { Task { await live.stop() } }
        let client = try live.client(password: "wrong")
        let error = await #expect(throws: RemoteError.self) { try await offPool { try client.listTasks(from: nil, pageSize: 10) } }
        #expect(error?.errno == EACCES)
    }
}

extension SageClientTests {
    @Test func anUploadIsStoredApartAndItsURLGoesWithTheNextPrompt() async throws {
        let live = try await LiveSage.start()
        defer { Task { await live.stop() } }
        let client = try live.client()
        let source = live.directory.appendingPathComponent("upload source.csv")
        try FileManager.default.createDirectory(at: live.directory, withIntermediateDirectories: true)
        let bytes = Data((0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try bytes.write(to: source)
        let outcome = try await offPool { try client.upload(.file(source), as: "data v1.csv", taskId: "sess_demo_1", answering: nil) }
        guard case .attachedToNextPrompt(let url) = outcome else { Issue.record("not attached: \(outcome)"); return }
        #expect(url.hasPrefix(live.server.baseURL + "/oss/") && url.hasSuffix("/data%20v1.csv"))
        let fetched = try await offPool { try CurlTransport(timeouts: Timeouts(), errorInSuccess: { _ in nil }).perform(HTTPRequest(url: url)).get() }
        // (A Bool: a failed comparison of 200,000 bytes would be diffed for minutes.)
        let same = fetched.body == bytes
        #expect(fetched.status == 200 && same, "status \(fetched.status), \(fetched.body.count) bytes")
    }

    @Test func cancelInterruptsTheRunAndDeleteRemovesTheConversation() async throws {
        let live = try await LiveSage.start()
        defer { Task { await live.stop() } }
        let client = try live.client()
        // A run started elsewhere (the web UI), endless until interrupted.
        let web = CurlTransport(timeouts: Timeouts(), cookies: CookieJar(), errorInSuccess: { _ in nil })
        let base = live.server.baseURL
        try await offPool { () -> Void in
            _ = try web.perform(HTTPRequest(method: "POST", url: base + "/api/auth/login",
                                            body: Data(#"{"username_or_email":"alice","password":"s3cret"}"#.utf8))).get()
            let body = Data(#"{"messages":[{"role":"user","content":"Go [emu:forever] [emu:delay 5]"}],"session_id":"sess_demo_1"}"#.utf8)
            var lines = 0
            _ = web.stream(HTTPRequest(method: "POST", url: base + "/api/web-stream", body: body)) { _, bytes in
                lines += bytes.filter { $0 == 0x0A }.count
                return lines < 3
            }
        }
        try await offPool { try client.control(.cancel, taskId: "sess_demo_1") }
        let after = try await offPool { try client.transcript(taskId: "sess_demo_1") }
        #expect(after.entries.last?.speaker == .result)
        #expect(after.entries.count == 4, "the two demo messages, the prompt, and what the run said before it stopped")
        try await offPool { try client.control(.delete, taskId: "sess_demo_1") }
        let error = await #expect(throws: RemoteError.self) { try await offPool { try client.transcript(taskId: "sess_demo_1") } }
        #expect(error?.errno == ENOENT)
    }
}
