import Foundation
import Synchronization
import Testing
@testable import SynapseCore

/// `tasks/by-name/NAME -> ../FOLDER`: people find tasks without reading ids.
@Suite struct ByNameTests {
    @Test func eachTaskHasASafeUniqueLinkToItsFolder() throws {
        let remote = FakeRemote()
        remote.addTask("t1", name: "Churn report")
        remote.addTask("t2", name: "Churn report")
        remote.addTask("t3", name: "../../etc/passwd\n")
        remote.addTask("by-name", name: "Hostile id")
        let f = try Fixture(remote: remote)
        #expect(try f.list("tasks").contains(TaskCatalog.byNameFolder))
        // No task folder takes the name: a task whose id is `by-name` gets another folder.
        #expect(try !f.taskFolders().contains(TaskCatalog.byNameFolder))
        let names = try f.list("tasks/by-name")
        #expect(names.count == 4 && Set(names).count == 4, "\(names)")
        #expect(names.allSatisfy { !$0.contains("/") && !$0.contains("\n") && $0 != "." && $0 != ".." })
        var targets: Set<String> = []
        for name in names {
            let ino = try f.resolve("tasks/by-name/\(name)")
            #expect(try f.fs.getattr(ino).kind == .symlink)
            let target = try f.fs.readlink(ino)
            #expect(target.hasPrefix("../"))
            targets.insert(String(target.dropFirst(3)))
        }
        #expect(targets == Set(try f.taskFolders()))
    }

    @Test func aDraftIsNamedAsItsFolderAndByNameCannotBeMade() throws {
        let f = try Fixture(remote: FakeRemote())
        let tasks = try f.resolve("tasks")
        _ = try f.fs.mkdir(parent: tasks, name: "q3 report")
        #expect(try f.fs.readlink(try f.resolve("tasks/by-name/q3 report")) == "../q3 report")
        #expect((#expect(throws: FSError.self) { _ = try f.fs.mkdir(parent: tasks, name: TaskCatalog.byNameFolder) })?.errno == EEXIST)
    }
}

/// Status changes announced once each (`--on-event`), and the active tasks of status.json.
@Suite struct TaskActivityTests {
    @Test func aChangeIsAnnouncedOnceAndOldFinishedTasksAreNot() {
        let changes = Mutex<[TaskChange]>([])
        let activity = TaskActivity { change in changes.withLock { $0.append(change) } }
        activity.observe("old", .completed)
        activity.observe("t1", .running)
        activity.observe("t1", .running)
        activity.observe("t1", .waiting, question: "followup: Which region?")
        activity.observe("t1", .waiting, question: "followup: Which region?")
        activity.observe("t1", .running)
        activity.observe("t1", .completed)
        activity.observe("t1", .completed)
        // A late poll says running a moment, then the same completion again: not announced twice.
        activity.observe("t1", .completed, entryId: "9")
        activity.observe("t1", .running, entryId: "8")
        activity.observe("t1", .completed, entryId: "9")
        let seen = changes.withLock { $0 }
        #expect(seen.map(\.status) == [.waiting, .completed, .completed])
        #expect(seen.first?.question == "followup: Which region?" && seen.first?.previous == .running)
    }

    @Test func eventsAndFetchesFeedTheActivity() throws {
        let remote = FakeRemote()
        remote.addTask("t1", messages: [TaskMessage(ts: 1, type: "say", say: "task", text: "Go")])
        let changes = Mutex<[TaskChange]>([])
        let f = try Fixture(remote: remote) { change in changes.withLock { $0.append(change) } }
        #expect(try f.text("tasks/t1/status") == "running\n")
        f.fs.handle(ServerEvent(type: "message.add", data: #"{"taskId":"t1","message":{"ts":2,"type":"ask","ask":"command","text":"make"}}"#))
        #expect(try f.text(".synapsefs/status.json").contains("\"question\" : \"command: make\""))
        f.fs.handle(ServerEvent(type: "message.add", data: #"{"taskId":"t1","message":{"ts":3,"type":"say","say":"completion_result","text":"Done"}}"#))
        #expect(changes.withLock { $0 }.map(\.status) == [.waiting, .completed])
        #expect(!(try f.text(".synapsefs/status.json")).contains("\"t1\""))
    }
}
