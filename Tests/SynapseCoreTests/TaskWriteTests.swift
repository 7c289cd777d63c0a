import Foundation
import Testing
@testable import SynapseCore

/// Drafts, prompts, ctl and editor saves, against the fake remote.
@Suite struct TaskWriteTests {
    func draft(_ f: Fixture, _ name: String = "report") throws -> String {
        let entry = try f.fs.mkdir(parent: try f.resolve("tasks"), name: name)
        guard case .task(let id)? = f.fs.inodes.key(for: entry.inode) else { throw FSError.notFound("the task of tasks/\(name)") }
        return id
    }

    func sent(_ f: Fixture) -> [OutgoingMessage] { f.remote.state.withLock { $0.sent } }

    @Test func mkdirMakesADraftThatSurvivesARemount() throws {
        let f = try Fixture()
        let id = try draft(f)
        #expect(UUID(uuidString: id) != nil)
        #expect(try f.taskFolders().contains("report"))
        #expect(try f.text("tasks/report/status") == "draft\n")
        #expect((try JSONSerialization.jsonObject(with: try f.readAll("tasks/report/messages.json")) as? [Any])?.isEmpty == true)
        #expect(try f.list("tasks/report/workspace").isEmpty)
        let again = try Fixture(remote: f.remote, cacheRoot: f.cacheRoot)
        #expect(try again.text("tasks/report/status") == "draft\n")
        #expect(try again.text("tasks/report/info.json").contains("\"folder\" : \"report\""))
    }

    @Test func mkdirRefusesTakenAndUnsafeNames() throws {
        let f = try Fixture()
        _ = try draft(f)
        let tasks = try f.resolve("tasks")
        #expect((#expect(throws: FSError.self) { _ = try f.fs.mkdir(parent: tasks, name: "report") })?.errno == EEXIST)
        #expect((#expect(throws: FSError.self) { _ = try f.fs.mkdir(parent: tasks, name: "bad\u{1}name") })?.errno == EINVAL)
        #expect((#expect(throws: FSError.self) { _ = try f.fs.mkdir(parent: try f.resolve("tasks/report"), name: "sub") })?.errno == EPERM)
    }

    @Test func theFirstPromptIsANewTaskThenAnswersFollow() throws {
        let f = try Fixture()
        let id = try draft(f)
        try f.write(Data("Analyse churn".utf8), to: "tasks/report/prompt.txt")
        try f.write(Data("Now by region".utf8), to: "tasks/report/prompt.txt")
        #expect(sent(f) == [.newTask(taskId: id, text: "Analyse churn", connId: "test-conn"),
                            .answer(taskId: id, text: "Now by region", connId: "test-conn")])
        #expect(try f.text("tasks/report/prompt.txt") == "Now by region")
        #expect(try f.text("tasks/report/status") != "draft\n")
        // The folder keeps its name once the server knows the task.
        #expect(try f.taskFolders().contains("report"))
    }

    @Test func anOpenThatWritesNothingSendsNothing() throws {
        let f = try Fixture()
        _ = try draft(f)
        try f.write(Data(), to: "tasks/report/prompt.txt")
        let opened = try f.fs.open(try f.resolve("tasks/report/prompt.txt"), writing: true, truncating: false)
        try f.fs.flush(opened.handle)
        f.fs.release(opened.handle)
        #expect(sent(f).isEmpty)
        #expect(try f.text("tasks/report/status") == "draft\n")
    }

    @Test func badPromptsAreRefusedWithANotice() throws {
        let f = try Fixture()
        _ = try draft(f)
        for (bytes, errno) in [(Data(" \n\t ".utf8), EINVAL), (Data([0x66, 0xFF, 0xFE]), EINVAL)] {
            let error = #expect(throws: FSError.self) { try f.write(bytes, to: "tasks/report/prompt.txt") }
            #expect(error?.errno == errno)
        }
        let big = Data(repeating: UInt8(ascii: "a"), count: TaskActions.maxPromptBytes + 1)
        #expect((#expect(throws: FSError.self) { try f.write(big, to: "tasks/report/prompt.txt") })?.errno == EFBIG)
        #expect(sent(f).isEmpty)
        let log = try f.text("tasks/report/stream.log")
        #expect(log.contains("only whitespace"))
        #expect(log.contains("not valid UTF-8"))
    }

    @Test func aWriteBeyondTheLimitFailsAndCloseSendsNothing() throws {
        let f = try Fixture()
        _ = try draft(f)
        let opened = try f.fs.open(try f.resolve("tasks/report/prompt.txt"), writing: true, truncating: true)
        let chunk = Data(repeating: UInt8(ascii: "a"), count: 1 << 19)
        _ = try f.fs.write(opened.handle, at: 0, data: chunk)
        _ = try f.fs.write(opened.handle, at: 1 << 19, data: chunk)
        let overflow = #expect(throws: FSError.self) {
            _ = try f.fs.write(opened.handle, at: 1 << 20, data: chunk)
        }
        #expect(overflow?.errno == EFBIG)
        #expect((#expect(throws: FSError.self) { try f.fs.flush(opened.handle) })?.errno == EFBIG)
        f.fs.release(opened.handle)
        #expect(sent(f).isEmpty)
    }

    @Test func aFailedSendFailsCloseAndIsNeverSentTwice() throws {
        let f = try Fixture()
        _ = try draft(f)
        f.remote.state.withLock { $0.failSends = 1 }
        let opened = try f.fs.open(try f.resolve("tasks/report/prompt.txt"), writing: true, truncating: true)
        _ = try f.fs.write(opened.handle, at: 0, data: Data("hello".utf8))
        #expect((#expect(throws: FSError.self) { try f.fs.flush(opened.handle) })?.errno == EIO)
        try f.fs.flush(opened.handle) // a second close of a dup'd descriptor: nothing new to send
        f.fs.release(opened.handle)
        #expect(sent(f).isEmpty)
        #expect(try f.text("tasks/report/stream.log").contains("prompt not sent"))
        #expect(try f.text("tasks/report/status") == "draft\n")
    }

    @Test func aRejectedKeyFailsTheSendWithEACCES() throws {
        let f = try Fixture()
        _ = try draft(f)
        f.remote.setFailure(.rejectedKey("1101"))
        #expect((#expect(throws: FSError.self) { try f.write(Data("hi".utf8), to: "tasks/report/prompt.txt") })?.errno == EACCES)
    }

    @Test func editorsSaveByRenamingOverPromptAndTheirScratchStaysLocal() throws {
        let f = try Fixture()
        let id = try draft(f)
        let folder = try f.resolve("tasks/report")
        let (_, swap) = try f.fs.create(parent: folder, name: ".prompt.txt.swp", exclusive: true, appending: false)
        f.fs.release(swap.handle)
        let (_, tmp) = try f.fs.create(parent: folder, name: "sedAb12", exclusive: true, appending: false)
        _ = try f.fs.write(tmp.handle, at: 0, data: Data("From an editor".utf8))
        try f.fs.flush(tmp.handle)
        f.fs.release(tmp.handle)
        #expect(sent(f).isEmpty)
        try f.fs.rename(parent: folder, name: "sedAb12", newParent: folder, newName: "prompt.txt")
        #expect(sent(f) == [.newTask(taskId: id, text: "From an editor", connId: "test-conn")])
        try f.fs.rename(parent: folder, name: "prompt.txt", newParent: folder, newName: "prompt.txt~")
        #expect(try f.text("tasks/report/prompt.txt~") == "From an editor")
        #expect(try f.text("tasks/report/prompt.txt") == "From an editor")
        try f.fs.unlink(parent: folder, name: "prompt.txt~")
        try f.fs.unlink(parent: folder, name: ".prompt.txt.swp")
        #expect(try f.list("tasks/report").sorted() == ["ctl", "info.json", "messages.json", "prompt.txt", "status", "stream.log", "uploads", "workspace"])
        #expect((#expect(throws: FSError.self) { try f.fs.unlink(parent: folder, name: "prompt.txt") })?.errno == EPERM)
    }

    @Test func ctlCancelsRefreshesAndDeletesOnlyWhenAllowed() throws {
        let f = try Fixture()
        f.remote.addTask("t1")
        try f.write(Data("cancel\n".utf8), to: "tasks/t1/ctl")
        #expect(sent(f) == [.cancel(taskId: "t1")])
        try f.write(Data("refresh\n".utf8), to: "tasks/t1/ctl")
        #expect((#expect(throws: FSError.self) { try f.write(Data("delete\n".utf8), to: "tasks/t1/ctl") })?.errno == EPERM)
        #expect((#expect(throws: FSError.self) { try f.write(Data("explode\n".utf8), to: "tasks/t1/ctl") })?.errno == EINVAL)
        #expect(f.remote.state.withLock { $0.deleted }.isEmpty)
        let permissive = try Fixture(remote: f.remote, allowDelete: true)
        try permissive.write(Data("delete\n".utf8), to: "tasks/t1/ctl")
        #expect(f.remote.state.withLock { $0.deleted } == ["t1"])
        #expect(try permissive.taskFolders().contains("t1") == false)
    }

    @Test func rmdirNeverDeletesATask() throws {
        let f = try Fixture()
        f.remote.addTask("t1")
        _ = try f.taskFolders()
        #expect((#expect(throws: FSError.self) { try f.fs.rmdir(parent: try f.resolve("tasks"), name: "t1") })?.errno == EPERM)
        #expect(try f.taskFolders() == ["t1"])
    }

    @Test func anEventMakesTheTaskFreshBeforeItsTTL() throws {
        let f = try Fixture(ttl: 600)
        f.remote.addTask("t1", messages: [TaskMessage(ts: 1, type: "say", say: "task", text: "go")])
        #expect(try f.text("tasks/t1/status") == "running\n")
        let workers = f.fs.startWorkers()
        defer { workers.stop() }
        f.remote.state.withLock { $0.messages["t1"]!.append(TaskMessage(ts: 2, type: "say", say: "completion_result", text: "done")) }
        #expect(try f.text("tasks/t1/status") == "running\n") // cached for the TTL
        f.remote.push(ServerEvent(type: "message.add", data: #"{"taskId":"t1","message":{"ts":2}}"#))
        let deadline = Date().addingTimeInterval(5)
        while (try? f.text("tasks/t1/status")) != "completed\n", Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(try f.text("tasks/t1/status") == "completed\n")
        #expect(f.fs.events.snapshot.phase == .open)
    }

    @Test func theEventStreamReconnectsAfterADrop() throws {
        let f = try Fixture()
        let workers = f.fs.startWorkers()
        defer { workers.stop() }
        f.remote.push(ServerEvent(type: "heartbeat", data: "\"ping\""))
        Thread.sleep(forTimeInterval: 0.1)
        f.remote.dropStream()
        let deadline = Date().addingTimeInterval(5)
        while f.remote.state.withLock({ $0.streamsOpened }) < 2, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(f.remote.state.withLock { $0.streamsOpened } >= 2)
        #expect(f.fs.events.snapshot.reconnects >= 1)
    }
}
