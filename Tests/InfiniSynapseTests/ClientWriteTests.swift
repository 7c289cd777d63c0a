import Foundation
import Synchronization
import Testing
import SynapseHTTP
import InfiniSynapse
import SynapseCore

/// Messages, uploads, deletion and the event stream against the live emulator.
@Suite struct ClientWriteTests {
    @Test func newTaskStreamsEventsToItsConnectionAndCompletes() async throws {
        let emulator = try await LiveEmulator.start(seedTasks: 0)
        defer { Task { await emulator.stop() } }
        let client = emulator.client()
        let taskId = UUID().uuidString.lowercased()
        let events = collectEvents(client, connId: "conn-1") { $0.data.contains("completion_result") }
        try await Task.sleep(for: .milliseconds(200))
        try await offPool { try client.send(Prompt(taskId: taskId, text: "Report [emu:words 20] [emu:delay 5]", startsTask: true)) }
        // The same id again does not create a second task.
        try await offPool { try client.send(Prompt(taskId: taskId, text: "Report again", startsTask: true)) }
        for _ in 0..<100 where !events.all.contains(where: { $0.data.contains("completion_result") }) {
            try await Task.sleep(for: .milliseconds(50))
        }
        let seen = events.all
        #expect(seen.contains { $0.type == "message.partial" && $0.data.contains(taskId) })
        #expect(seen.contains { $0.type == "message.add" && $0.data.contains("completion_result") })
        let messages = try await offPool { try client.messages(taskId: taskId) }
        #expect(messages.filter { $0.say == "task" }.count == 1)
        #expect(messages.last?.isCompletion == true)
        let page = try await offPool { try client.listTasks(page: 1, pageSize: 100) }
        #expect(page.items.filter { $0.id == taskId }.count == 1)
    }

    @Test func cancellingAStreamingReplyFinalisesItWithAnUpdate() async throws {
        let emulator = try await LiveEmulator.start(seedTasks: 0)
        defer { Task { await emulator.stop() } }
        let client = emulator.client()
        let taskId = UUID().uuidString.lowercased()
        let events = collectEvents(client, connId: "conn-2") { $0.type == "message.update" }
        try await Task.sleep(for: .milliseconds(200))
        try await offPool { try client.send(Prompt(taskId: taskId, text: "Go [emu:forever] [emu:delay 10]", startsTask: true)) }
        try await Task.sleep(for: .milliseconds(300))
        try await offPool { try client.control(.cancel, taskId: taskId) }
        for _ in 0..<100 where !events.all.contains(where: { $0.type == "message.update" }) {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(events.all.contains(where: { $0.type == "message.update" && $0.data.contains("\"partial\":false") }))
        let info = try await offPool { try client.taskInfo(id: taskId) }
        #expect(info.serverStatus == "cancelled")
        let messages = try await offPool { try client.messages(taskId: taskId) }
        #expect(messages.last?.say == "text" && messages.last?.partial == false)
    }

    @Test func answeringAnUnknownTaskIsNotFound() async throws {
        let emulator = try await LiveEmulator.start(seedTasks: 0)
        defer { Task { await emulator.stop() } }
        let client = emulator.client()
        let error = await #expect(throws: RemoteError.self) {
            try await offPool { try client.send(Prompt(taskId: "no-such-task", text: "hi", startsTask: false)) }
        }
        #expect(error?.errno == ENOENT)
    }

    @Test func uploadsStreamTheFileToBothEndpoints() async throws {
        let emulator = try await LiveEmulator.start(seedTasks: 0)
        defer { Task { await emulator.stop() } }
        let client = emulator.client()
        let source = FileManager.default.temporaryDirectory.appendingPathComponent("upload-\(UUID().uuidString)")
        let bytes = Data((0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try bytes.write(to: source)
        defer { try? FileManager.default.removeItem(at: source) }
        let taskId = UUID().uuidString.lowercased()
        // Before newTask: taskUpload accepts a pre-generated id.
        let answer = try await offPool { try client.upload(.file(source), as: "notes v1.pdf", to: .workspace, taskId: taskId) }
        #expect(answer.contains("upload_documents/notes v1.pdf"))
        #expect(try Data(contentsOf: emulator.workspaceFile(task: taskId, path: "upload_documents/notes v1.pdf")) == bytes)
        _ = try await offPool { try client.upload(.file(source), as: "doc.bin", to: .sandbox, taskId: taskId) }
        #expect(try Data(contentsOf: emulator.workspaceFile(task: taskId, path: "doc.bin")) == bytes)
    }

    @Test func aStreamedUploadArrivesWholeAndAnAbandonedOneLeavesNothing() async throws {
        let emulator = try await LiveEmulator.start(seedTasks: 0)
        defer { Task { await emulator.stop() } }
        let client = emulator.client()
        let bytes = Data((0..<(5 << 20) + 123).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ $0 >> 9) })
        let taskId = UUID().uuidString.lowercased()
        _ = try await offPool { try client.upload(.stream(PacedStream(bytes)), as: "live.bin", to: .workspace, taskId: taskId) }
        #expect(try Data(contentsOf: emulator.workspaceFile(task: taskId, path: "upload_documents/live.bin")) == bytes)
        let error = await #expect(throws: RemoteError.self) {
            try await offPool { _ = try client.upload(.stream(PacedStream(bytes, abandonAfter: 2 << 20)), as: "cut.bin", to: .workspace, taskId: taskId) }
        }
        #expect(error != nil)
        #expect(!FileManager.default.fileExists(atPath: emulator.workspaceFile(task: taskId, path: "upload_documents/cut.bin").path))
    }

    @Test func aFailedUploadIsAServerError() async throws {
        let emulator = try await LiveEmulator.start(seedTasks: 0, failUploads: 1)
        defer { Task { await emulator.stop() } }
        let client = emulator.client()
        let source = FileManager.default.temporaryDirectory.appendingPathComponent("upload-\(UUID().uuidString)")
        try Data("x".utf8).write(to: source)
        defer { try? FileManager.default.removeItem(at: source) }
        let error = await #expect(throws: RemoteError.self) {
            try await offPool { _ = try client.upload(.file(source), as: "x.txt", to: .workspace, taskId: "t-1") }
        }
        guard case .server(let status, _)? = error else { Issue.record("expected a server error, got \(String(describing: error))"); return }
        #expect(status == 500)
        // The fault was for one upload only.
        _ = try await offPool { try client.upload(.file(source), as: "x.txt", to: .workspace, taskId: "t-1") }
    }

    @Test func anUploadOverTheLimitIsRefusedWith400() async throws {
        let emulator = try await LiveEmulator.start(seedTasks: 0, maxUploadBytes: 1 << 20)
        defer { Task { await emulator.stop() } }
        let client = emulator.client()
        let source = FileManager.default.temporaryDirectory.appendingPathComponent("big-\(UUID().uuidString)")
        try Data(count: 2 << 20).write(to: source)
        defer { try? FileManager.default.removeItem(at: source) }
        let error = await #expect(throws: RemoteError.self) {
            try await offPool { _ = try client.upload(.file(source), as: "big.bin", to: .workspace, taskId: "t-1") }
        }
        guard case .refused(let message)? = error else { Issue.record("expected refused, got \(String(describing: error))"); return }
        #expect(message.contains("too large"))
    }

    @Test func deleteRemovesTheTask() async throws {
        let emulator = try await LiveEmulator.start(seedTasks: 2)
        defer { Task { await emulator.stop() } }
        let client = emulator.client()
        try await offPool { try client.control(.delete, taskId: firstTask) }
        let error = await #expect(throws: RemoteError.self) { try await offPool { _ = try client.taskInfo(id: firstTask) } }
        #expect(error?.errno == ENOENT)
    }
}

/// Events received so far by `collectEvents`.
final class CollectedEvents: Sendable {
    private let list = Mutex<[ServerEvent]>([])
    func append(_ event: ServerEvent) { list.withLock { $0.append(event) } }
    var all: [ServerEvent] { list.withLock { $0 } }
}

/// Streams `connId`'s events on a thread of its own into the returned list, until `last`.
func collectEvents(_ client: InfiniSynapseClient, connId: String,
                   until last: @escaping @Sendable (ServerEvent) -> Bool) -> CollectedEvents {
    let events = CollectedEvents()
    Thread {
        try? client.streamEvents { event in
            events.append(event)
            return !last(event)
        }
    }.start()
    return events
}

/// Hands out `bytes` in uneven pieces with pauses, as a file being written does; gives up
/// (nil) once `abandonAfter` bytes are out, when set.
final class PacedStream: UploadStream, @unchecked Sendable {
    private let bytes: Data
    private let abandonAfter: Int?
    private var sent = 0

    init(_ bytes: Data, abandonAfter: Int? = nil) {
        self.bytes = bytes
        self.abandonAfter = abandonAfter
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        if let abandonAfter, sent >= abandonAfter { return nil }
        if sent % 3 == 0 { usleep(2000) }
        let n = min(buffer.count, bytes.count - sent, 300_001)
        bytes.copyBytes(to: buffer.bindMemory(to: UInt8.self), from: sent..<(sent + n))
        sent += n
        return n
    }
}
