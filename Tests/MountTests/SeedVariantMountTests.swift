import Foundation
import Testing

/// What the seed allows a server to do that the emulator did not do before: slimmed message
/// lists, partials as increments, retracted drafts, questions that ask for approval, and the
/// auto-approval settings of new tasks.
extension MountTests { @Suite struct SeedVariants {
    let helper = TaskWrites()
    let live = LiveLog()
    let variants = ServerVariants()

    /// Every non-empty text of the task's messages, whole (`ai_task/tasks` does not slim).
    func wholeTexts(_ emulator: EmulatorProcess, _ taskId: String) throws -> [String] {
        let result = try run(["curl", "-sf", "-H", "Authorization: Bearer \(EmulatorProcess.apiKey)",
                              "\(emulator.url)/api/ai_task/tasks?taskId=\(taskId)"])
        let data = (try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any])?["data"] as? [String: Any]
        return (data?["messages"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }.filter { !$0.isEmpty }
    }

    /// The texts messages.json shows.
    func shownTexts(_ mount: MountProcess, _ folder: String) throws -> [String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: mount.path("tasks/\(folder)/messages.json")))
        return (try JSONSerialization.jsonObject(with: data) as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }.filter { !$0.isEmpty }
    }

    func serverHasCompleted(_ emulator: EmulatorProcess, _ taskId: String) -> Bool {
        waitUntil(30) { ((try? wholeTexts(emulator, taskId)) ?? []).contains { $0.hasPrefix("Done: report.md") } }
    }

    /// `getUiMessageById` cuts long texts (seed L142), marked or not: stream.log and
    /// messages.json show them whole (from `messagePayload`), for a task driven from the mount
    /// and for one driven elsewhere and only polled.
    @Test(arguments: ["none", "ellipsis", "flag"])
    func slimmedMessagesReadWhole(marker: String) throws {
        try withMountedEmulator(["--seed-tasks", "1"]) { emulator, mount in
            try helper.setFaults(emulator, #"{"slimMessagesOver": 1000, "slimMarker": "\#(marker)"}"#)
            #expect(try run(["mkdir", mount.path("tasks/long")]).status == 0)
            try live.prompt(mount, "long", "Write at length [emu:words 600] [emu:delay 0]")
            #expect(helper.waitForStatus(mount, "long", "completed") == "completed\n")
            let id = try helper.taskId(mount, "long")
            let whole = try wholeTexts(emulator, id)
            #expect(whole.contains { $0.count > 1000 })
            let log = try String(contentsOfFile: mount.path("tasks/long/stream.log"), encoding: .utf8)
            live.expectEveryFinalTextOnce(log, whole)
            #expect(!log.contains("changed") && !log.contains("rewritten"), "\(log.suffix(400))")
            #expect(try shownTexts(mount, "long") == whole)

            let foreign = "f0e1d2c3-0000-4000-8000-00000000000a"
            try variants.startForeignTask(emulator, foreign, "Foreign at length [emu:words 600] [emu:delay 0]")
            #expect(serverHasCompleted(emulator, foreign))
            let foreignLog = try String(contentsOfFile: mount.path("tasks/\(foreign)/stream.log"), encoding: .utf8)
            live.expectEveryFinalTextOnce(foreignLog, try wholeTexts(emulator, foreign))
            #expect(!foreignLog.contains("changed") && !foreignLog.contains("rewritten"), "\(foreignLog.suffix(400))")
            #expect(try shownTexts(mount, foreign) == (try wholeTexts(emulator, foreign)))
        }
    }

    /// `message.partial` as the text so far or as only what is new (seed L69, L79): `tail -f`
    /// sees the agent typing, and the log reads the same either way.
    @Test(arguments: ["snapshots", "increments"])
    func partialsReadTheSameAsSnapshotsOrIncrements(mode: String) throws {
        try withMountedEmulator([]) { emulator, mount in
            try helper.setFaults(emulator, #"{"partialsAs": "\#(mode)"}"#)
            #expect(try run(["mkdir", mount.path("tasks/typing")]).status == 0)
            let out = mount.cacheDirectory.deletingLastPathComponent().appendingPathComponent("tail.out")
            let tail = try ChildProcess(["tail", "-n", "+1", "-s", "0.2", "-f", mount.path("tasks/typing/stream.log")], output: out)
            defer { tail.stop() }
            try live.prompt(mount, "typing", "Type slowly [emu:words 150] [emu:delay 40]")
            var sizes: [Int] = []
            #expect(waitUntil(30) {
                let size = (try? Data(contentsOf: out).count) ?? 0
                if sizes.last != size { sizes.append(size) }
                return ((try? String(contentsOf: out, encoding: .utf8)) ?? "").contains("Done: report.md")
            })
            #expect(sizes.count >= 4, "tail saw \(sizes)")
            let id = try helper.taskId(mount, "typing")
            let log = try String(contentsOfFile: mount.path("tasks/typing/stream.log"), encoding: .utf8)
            live.expectEveryFinalTextOnce(log, try wholeTexts(emulator, id))
            #expect(!log.contains("rewritten") && !log.contains("changed") && !log.contains("(continued)"), "\(log)")
            #expect(waitUntil(5) { (try? String(contentsOf: out, encoding: .utf8)) == log })
        }
    }

    /// The agent starts a message and takes it back (`message.remove`): the log keeps what
    /// was shown with a notice, every final text once; messages.json no longer has it.
    @Test func aRetractedDraftIsNotedAndNeverReturns() throws {
        try withMountedEmulator([]) { emulator, mount in
            #expect(try run(["mkdir", mount.path("tasks/draft")]).status == 0)
            try live.prompt(mount, "draft", "Think first [emu:retract] [emu:words 20] [emu:delay 30]")
            #expect(helper.waitForStatus(mount, "draft", "completed") == "completed\n")
            let log = try String(contentsOfFile: mount.path("tasks/draft/stream.log"), encoding: .utf8)
            #expect(log.components(separatedBy: "Let me think about").count == 2, "\(log)")
            #expect(log.contains("was removed"), "\(log)")
            live.expectEveryFinalTextOnce(log, try wholeTexts(emulator, try helper.taskId(mount, "draft")))
            #expect(try !shownTexts(mount, "draft").contains { $0.contains("Let me") })
        }
    }

    /// An ask for approval (here a command): status says waiting and what is asked; the next
    /// prompt answers it.
    @Test func aCommandToApproveMakesTheTaskWaitAndSaysWhatIsAsked() throws {
        try withMountedEmulator([]) { _, mount in
            #expect(try run(["mkdir", mount.path("tasks/approve")]).status == 0)
            try live.prompt(mount, "approve", "Build it [emu:words 5] [emu:approve npm test]")
            var status = ""
            #expect(waitUntil(20) {
                status = (try? String(contentsOfFile: mount.path("tasks/approve/status"), encoding: .utf8)) ?? ""
                return status.hasPrefix("waiting\n")
            })
            #expect(status == "waiting\ncommand: npm test\n", "\(status)")
            let head = try run(["head", "-n", "1", mount.path("tasks/approve/status")])
            #expect(head.stdout == "waiting\n")
            #expect(try String(contentsOfFile: mount.path("tasks/approve/stream.log"), encoding: .utf8).contains("] agent asks (command)\nnpm test"))
            try live.prompt(mount, "approve", "yes")
            #expect(helper.waitForStatus(mount, "approve", "completed") == "completed\n")
            #expect(try String(contentsOfFile: mount.path("tasks/approve/stream.log"), encoding: .utf8).contains("Ran `npm test`."))
        }
    }

    /// `autoApprovalSettings` from the config file go with every newTask: the agent runs the
    /// command without asking. Settings that are not a JSON object stop the mount at start.
    @Test func autoApprovalSettingsFromTheConfigGoWithEveryNewTask() throws {
        try withScene([]) { scene in
            let config = scene.root.appendingPathComponent("config.json")
            try Data(#"{"autoApprovalSettings": {"enabled": true, "actions": {"executeSafeCommands": true}}}"#.utf8).write(to: config)
            let mount = try scene.mount(extraArguments: ["--config", config.path])
            defer { mount.unmount() }
            #expect(try run(["mkdir", mount.path("tasks/auto")]).status == 0)
            try live.prompt(mount, "auto", "Build it [emu:words 5] [emu:approve npm test]")
            #expect(helper.waitForStatus(mount, "auto", "completed") == "completed\n")
            let log = try String(contentsOfFile: mount.path("tasks/auto/stream.log"), encoding: .utf8)
            #expect(log.contains("Running `npm test` (auto-approved).") && !log.contains("agent asks"), "\(log)")

            try Data(#"{"autoApprovalSettings": true}"#.utf8).write(to: config)
            let refused = try run([synapsefsBinary, "mount", scene.root.appendingPathComponent("mnt2").path, "--config", config.path, "-f"],
                                  environment: ["INFINISYNAPSE_API_KEY": EmulatorProcess.apiKey], timeout: 30)
            #expect(refused.status != 0 && refused.stderr.contains("autoApprovalSettings"), "\(refused.stderr)")
        }
    }
}}

extension MountTests.SeedVariants {
    /// A long reply of a task driven elsewhere, followed by polling while it grows: the list
    /// shows it cut (with "…") while it runs and whole when it ends, and the log reads it
    /// whole, once, with no rewrite.
    @Test(arguments: ["snapshots", "increments"])
    func aLongReplyFollowedByPollingReadsWholeOnce(mode: String) throws {
        try withMountedEmulator([]) { emulator, mount in
            try helper.setFaults(emulator, #"{"slimMessagesOver": 300, "slimMarker": "ellipsis", "partialsAs": "\#(mode)"}"#)
            let foreign = "f0e1d2c3-0000-4000-8000-00000000000b"
            try variants.startForeignTask(emulator, foreign, "Slowly and at length [emu:words 250] [emu:delay 40]")
            let out = mount.cacheDirectory.deletingLastPathComponent().appendingPathComponent("tail.out")
            #expect(waitUntil(10) { FileManager.default.fileExists(atPath: mount.path("tasks/\(foreign)/stream.log")) })
            let tail = try ChildProcess(["tail", "-n", "+1", "-s", "0.2", "-f", mount.path("tasks/\(foreign)/stream.log")], output: out)
            defer { tail.stop() }
            #expect(serverHasCompleted(emulator, foreign))
            #expect(waitUntil(10) { ((try? String(contentsOf: out, encoding: .utf8)) ?? "").contains("Done: report.md") })
            let log = try String(contentsOfFile: mount.path("tasks/\(foreign)/stream.log"), encoding: .utf8)
            live.expectEveryFinalTextOnce(log, try wholeTexts(emulator, foreign))
            #expect(!log.contains("rewritten") && !log.contains("changed") && !log.contains("…"), "\(log)")
        }
    }
}
