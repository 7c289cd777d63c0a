import Foundation
import Testing

/// The commands for scripts (`new`, `send`, `wait`, `status`) with their exit codes, the
/// `by-name` links, and `--on-event`, against the emulator's scripted agent.
extension MountTests { @Suite struct Scripting {
    func synapsefs(_ arguments: [String], _ mount: MountProcess) throws -> CommandResult {
        try run([synapsefsBinary] + arguments + ["--mount", mount.mountpoint.path], timeout: 60)
    }

    @Test func newSendWaitAndStatusExitAsDocumented() throws {
        try withMountedEmulator(["--seed-tasks", "1"]) { emulator, mount in
            let file = mount.cacheDirectory.deletingLastPathComponent().appendingPathComponent("brief.txt")
            try Data("the brief\n".utf8).write(to: file)
            let made = try synapsefs(["new", "q3", file.path, "--prompt", "Summarise [emu:words 10] [emu:delay 5]", "--json"], mount)
            #expect(made.status == 0, "\(made.stderr)")
            let made0 = try #require(try JSONSerialization.jsonObject(with: made.stdoutData) as? [String: Any])
            let id = try #require(made0["id"] as? String)
            #expect(FileManager.default.contents(atPath: emulator.workspaceFile(id, "upload_documents/brief.txt")) == Data("the brief\n".utf8))
            let done = try synapsefs(["wait", "q3"], mount)
            #expect(done.status == 0 && done.stdout == "completed\n", "\(done.stdout) \(done.stderr)")
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: mount.path("tasks/by-name/q3")) == "../q3")

            let blank = try synapsefs(["send", "q3", "   "], mount)
            #expect(blank.status == 65 && blank.stderr.contains("only whitespace"), "\(blank.stderr)")
            let missing = try synapsefs(["send", "no-such-task", "hello"], mount)
            #expect(missing.status == 66, "\(missing.stderr)")

            #expect(try synapsefs(["send", mount.path("tasks/by-name/q3"), "Ask me [emu:ask] [emu:words 3]"], mount).status == 0)
            let asked = try synapsefs(["wait", "q3", "--until", "waiting"], mount)
            #expect(asked.status == 2 && asked.stdout.hasPrefix("waiting: followup: "), "\(asked.stdout)")
            let timedOut = try synapsefs(["wait", "q3", "--timeout", "0.5"], mount)
            #expect(timedOut.status == 124, "\(timedOut.stderr)")
            let status = try run([synapsefsBinary, "status", mount.mountpoint.path, "--json"])
            #expect(status.status == 0)
            let documents = try #require(try JSONSerialization.jsonObject(with: status.stdoutData) as? [[String: Any]])
            let active = (documents.first?["status"] as? [String: Any])?["activeTasks"] as? [[String: Any]] ?? []
            #expect(active.contains { $0["folder"] as? String == "q3" && $0["status"] as? String == "waiting" && ($0["question"] as? String)?.hasPrefix("followup") == true },
                    "\(active)")
            let human = try run([synapsefsBinary, "status", mount.mountpoint.path])
            #expect(human.stdout.contains("waiting\tq3\tfollowup:"), "\(human.stdout)")

            let piped = try run(["sh", "-c", "echo 'the north' | '\(synapsefsBinary)' send q3 - --mount '\(mount.mountpoint.path)'"])
            #expect(piped.status == 0, "\(piped.stderr)")
            #expect(try synapsefs(["wait", "q3"], mount).status == 0)

            #expect(try synapsefs(["new", "doomed", "--prompt", "Try [emu:fail]"], mount).status == 0)
            let failed = try synapsefs(["wait", "doomed", "--json"], mount)
            #expect(failed.status == 1 && failed.stdout.contains("\"status\":\"failed\""), "\(failed.stdout)")
            let none = try run([synapsefsBinary, "status", "/tmp"])
            #expect(none.status == 66)
        }
    }

    /// `--on-event CMD` runs once per change to waiting, completed or failed, with the task id
    /// and the status as arguments.
    @Test func onEventRunsOncePerChange() throws {
        try withScene([]) { scene in
            let events = scene.root.appendingPathComponent("events.txt")
            let mount = try scene.mount(extraArguments: ["--on-event", "echo >> '\(events.path)'"])
            defer { mount.unmount() }
            let made = try synapsefs(["new", "watched", "--prompt", "Ask [emu:ask] [emu:words 3]", "--json"], mount)
            let id = try #require((try JSONSerialization.jsonObject(with: made.stdoutData) as? [String: Any])?["id"] as? String)
            #expect(try synapsefs(["wait", "watched", "--until", "waiting"], mount).status == 2)
            #expect(try synapsefs(["send", "watched", "north"], mount).status == 0)
            #expect(try synapsefs(["wait", "watched"], mount).status == 0)
            #expect(try synapsefs(["new", "doomed", "--prompt", "[emu:fail]"], mount).status == 0)
            #expect(try synapsefs(["wait", "doomed"], mount).status == 1)
            let doomed = try TaskWrites().taskId(mount, "doomed")
            #expect(waitUntil(10) { ((try? String(contentsOf: events, encoding: .utf8)) ?? "").contains("\(doomed) failed") })
            Thread.sleep(forTimeInterval: 2)
            let lines = try String(contentsOf: events, encoding: .utf8).split(separator: "\n").map(String.init)
            #expect(lines.filter { $0.hasPrefix(id) } == ["\(id) waiting", "\(id) completed"], "\(lines)")
            #expect(lines.filter { $0.hasPrefix(doomed) } == ["\(doomed) failed"], "\(lines)")
        }
    }
}}
