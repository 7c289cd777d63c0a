import Foundation
import Testing

/// stream.log as people watch it: tail -f, tail -F, less +F, poll(), across drops and restarts.
extension MountTests { @Suite struct LiveLog {
    let helper = TaskWrites()

    /// The final texts of the task's messages on the server.
    func finalTexts(_ emulator: EmulatorProcess, _ taskId: String) throws -> [String] {
        let result = try run(["curl", "-sf", "-H", "Authorization: Bearer \(EmulatorProcess.apiKey)",
                              "\(emulator.url)/api/ai_task/getUiMessageById?id=\(taskId)"])
        let data = (try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any])?["data"] as? [[String: Any]] ?? []
        return data.compactMap { $0["text"] as? String }.filter { !$0.isEmpty }
    }

    func expectEveryFinalTextOnce(_ log: String, _ texts: [String]) {
        #expect(!texts.isEmpty)
        for text in texts {
            #expect(log.components(separatedBy: text).count - 1 == 1, "\(text.prefix(60))… appears \(log.components(separatedBy: text).count - 1) times")
        }
    }

    func prompt(_ mount: MountProcess, _ folder: String, _ text: String) throws {
        let result = try run(["sh", "-c", "printf '%s' '\(text)' > '\(mount.path("tasks/\(folder)/prompt.txt"))'"])
        guard result.status == 0 else { throw HarnessError("prompt failed: \(result.stderr)") }
    }

    @Test func tailFollowsTheAgentTypingAndEndsWithEveryTextOnce() throws {
        try withMountedEmulator([]) { (emulator: EmulatorProcess, mount: MountProcess) throws in
            #expect(try run(["mkdir", mount.path("tasks/live")]).status == 0)
            let out = mount.cacheDirectory.deletingLastPathComponent().appendingPathComponent("tail.out")
            // -s 0.2: tail's own poll interval (1 s by default) would see a 1.6 s stream only twice.
            let tail = try ChildProcess(["tail", "-s", "0.2", "-f", mount.path("tasks/live/stream.log")], output: out)
            defer { tail.stop() }
            Thread.sleep(forTimeInterval: 0.5)
            try prompt(mount, "live", "Stream please [emu:words 200] [emu:delay 40]")
            var sizes: [Int] = []
            let done = waitUntil(30) {
                let size = (try? Data(contentsOf: out).count) ?? 0
                if sizes.last != size { sizes.append(size) }
                return (try? String(contentsOfFile: mount.path("tasks/live/status"), encoding: .utf8)) == "completed\n"
            }
            #expect(done)
            // tail saw the file at several sizes while the reply streamed, not just once at the end.
            #expect(sizes.filter { $0 > 0 }.count >= 3, "sizes seen: \(sizes)")
            let id = try helper.taskId(mount, "live")
            let log = try String(contentsOfFile: mount.path("tasks/live/stream.log"), encoding: .utf8)
            #expect(waitUntil(5) { (try? String(contentsOf: out, encoding: .utf8)) == log })
            expectEveryFinalTextOnce(log, try finalTexts(emulator, id))
        }
    }

    @Test func droppedEventStreamsLoseNothingAndDuplicateNothing() throws {
        try withMountedEmulator(["--drop-sse-every", "1.5"]) { (emulator: EmulatorProcess, mount: MountProcess) throws in
            #expect(try run(["mkdir", mount.path("tasks/choppy")]).status == 0)
            try prompt(mount, "choppy", "Long one [emu:words 300] [emu:delay 60]")
            #expect(helper.waitForStatus(mount, "choppy", "completed", timeout: 40) == "completed\n")
            let id = try helper.taskId(mount, "choppy")
            let log = try String(contentsOfFile: mount.path("tasks/choppy/stream.log"), encoding: .utf8)
            expectEveryFinalTextOnce(log, try finalTexts(emulator, id))
            #expect(log.contains("event stream reconnected after"))
            let status = try String(contentsOfFile: mount.path(".synapsefs/status.json"), encoding: .utf8)
            #expect(!status.contains("\"reconnects\" : 0"))
        }
    }

    @Test func aTaskStartedByAnotherClientIsFollowed() throws {
        try withMountedEmulator([]) { (emulator: EmulatorProcess, mount: MountProcess) throws in
            let id = UUID().uuidString.lowercased()
            let body = #"{"type":"newTask","taskId":"\#(id)","connId":"someone-else","text":"Elsewhere [emu:words 120] [emu:delay 30]"}"#
            #expect(try run(["curl", "-sf", "-H", "Authorization: Bearer \(EmulatorProcess.apiKey)", "-H", "Content-Type: application/json",
                             "-d", body, "\(emulator.url)/api/ai/message"]).status == 0)
            // Reachable by id at once, listed once the list is refreshed.
            #expect(FileManager.default.fileExists(atPath: mount.path("tasks/\(id)/status")))
            let out = mount.cacheDirectory.deletingLastPathComponent().appendingPathComponent("tail-other.out")
            let tail = try ChildProcess(["tail", "-f", mount.path("tasks/\(id)/stream.log")], output: out)
            defer { tail.stop() }
            #expect(helper.waitForStatus(mount, id, "completed", timeout: 30) == "completed\n")
            let texts = try finalTexts(emulator, id)
            #expect(waitUntil(10) {
                let log = (try? String(contentsOfFile: mount.path("tasks/\(id)/stream.log"), encoding: .utf8)) ?? ""
                return texts.allSatisfy { log.contains($0) }
            })
            expectEveryFinalTextOnce(try String(contentsOfFile: mount.path("tasks/\(id)/stream.log"), encoding: .utf8), texts)
            #expect(waitUntil(15) { ((try? FileManager.default.contentsOfDirectory(atPath: mount.path("tasks"))) ?? []).contains(id) })
        }
    }

    @Test func theLogKeepsItsBytesAcrossRemountAndKill9() throws {
        try withScene([]) { scene in
            var before = ""
            var id = ""
            do {
                let mount = try scene.mount()
                defer { mount.unmount() }
                #expect(try run(["mkdir", mount.path("tasks/durable")]).status == 0)
                try prompt(mount, "durable", "Keep this [emu:words 400] [emu:delay 40]")
                id = try helper.taskId(mount, "durable")
                Thread.sleep(forTimeInterval: 1.5)
                before = try String(contentsOfFile: mount.path("tasks/durable/stream.log"), encoding: .utf8)
                #expect(before.contains("] agent\n"))
                mount.process.signal(SIGKILL)
                #expect(mount.process.wait(timeout: 10))
            }
            let mount = try scene.mount()
            defer { mount.unmount() }
            #expect(helper.waitForStatus(mount, "durable", "completed", timeout: 30) == "completed\n")
            let after = try String(contentsOfFile: mount.path("tasks/durable/stream.log"), encoding: .utf8)
            #expect(after.hasPrefix(before))
            // The reply streamed on while the mount was down: its text is there, once.
            #expect(try finalTexts(scene.emulator, id).allSatisfy { after.contains($0) })
            #expect(after.components(separatedBy: "] result\n").count - 1 == 1)
            mount.unmount()
            let remounted = try scene.mount()
            defer { remounted.unmount() }
            #expect(try String(contentsOfFile: remounted.path("tasks/durable/stream.log"), encoding: .utf8) == after)
        }
    }

    @Test func tailCapitalFLessFollowAndPollWakeOnGrowth() throws {
        try withMountedEmulator([]) { (emulator: EmulatorProcess, mount: MountProcess) throws in
            #expect(try run(["mkdir", mount.path("tasks/watch")]).status == 0)
            let log = mount.path("tasks/watch/stream.log")
            let out = mount.cacheDirectory.deletingLastPathComponent().appendingPathComponent("tailF.out")
            let tailF = try ChildProcess(["tail", "-F", log], output: out)
            defer { tailF.stop() }
            let session = "synapsefs-less-\(UUID().uuidString.prefix(8))"
            #expect(try run(["tmux", "new-session", "-d", "-s", session, "-x", "200", "-y", "50", "less", "+F", log]).status == 0)
            defer { _ = try? run(["tmux", "kill-session", "-t", session]) }
            // poll() on an open descriptor at the end of the file wakes when the log grows.
            let fd = open(log, O_RDONLY)
            #expect(fd >= 0)
            defer { close(fd) }
            var sink = [UInt8](repeating: 0, count: 1 << 16)
            while read(fd, &sink, sink.count) > 0 {}
            Thread.sleep(forTimeInterval: 0.5)
            try prompt(mount, "watch", "Watch me [emu:words 40] [emu:delay 20]")
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, 10_000)
            #expect(ready == 1 && pfd.revents & Int16(POLLIN) != 0)
            #expect(read(fd, &sink, sink.count) > 0)
            #expect(helper.waitForStatus(mount, "watch", "completed") == "completed\n")
            let final = "Done: report.md and data/summary.csv are in the workspace."
            #expect(waitUntil(10) { ((try? String(contentsOf: out, encoding: .utf8)) ?? "").contains(final) })
            #expect(waitUntil(10) { ((try? run(["tmux", "capture-pane", "-p", "-t", session]).stdout) ?? "").contains(final) })
        }
    }
}}
