import Foundation
import Testing

/// A Synapse mount, with real tools, against the Synapse emulator: agents listed, a chat
/// task streamed to its answer, a cut stream failing the turn, the mount's own record of its
/// chats surviving a restart.
extension MountTests { @Suite struct Synapse {
    let helper = TaskWrites()

    func log(_ mount: MountProcess, _ folder: String) -> String {
        (try? String(contentsOfFile: mount.path("tasks/\(folder)/stream.log"), encoding: .utf8)) ?? ""
    }

    @Test func agentsAreListedAndAChatTaskStreamsToItsAnswer() throws {
        try withMountedEmulator([], backend: .synapse) { (_: EmulatorProcess, mount: MountProcess) throws in
            #expect(try run(["ls", mount.path("agents")]).stdout == "agent_research\nagent_writer\n")
            let info = try String(contentsOfFile: mount.path("agents/agent_writer/info.json"), encoding: .utf8)
            #expect(info.contains("\"name\" : \"Writer\""))
            #expect(try run(["mkdir", mount.path("tasks/chat")]).status == 0)
            #expect(try closeErrno(writing: Data("Hello [emu:words 6]".utf8), to: mount.path("tasks/chat/prompt.txt")) == 0)
            #expect(helper.waitForStatus(mount, "chat", "completed") == "completed\n")
            #expect(log(mount, "chat").contains("] result\nthe quarterly numbers show steady growth"))
            // No files in Synapse's API: no workspace/ or uploads/.
            #expect(openErrno(mount.path("tasks/chat/workspace")) == ENOENT)
            #expect(openErrno(mount.path("tasks/chat/uploads")) == ENOENT)
        }
    }

    @Test func aCutStreamFailsTheTurnWithANotice() throws {
        try withMountedEmulator(["--faults", #"{"dropStreamsAfter": 3}"#], backend: .synapse) { (_: EmulatorProcess, mount: MountProcess) throws in
            #expect(try run(["mkdir", mount.path("tasks/cut")]).status == 0)
            #expect(try closeErrno(writing: Data("Hello [emu:words 6]".utf8), to: mount.path("tasks/cut/prompt.txt")) == 0)
            #expect(helper.waitForStatus(mount, "cut", "failed") == "failed\n")
            #expect(log(mount, "cut").contains("Synapse keeps no turn whose stream is lost"))
        }
    }

    @Test func theChatsAndTheirLogsSurviveARestart() throws {
        try withScene([], backend: .synapse) { scene in
            var before = ""
            do {
                let mount = try scene.mount()
                defer { mount.unmount() }
                #expect(try run(["mkdir", mount.path("tasks/kept")]).status == 0)
                #expect(try closeErrno(writing: Data("Remember this [emu:words 5]".utf8), to: mount.path("tasks/kept/prompt.txt")) == 0)
                #expect(helper.waitForStatus(mount, "kept", "completed") == "completed\n")
                before = log(mount, "kept")
            }
            let mount = try scene.mount()
            defer { mount.unmount() }
            #expect(try run(["ls", mount.path("tasks")]).stdout.contains("kept"))
            #expect(helper.waitForStatus(mount, "kept", "completed") == "completed\n")
            #expect(!before.isEmpty && log(mount, "kept").hasPrefix(before))
            let messages = try String(contentsOfFile: mount.path("tasks/kept/messages.json"), encoding: .utf8)
            #expect(messages.contains("Remember this") && messages.contains("the quarterly numbers show steady"))
        }
    }

    @Test func unmountDuringATurnWaitsForItsAnswer() throws {
        try withScene([], backend: .synapse) { scene in
            do {
                let mount = try scene.mount()
                defer { mount.unmount() }
                #expect(try run(["mkdir", mount.path("tasks/slow")]).status == 0)
                #expect(try closeErrno(writing: Data("Take your time [emu:words 3] [emu:delay 1500]".utf8), to: mount.path("tasks/slow/prompt.txt")) == 0)
                #expect(helper.waitForStatus(mount, "slow", "running") == "running\n")
                #expect(try run(["fusermount3", "-u", mount.mountpoint.path]).status == 0)
                #expect(mount.process.wait(timeout: 40))
                #expect(mount.logText.contains("turn(s) are in flight"))
            }
            // The turn was let finish: its answer is in the mount's record.
            let mount = try scene.mount()
            defer { mount.unmount() }
            #expect(helper.waitForStatus(mount, "slow", "completed") == "completed\n")
            #expect(log(mount, "slow").contains("the quarterly numbers"))
        }
    }
} }
