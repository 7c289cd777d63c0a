import Foundation
import Testing
@testable import SynapseCore

/// A server that gives a draft an id of its own at the first prompt: the folder, its inode and
/// its log stay the draft's; the server is asked by its id; a remount remembers it.
@Suite struct ServerAssignedIdTests {
    func sent(_ f: Fixture) -> [OutgoingMessage] { f.remote.state.withLock { $0.sent } }

    @Test func aDraftKeepsItsFolderWhenTheServerNamesItsTask() throws {
        let remote = FakeRemote()
        remote.state.withLock { $0.assignsIds = true }
        let cacheRoot = FileManager.default.temporaryDirectory.appendingPathComponent("synapsefs-alias-\(UUID().uuidString)")
        let f = try Fixture(remote: remote, cacheRoot: cacheRoot, ttl: 0)
        let folder = try f.fs.mkdir(parent: try f.resolve("tasks"), name: "report")
        try f.write(Data("Write the report".utf8), to: "tasks/report/prompt.txt")
        #expect(sent(f) == [.newTask(taskId: "srv-1", text: "Write the report", connId: "test-conn")])
        // The server lists srv-1: shown once, in the draft's folder, under the same inode.
        #expect(try f.taskFolders() == ["report"])
        #expect(try f.resolve("tasks/report") == folder.inode)
        let info = try JSONSerialization.jsonObject(with: try f.readAll("tasks/report/info.json")) as? [String: Any]
        #expect(info?["serverId"] as? String == "srv-1")
        #expect(info?["id"] as? String != "srv-1", "the mount's id stays the draft's")
        #expect(try f.text("tasks/report/stream.log").contains("Write the report"))
        // The next prompt goes to the server's id.
        try f.write(Data("Shorter, please".utf8), to: "tasks/report/prompt.txt")
        #expect(sent(f).last == .answer(taskId: "srv-1", text: "Shorter, please", connId: "test-conn"))

        // Remounted: still one folder, still srv-1 on the server.
        let again = try Fixture(remote: remote, cacheRoot: cacheRoot, ttl: 0)
        #expect(try again.taskFolders() == ["report"])
        try again.write(Data("Thanks".utf8), to: "tasks/report/prompt.txt")
        #expect(sent(again).last == .answer(taskId: "srv-1", text: "Thanks", connId: "test-conn"))
    }

    @Test func withoutServerIdsTheDraftsIdIsTheTasks() throws {
        let f = try Fixture(ttl: 0)
        _ = try f.fs.mkdir(parent: try f.resolve("tasks"), name: "report")
        try f.write(Data("Go".utf8), to: "tasks/report/prompt.txt")
        guard case .newTask(let id, _, _)? = sent(f).first else { Issue.record("nothing sent"); return }
        let info = try JSONSerialization.jsonObject(with: try f.readAll("tasks/report/info.json")) as? [String: Any]
        #expect(info?["id"] as? String == id)
        #expect(info?["serverId"] == nil)
        #expect(try f.taskFolders() == ["report"])
    }
}

/// A server that stores uploads apart and wants them named in the next prompt (Sage): a file
/// closes once stored, waits for that prompt (status.json says so), and goes with it once.
@Suite struct AttachedUploadTests {
    /// A fixture whose server attaches uploads, with `name` written into t1's uploads/ and closed.
    func fixtureWithUpload(_ name: String, _ content: String) throws -> Fixture {
        let remote = FakeRemote()
        remote.addTask("t1", messages: [TaskMessage(ts: 1, type: "say", say: "completion_result", text: "done")])
        remote.state.withLock { $0.uploadsAttach = true }
        let f = try Fixture(remote: remote)
        let (_, opened) = try f.fs.create(parent: try f.resolve("tasks/t1/uploads"), name: name, exclusive: false, appending: false)
        defer { f.fs.release(opened.handle) }
        _ = try f.fs.write(opened.handle, at: 0, data: Data(content.utf8))
        try f.fs.flush(opened.handle)
        return f
    }

    @Test func anUploadWaitsForTheNextPromptAndGoesWithItOnce() throws {
        let f = try fixtureWithUpload("data.csv", "a,b\n1,2\n")
        let remote = f.remote
        #expect(try f.list("tasks/t1/uploads") == ["data.csv"])
        #expect(try f.text(".synapsefs/status.json").contains("attached to the next prompt"))
        #expect(remote.state.withLock { $0.attachmentsSent }.isEmpty)

        try f.write(Data("Use the data".utf8), to: "tasks/t1/prompt.txt")
        #expect(remote.state.withLock { $0.attachmentsSent } == [["oss://data.csv"]])
        #expect(try !f.text(".synapsefs/status.json").contains("attached to the next prompt"))
        try f.write(Data("And again".utf8), to: "tasks/t1/prompt.txt")
        #expect(remote.state.withLock { $0.attachmentsSent } == [["oss://data.csv"]], "named once")
    }

    @Test func aPromptThatFailsKeepsItsAttachmentsForTheNext() throws {
        let f = try fixtureWithUpload("notes.md", "# notes\n")
        let remote = f.remote
        remote.state.withLock { $0.failSends = 1 }
        #expect(throws: FSError.self) { try f.write(Data("Read my notes".utf8), to: "tasks/t1/prompt.txt") }
        #expect(try f.text(".synapsefs/status.json").contains("attached to the next prompt"))
        try f.write(Data("Read my notes".utf8), to: "tasks/t1/prompt.txt")
        #expect(remote.state.withLock { $0.attachmentsSent }.last == ["oss://notes.md"])
    }
}
