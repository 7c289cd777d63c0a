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
        let live = try await LiveSage.start(tokenSeconds: 0.5)
        defer { Task { await live.stop() } }
        let client = try live.client()
        _ = try await offPool { try client.listTasks(from: nil, pageSize: 10) }
        try await Task.sleep(for: .milliseconds(700))
        let again = try await offPool { try client.listTasks(from: nil, pageSize: 10) }
        #expect(again.items.count == 3)
    }

    @Test func aWrongPasswordIsARejectedKey() async throws {
        let live = try await LiveSage.start()
        defer { Task { await live.stop() } }
        let client = try live.client(password: "wrong")
        let error = await #expect(throws: RemoteError.self) { try await offPool { try client.listTasks(from: nil, pageSize: 10) } }
        #expect(error?.errno == EACCES)
    }
}
