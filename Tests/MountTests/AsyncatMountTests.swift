import Foundation
import Testing

/// An Asyncat mount, with real tools, against the Asyncat emulator: a draft's first prompt
/// makes a conversation the server names (the folder keeps its name), questions answered
/// through prompt.txt, permissions through ctl, uploads as the next run's attachments, a
/// dropped stream failing the task, an unmount during a run.
extension MountTests { @Suite struct Asyncat {
    let helper = TaskWrites()

    static func reply(words: Int) -> String { Sage.reply(words: words) }

    func log(_ mount: MountProcess, _ folder: String) -> String {
        (try? String(contentsOfFile: mount.path("tasks/\(folder)/stream.log"), encoding: .utf8)) ?? ""
    }

    func info(_ mount: MountProcess, _ folder: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: mount.path("tasks/\(folder)/info.json")))) as? [String: Any] ?? [:]
    }

    /// The server's conversation, as its API answers.
    func conversation(_ emulator: EmulatorProcess, _ id: String) throws -> [String: Any] {
        let result = try run(["curl", "-sf", "-H", "Authorization: Bearer \(EmulatorProcess.apiKey)", "\(emulator.url)/api/ai/chats/\(id)"])
        return ((try? JSONSerialization.jsonObject(with: result.stdoutData)) as? [String: Any])?["conversation"] as? [String: Any] ?? [:]
    }

    @Test func aDraftBecomesAConversationTheServerNamesAndKeepsItsFolder() throws {
        try withMountedEmulator(["--seed-tasks", "1"], backend: .asyncat) { (emulator: EmulatorProcess, mount: MountProcess) throws in
            #expect(try run(["mkdir", mount.path("tasks/plan")]).status == 0)
            #expect(try closeErrno(writing: Data("Plan the week [emu:words 30] [emu:delay 10]".utf8), to: mount.path("tasks/plan/prompt.txt")) == 0)
            #expect(helper.waitForStatus(mount, "plan", "completed") == "completed\n")
            let serverId = try #require(try info(mount, "plan")["serverId"] as? String)
            let messages = try conversation(emulator, serverId)["messages"] as? [[String: Any]] ?? []
            #expect(messages.map { $0["type"] as? String } == ["user", "assistant"])
            #expect(messages.last?["content"] as? String == Self.reply(words: 30))
            let listed = try run(["curl", "-sf", "-H", "Authorization: Bearer \(EmulatorProcess.apiKey)", "\(emulator.url)/api/ai/chats?limit=50"])
            #expect(listed.stdout.contains(serverId))
            // The folder keeps its name; the server's id is not a second folder.
            let names = try FileManager.default.contentsOfDirectory(atPath: mount.path("tasks"))
            #expect(names.contains("plan") && !names.contains(serverId))
            #expect(Sage.occurrences(Self.reply(words: 30), in: log(mount, "plan")) == 1)
        }
    }

    @Test func aQuestionIsAnsweredThroughPromptTxt() throws {
        try withMountedEmulator(["--seed-tasks", "0"], backend: .asyncat) { (emulator: EmulatorProcess, mount: MountProcess) throws in
            #expect(try run(["mkdir", mount.path("tasks/ask")]).status == 0)
            #expect(try closeErrno(writing: Data("Look at sales [emu:ask] [emu:words 5]".utf8), to: mount.path("tasks/ask/prompt.txt")) == 0)
            #expect(helper.waitForStatus(mount, "ask", "waiting") == "waiting\n")
            let status = try String(contentsOfFile: mount.path("tasks/ask/status"), encoding: .utf8)
            #expect(status.contains("Which region should I focus on?"))
            #expect(try closeErrno(writing: Data("north\n".utf8), to: mount.path("tasks/ask/prompt.txt")) == 0)
            #expect(helper.waitForStatus(mount, "ask", "completed") == "completed\n")
            let log = log(mount, "ask")
            #expect(log.contains("Which region should I focus on?") && log.contains("north") && log.contains("\"answer\":\"north\""))
        }
    }

    @Test func aPermissionIsAllowedThroughCtl() throws {
        try withMountedEmulator(["--seed-tasks", "0"], backend: .asyncat) { (emulator: EmulatorProcess, mount: MountProcess) throws in
            #expect(try run(["mkdir", mount.path("tasks/tests")]).status == 0)
            #expect(try closeErrno(writing: Data("Run the tests [emu:approve npm test] [emu:words 4]".utf8), to: mount.path("tasks/tests/prompt.txt")) == 0)
            #expect(helper.waitForStatus(mount, "tests", "waiting") == "waiting\n")
            #expect(log(mount, "tests").contains("run_command wants to run"))
            // A prompt is no answer to a permission: busy, and the run still waits.
            #expect(try closeErrno(writing: Data("go on".utf8), to: mount.path("tasks/tests/prompt.txt")) == EBUSY)
            #expect(try closeErrno(writing: Data("allow\n".utf8), to: mount.path("tasks/tests/ctl")) == 0)
            #expect(helper.waitForStatus(mount, "tests", "completed") == "completed\n")
            #expect(log(mount, "tests").contains("ran npm test"))
            #expect(try closeErrno(writing: Data("deny\n".utf8), to: mount.path("tasks/tests/ctl")) == EINVAL, "nothing waits for a decision now")
        }
    }

    @Test func uploadsGoWithTheNextRunAndOneOverTheLimitIsRefused() throws {
        try withMountedEmulator(["--seed-tasks", "0"], backend: .asyncat) { (emulator: EmulatorProcess, mount: MountProcess) throws in
            #expect(try run(["mkdir", mount.path("tasks/docs")]).status == 0)
            let dir = mount.cacheDirectory.deletingLastPathComponent()
            let notes = dir.appendingPathComponent("notes.txt").path
            let big = dir.appendingPathComponent("big.txt").path
            #expect(try run(["sh", "-c", "seq 1 2000 > '\(notes)'; head -c 300000 /dev/zero | tr '\\0' x > '\(big)'"]).status == 0)
            #expect(try run(["cp", notes, mount.path("tasks/docs/uploads/notes.txt")]).status == 0)
            let refused = try run(["cp", big, mount.path("tasks/docs/uploads/big.txt")])
            #expect(refused.status != 0 && refused.stderr.contains("too large"), "\(refused.stderr)")
            #expect(try closeErrno(writing: Data("Read it [emu:words 3]".utf8), to: mount.path("tasks/docs/prompt.txt")) == 0)
            #expect(helper.waitForStatus(mount, "docs", "completed") == "completed\n")
            // The emulator's agent says what it was given.
            #expect(log(mount, "docs").contains("and 1 attached file(s)"))
        }
    }

    @Test func aDroppedStreamFailsTheTaskWithANotice() throws {
        try withMountedEmulator(["--seed-tasks", "0", "--faults", #"{"dropStreamsAfter": 6}"#], backend: .asyncat) { (emulator: EmulatorProcess, mount: MountProcess) throws in
            #expect(try run(["mkdir", mount.path("tasks/cut")]).status == 0)
            #expect(try closeErrno(writing: Data("Go [emu:words 40] [emu:delay 10]".utf8), to: mount.path("tasks/cut/prompt.txt")) == 0)
            #expect(helper.waitForStatus(mount, "cut", "failed") == "failed\n")
            #expect(log(mount, "cut").contains("Asyncat cannot resume a run"))
        }
    }

    @Test func unmountDuringARunWaitsForItThenStops() throws {
        try withScene(["--seed-tasks", "0"], backend: .asyncat) { scene in
            let mount = try scene.mount()
            defer { mount.unmount() }
            #expect(try run(["mkdir", mount.path("tasks/busy")]).status == 0)
            #expect(try closeErrno(writing: Data("Go [emu:words 60] [emu:delay 30]".utf8), to: mount.path("tasks/busy/prompt.txt")) == 0)
            #expect(helper.waitForStatus(mount, "busy", "running") == "running\n")
            let serverId = try #require(try info(mount, "busy")["serverId"] as? String)
            #expect(try run(["fusermount3", "-u", mount.mountpoint.path]).status == 0)
            #expect(mount.process.wait(timeout: 40))
            #expect(mount.logText.contains("runs) are in flight") || mount.logText.contains("run(s) are in flight"))
            // The run was let finish: its reply is saved on the server.
            let messages = try conversation(scene.emulator, serverId)["messages"] as? [[String: Any]] ?? []
            #expect(messages.last?["content"] as? String == Self.reply(words: 60))
        }
    }
} }
