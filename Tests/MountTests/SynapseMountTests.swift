import Foundation
import Testing

/// A Synapse mount, with real tools, against the Synapse emulator: agents listed, a chat
/// task streamed to its answer (with the agent it chose), an orchestration run that pauses, is
/// answered through prompt.txt and ends, a cut stream failing the turn or run, the mount's own
/// record of its chats surviving a restart.
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
            // A run's stream cut before it pauses or ends: failed, saying it cannot be resumed.
            let run1 = "orchestrations/orch_review/runs/cut"
            #expect(try run(["mkdir", mount.path(run1)]).status == 0)
            #expect(try closeErrno(writing: Data("Write [emu:words 6]".utf8), to: mount.path("\(run1)/prompt.txt")) == 0)
            #expect(status(mount, run1, "failed") == "failed")
            #expect(text(mount, "\(run1)/stream.log").contains("Synapse cannot resume a run whose stream is lost"))
        }
    }

    func text(_ mount: MountProcess, _ path: String) -> String {
        (try? String(contentsOfFile: mount.path(path), encoding: .utf8)) ?? ""
    }

    /// The first line of `folder/status` once it is `expected` (or the last seen, after 20 s).
    func status(_ mount: MountProcess, _ folder: String, _ expected: String) -> String {
        var last = ""
        _ = waitUntil(20) {
            last = text(mount, "\(folder)/status").split(separator: "\n").first.map(String.init) ?? ""
            return last == expected
        }
        return last
    }

    @Test func anOrchestrationRunPausesIsAnsweredThroughPromptTxtAndCompletes() throws {
        let events = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-events-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: events) }
        try withScene([], backend: .synapse) { scene in
            // --on-event names the run's folder where it is.
            let mount = try scene.mount(extraArguments: ["--on-event", "echo \"$SYNAPSEFS_TASK_DIR $2\" >> \(events.path)"])
            defer { mount.unmount() }
            #expect(try run(["ls", mount.path("orchestrations")]).stdout == "orch_brief\norch_review\n")
            #expect(try run(["ls", mount.path("orchestrations/orch_review")]).stdout == "info.json\nruns\n")
            let info = text(mount, "orchestrations/orch_review/info.json")
            #expect(info.contains("\"name\" : \"Draft and review\"") && info.contains("\"type\" : \"human\""))

            let folder = "orchestrations/orch_review/runs/launch"
            #expect(try run(["mkdir", mount.path(folder)]).status == 0)
            #expect(text(mount, "\(folder)/status") == "draft\n")
            #expect(try closeErrno(writing: Data("Write the launch note [emu:words 4]".utf8), to: mount.path("\(folder)/prompt.txt")) == 0)
            #expect(status(mount, folder, "waiting") == "waiting")
            // What the run asks: on status's second line, and in stream.log.
            #expect(text(mount, "\(folder)/status").contains("\ninput: Is the draft good to publish?"))
            #expect(text(mount, "\(folder)/stream.log").contains("Is the draft good to publish? Say what to change."))
            let runInfo = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: mount.path("\(folder)/info.json")))) as? [String: Any])
            #expect((runInfo["runId"] as? String)?.hasPrefix("run_orch_review_") == true)
            #expect(runInfo["orchestration"] as? String == "orch_review" && runInfo["folder"] as? String == "launch")
            // A run is not a task of tasks/.
            #expect(try !run(["ls", mount.path("tasks")]).stdout.contains("launch"))

            #expect(try closeErrno(writing: Data("ship it\n".utf8), to: mount.path("\(folder)/prompt.txt")) == 0)
            #expect(status(mount, folder, "completed") == "completed")
            let log = text(mount, "\(folder)/stream.log")
            #expect(log.contains("step Final text") && log.contains("] result\n"))
            #expect(log.components(separatedBy: "ship it").count == 2)
            #expect(try run(["ls", mount.path("orchestrations/orch_review/runs")]).stdout == "launch\n")
            // An ended run takes no more answers (the server would take any): EINVAL, and why.
            #expect(try closeErrno(writing: Data("once more".utf8), to: mount.path("\(folder)/prompt.txt")) == EINVAL)
            #expect(text(mount, "\(folder)/stream.log").contains("make a new run folder"))
            let announced = { (try? String(contentsOf: events, encoding: .utf8)) ?? "" }
            #expect(waitUntil(10) { announced().contains("\(mount.path(folder)) completed") }, "\(announced())")
            #expect(announced().contains("\(mount.path(folder)) waiting"))
        }
    }

    @Test func aChatGoesToTheAgentItsAgentFileNames() throws {
        try withMountedEmulator([], backend: .synapse) { (_: EmulatorProcess, mount: MountProcess) throws in
            #expect(try run(["mkdir", mount.path("tasks/w")]).status == 0)
            #expect(try run(["sh", "-c", "echo Writer > \(mount.path("tasks/w/agent"))"]).status == 0)
            #expect(text(mount, "tasks/w/agent") == "agent_writer\n")
            // Refused at write(), so the shell says so (dash says "I/O error" for any write error).
            #expect(try run(["sh", "-c", "echo Nobody > \(mount.path("tasks/w/agent"))"]).status != 0)
            #expect(try closeErrno(writing: Data("Nobody\n".utf8), to: mount.path("tasks/w/agent")) == EINVAL)
            #expect(text(mount, "tasks/w/stream.log").contains("no agent is called \"Nobody\""))
            #expect(try closeErrno(writing: Data("Hello [emu:words 3]".utf8), to: mount.path("tasks/w/prompt.txt")) == 0)
            #expect(helper.waitForStatus(mount, "w", "completed") == "completed\n")
            #expect(text(mount, "tasks/w/info.json").contains("\"agent\" : \"agent_writer\""))
            #expect(try closeErrno(writing: Data("agent_research".utf8), to: mount.path("tasks/w/agent")) == EPERM)
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
