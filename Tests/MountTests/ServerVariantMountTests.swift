import Foundation
import Testing

/// Servers that follow the API document but not this emulator's habits, and tasks driven by
/// other clients.
extension MountTests { @Suite struct ServerVariants {
    let helper = TaskWrites()

    /// Starts a task as another client would (its own connId: this mount gets no events).
    func startForeignTask(_ emulator: EmulatorProcess, _ taskId: String, _ text: String) throws {
        let body = #"{"type":"newTask","taskId":"\#(taskId)","text":"\#(text)","connId":"another-client","chatSettings":{"mode":"act"}}"#
        let result = try run(["curl", "-sf", "-H", "Authorization: Bearer \(EmulatorProcess.apiKey)", "-H", "Content-Type: application/json",
                              "-d", body, "\(emulator.url)/api/ai/message"])
        guard result.status == 0 else { throw HarnessError("newTask failed: \(result.stderr)") }
    }

    @Test func aTaskStartedElsewhereAndSeenWhileRunningEndsWithEveryFinalTextOnce() throws {
        try withMountedEmulator(["--seed-tasks", "1"]) { emulator, mount in
            let id = "f0e1d2c3-0000-4000-8000-000000000001"
            try startForeignTask(emulator, id, "Foreign work [emu:words 60] [emu:delay 100]")
            let log = mount.path("tasks/\(id)/stream.log")
            #expect(waitUntil(10) { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("Foreign work") })
            // Completed on the server, never opened with tail; no other file of it read.
            #expect(waitUntil(30) {
                let messages = (try? run(["curl", "-sf", "-H", "Authorization: Bearer \(EmulatorProcess.apiKey)",
                                          "\(emulator.url)/api/ai_task/getUiMessageById?id=\(id)"]))?.stdout ?? ""
                return messages.contains("completion_result")
            })
            let text = try String(contentsOfFile: log, encoding: .utf8)
            #expect(text.components(separatedBy: "Foreign work").count == 2, "\(text)")
            #expect(text.components(separatedBy: "Done: report.md").count == 2, "\(text)")
            #expect(text.contains("] agent\n"))
            #expect(!text.contains("changed") && !text.contains("rewritten"), "\(text)")
        }
    }
}}

extension MountTests.ServerVariants {
    /// No request waits for a `100 Continue` the server never sends (libcurl's default wait
    /// is 1 s): a small upload completes in well under a second. A behaviour bound, not a benchmark.
    @Test func aSmallUploadDoesNotWaitForAContinue() throws {
        try withMountedEmulator(["--seed-tasks", "1"]) { emulator, mount in
            let source = mount.cacheDirectory.deletingLastPathComponent().appendingPathComponent("tiny.txt").path
            try Data("abc".utf8).write(to: URL(fileURLWithPath: source))
            // Warm up: the first request opens the connection.
            #expect(try run(["cp", source, mount.path("tasks/\(seededTask)/uploads/warm.txt")]).status == 0)
            var times: [Double] = []
            for i in 0..<3 {
                let start = Date()
                #expect(try run(["cp", source, mount.path("tasks/\(seededTask)/uploads/tiny-\(i).txt")]).status == 0)
                times.append(Date().timeIntervalSince(start))
            }
            #expect(times.min()! < 0.5, "cp of 3 bytes took \(times) s")
        }
    }
}

extension MountTests.ServerVariants {
    /// A deployment without the task list, task info, the current download and upload routes
    /// and the cancel route, answering each as its framework would: tasks/ still lists what
    /// the mount knows, and drafts, prompts, uploads, workspace reads and cancel all work
    /// through the older routes.
    @Test(arguments: ["envelope", "framework", "empty"])
    func aServerWithoutTheCurrentRoutesStillWorks(style: String) throws {
        try withMountedEmulator(["--seed-tasks", "1"]) { emulator, mount in
            try helper.setFaults(emulator, #"{"missingRoutes": ["list", "taskInfo", "download", "upload", "cancel"], "missingRouteStyle": "\#(style)"}"#)
            let ls = try run(["ls", mount.path("tasks")])
            #expect(ls.status == 0, "\(ls.stderr)")
            #expect(try run(["mkdir", mount.path("tasks/nolist")]).status == 0)
            #expect(try run(["ls", mount.path("tasks")]).stdout.contains("nolist"))
            let source = mount.cacheDirectory.deletingLastPathComponent().appendingPathComponent("brief.txt").path
            try Data("the brief\n".utf8).write(to: URL(fileURLWithPath: source))
            let cp = try run(["cp", source, mount.path("tasks/nolist/uploads/brief.txt")])
            #expect(cp.status == 0, "\(cp.stderr)")
            let id = try helper.taskId(mount, "nolist")
            #expect(FileManager.default.contents(atPath: emulator.workspaceFile(id, "upload_documents/brief.txt")) == Data("the brief\n".utf8))
            #expect(try run(["sh", "-c", "echo 'Use the brief [emu:words 5] [emu:delay 1]' > '\(mount.path("tasks/nolist/prompt.txt"))'"]).status == 0)
            #expect(helper.waitForStatus(mount, "nolist", "completed") == "completed\n")
            let report = try run(["cat", mount.path("tasks/nolist/workspace/report.md")])
            #expect(report.status == 0, "\(report.stderr)")
            #expect(report.stdoutData == FileManager.default.contents(atPath: emulator.workspaceFile(id, "report.md")))
            // Cancel falls back to the cancelTask message.
            #expect(try run(["mkdir", mount.path("tasks/stopme")]).status == 0)
            #expect(try run(["sh", "-c", "echo 'Go [emu:forever] [emu:delay 20]' > '\(mount.path("tasks/stopme/prompt.txt"))'"]).status == 0)
            let cancel = try run(["bash", "-c", "echo cancel > '\(mount.path("tasks/stopme/ctl"))'"])
            #expect(cancel.status == 0, "\(cancel.stderr)")
            // (Without the list and task-info routes the mount cannot read the task's status
            // field back; the server's record shows the cancel arrived.)
            let record = emulator.dataDirectory.appendingPathComponent("tasks/\(try helper.taskId(mount, "stopme")).json").path
            #expect(waitUntil(10) { ((try? String(contentsOfFile: record, encoding: .utf8)) ?? "").contains("\"cancelled\"") })
            let status = try String(contentsOfFile: mount.path(".synapsefs/status.json"), encoding: .utf8)
            #expect(status.contains("\"degraded\"") && status.contains("listingError"), "\(status)")
        }
    }
}

extension MountTests.ServerVariants {
    /// A rejected key answered with HTTP 200 and code 1101 on every route, downloads and the
    /// event stream included: EACCES, `rejected-key` in status.json, and no error envelope
    /// ever cached as a file's content.
    @Test(arguments: [200, 401])
    func aKeyRejectedOnEveryRouteIsEACCESAndNothingIsCached(status: Int) throws {
        try withMountedEmulator(["--seed-tasks", "1", "--seed-file", "cold.bin:100K"]) { emulator, mount in
            let file = mount.path("tasks/\(seededTask)/workspace/cold.bin")
            #expect(try run(["ls", mount.path("tasks/\(seededTask)/workspace")]).status == 0)
            try helper.setFaults(emulator, #"{"rejectKeysWithStatus": \#(status)}"#)
            #expect(openErrno(file) == 0)
            let cat = try run(["cat", file])
            #expect(cat.status != 0 && cat.stderr.contains("Permission denied"), "\(cat.stderr)")
            #expect(waitUntil(10) {
                ((try? String(contentsOfFile: mount.path(".synapsefs/status.json"), encoding: .utf8)) ?? "").contains("rejected-key")
            })
            try helper.setFaults(emulator, #"{"rejectKeysWithStatus": 0}"#)
            let again = try run(["cat", file])
            #expect(again.status == 0, "\(again.stderr)")
            #expect(again.stdoutData == FileManager.default.contents(atPath: emulator.workspaceFile(seededTask, "cold.bin")))
        }
    }
}

extension MountTests.ServerVariants {
    /// `/api/ai/message` refusing as the seed shows, with HTTP 200 and `success: false`: the
    /// prompt's close() fails, stream.log says why, and nothing is sent twice.
    @Test(arguments: ["error", "notification"])
    func aMessageRefusedWithSuccessFalseFailsClose(style: String) throws {
        try withMountedEmulator(["--seed-tasks", "1"]) { emulator, mount in
            #expect(try run(["mkdir", mount.path("tasks/refused")]).status == 0)
            try helper.setFaults(emulator, #"{"failMessages": 1, "failMessagesAs": "\#(style)"}"#)
            #expect(try closeErrno(writing: Data("Summarise [emu:words 3]".utf8), to: mount.path("tasks/refused/prompt.txt")) == EIO)
            let log = try String(contentsOfFile: mount.path("tasks/refused/stream.log"), encoding: .utf8)
            #expect(log.contains("prompt not sent") && log.contains("insufficient balance"), "\(log)")
            #expect(try String(contentsOfFile: mount.path("tasks/refused/status"), encoding: .utf8) == "draft\n")
            // The next prompt goes through, once.
            #expect(try closeErrno(writing: Data("Summarise [emu:words 3]".utf8), to: mount.path("tasks/refused/prompt.txt")) == 0)
            #expect(helper.waitForStatus(mount, "refused", "completed") == "completed\n")
            #expect(try helper.userMessages(emulator, try helper.taskId(mount, "refused")) == ["Summarise [emu:words 3]"])
        }
    }
}

extension MountTests.ServerVariants {
    /// Every shape of the message list the API notes allow reads the same.
    @Test(arguments: ["array", "messages", "uiMessages", "bare"])
    func everyMessageListShapeReadsTheSame(shape: String) throws {
        try withMountedEmulator(["--seed-tasks", "1"]) { emulator, mount in
            try helper.setFaults(emulator, #"{"messageListShape": "\#(shape)"}"#)
            let messages = try Data(contentsOf: URL(fileURLWithPath: mount.path("tasks/\(seededTask)/messages.json")))
            let list = try #require(try JSONSerialization.jsonObject(with: messages) as? [[String: Any]])
            #expect(list.count >= 3, "\(shape): \(list.count) messages")
            #expect(try String(contentsOfFile: mount.path("tasks/\(seededTask)/status"), encoding: .utf8) == "completed\n")
            #expect(try String(contentsOfFile: mount.path("tasks/\(seededTask)/stream.log"), encoding: .utf8).contains("] result\n"))
        }
    }
}
