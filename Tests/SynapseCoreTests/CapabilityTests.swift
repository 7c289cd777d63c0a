import Foundation
import Testing
@testable import SynapseCore

/// What a backend declares it cannot do is refused with a clear errno, said in status.json,
/// and never reaches the server.
@Suite struct CapabilityTests {
    func fixture(_ change: (inout BackendCapabilities) -> Void) throws -> Fixture {
        var capabilities = BackendCapabilities()
        change(&capabilities)
        let remote = FakeRemote(capabilities: capabilities)
        remote.addTask("done", messages: [TaskMessage(ts: 1, type: "say", say: "completion_result", text: "finished")])
        remote.addTask("busy", messages: [TaskMessage(ts: 1, type: "say", say: "text", text: "working on it")])
        return try Fixture(remote: remote, allowDelete: true)
    }

    func sent(_ f: Fixture) -> [OutgoingMessage] { f.remote.state.withLock { $0.sent } }

    @Test func everythingDeclaredLeavesStatusJSONAsItWas() throws {
        let f = try fixture { _ in }
        #expect(try !f.text(".synapsefs/status.json").contains("serverCannot"))
    }

    @Test func cancelAndDeleteAreRefusedWithENOTSUP() throws {
        let f = try fixture {
            $0.cancel = false
            $0.delete = false
        }
        #expect((#expect(throws: FSError.self) { try f.write(Data("cancel\n".utf8), to: "tasks/busy/ctl") })?.errno == ENOTSUP)
        #expect((#expect(throws: FSError.self) { try f.write(Data("delete\n".utf8), to: "tasks/done/ctl") })?.errno == ENOTSUP)
        #expect(sent(f).isEmpty)
        #expect(try f.taskFolders().contains("done"))
        let status = try f.text(".synapsefs/status.json")
        #expect(status.contains("cancel: `echo cancel > ctl` fails with ENOTSUP"))
        #expect(status.contains("delete: `echo delete > ctl` fails with ENOTSUP"))
    }

    @Test func withoutUploadsUploadsIsReadOnly() throws {
        let f = try fixture { $0.uploads = false }
        let error = #expect(throws: FSError.self) {
            try f.fs.create(parent: try f.resolve("tasks/done/uploads"), name: "data.csv", exclusive: false, appending: false)
        }
        #expect(error?.errno == EROFS)
        #expect(try f.list("tasks/done/uploads").isEmpty)
        #expect(try f.text(".synapsefs/status.json").contains("uploads/ is read-only (EROFS)"))
    }

    @Test func withoutFilesATaskHasNoWorkspaceOrUploads() throws {
        let f = try fixture { $0.files = false }
        #expect(try f.list("tasks/done").sorted() == ["ctl", "info.json", "messages.json", "prompt.txt", "status", "stream.log"])
        for name in ["workspace", "uploads"] {
            let error = #expect(throws: FSError.self) { _ = try f.resolve("tasks/done/\(name)") }
            #expect(error?.errno == ENOENT)
        }
        #expect(try f.text(".synapsefs/status.json").contains("tasks have no workspace/ or uploads/ (ENOENT)"))
        #expect(!(try f.text(".synapsefs/status.json")).contains("uploads/ is read-only"))
    }

    @Test func aPromptWhileRunningIsBusyWhereItWouldInterruptTheRun() throws {
        let f = try fixture { $0.promptWhileRunning = false }
        let error = #expect(throws: FSError.self) { try f.write(Data("and another thing".utf8), to: "tasks/busy/prompt.txt") }
        #expect(error?.errno == EBUSY)
        #expect(sent(f).isEmpty)
        #expect(try f.text("tasks/busy/stream.log").contains("the task is running and this server would interrupt the run"))
        // A finished task takes its next prompt.
        try f.write(Data("next".utf8), to: "tasks/done/prompt.txt")
        #expect(sent(f).count == 1)
    }

    @Test func wherePromptsWhileRunningAreFineTheyAreSent() throws {
        let f = try fixture { _ in }
        try f.write(Data("and another thing".utf8), to: "tasks/busy/prompt.txt")
        #expect(sent(f).count == 1)
    }
}
