import Foundation
import Testing

/// Talking to the agent from the shell: drafts, prompt.txt (echo, vim, rename-over), ctl.
extension MountTests { @Suite struct TaskWrites {
    init() {}

    func userMessages(_ emulator: EmulatorProcess, _ taskId: String) throws -> [String] {
        let result = try run(["curl", "-sf", "-H", "Authorization: Bearer \(EmulatorProcess.apiKey)",
                              "\(emulator.url)/api/ai_task/getUiMessageById?id=\(taskId)"])
        let data = (try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any])?["data"] as? [[String: Any]] ?? []
        return data.filter { ["task", "user_feedback"].contains($0["say"] as? String) }.compactMap { $0["text"] as? String }
    }

    func taskId(_ mount: MountProcess, _ folder: String) throws -> String {
        let info = try Data(contentsOf: URL(fileURLWithPath: mount.path("tasks/\(folder)/info.json")))
        return (try JSONSerialization.jsonObject(with: info) as? [String: Any])?["id"] as? String ?? ""
    }

    /// Waits until the status word (the file's first line) is `expected`; returns that line.
    func waitForStatus(_ mount: MountProcess, _ folder: String, _ expected: String, timeout: Double = 20) -> String {
        var last = ""
        _ = waitUntil(timeout) {
            let text = (try? String(contentsOfFile: mount.path("tasks/\(folder)/status"), encoding: .utf8)) ?? ""
            last = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map { $0 + "\n" } ?? ""
            return last == expected + "\n"
        }
        return last
    }

    func setFaults(_ emulator: EmulatorProcess, _ json: String) throws {
        let result = try run(["curl", "-sf", "-H", "Authorization: Bearer \(EmulatorProcess.apiKey)", "-H", "Content-Type: application/json",
                              "-d", json, "\(emulator.url)/_emulator/faults"])
        guard result.status == 0 else { throw HarnessError("setting faults failed: \(result.stderr)") }
    }

    @Test func aDraftGetsItsFirstPromptAndCompletes() throws {
        try withMountedEmulator([]) { (emulator: EmulatorProcess, mount: MountProcess) throws in
            #expect(try run(["mkdir", mount.path("tasks/q3-report")]).status == 0)
            #expect(try String(contentsOfFile: mount.path("tasks/q3-report/status"), encoding: .utf8) == "draft\n")
            let write = try run(["sh", "-c", "printf 'Summarise Q3 [emu:words 30] [emu:delay 5]' > '\(mount.path("tasks/q3-report/prompt.txt"))'"])
            #expect(write.status == 0, "\(write.stderr)")
            #expect(waitForStatus(mount, "q3-report", "completed") == "completed\n")
            let id = try taskId(mount, "q3-report")
            #expect(UUID(uuidString: id) != nil)
            #expect(try userMessages(emulator, id) == ["Summarise Q3 [emu:words 30] [emu:delay 5]"])
            let report = try String(contentsOfFile: mount.path("tasks/q3-report/workspace/report.md"), encoding: .utf8)
            #expect(report.contains("> Summarise Q3"))
            let log = try String(contentsOfFile: mount.path("tasks/q3-report/stream.log"), encoding: .utf8)
            #expect(log.contains("] result\nDone: report.md"))
            #expect(try String(contentsOfFile: mount.path("tasks/q3-report/prompt.txt"), encoding: .utf8) == "Summarise Q3 [emu:words 30] [emu:delay 5]")
        }
    }

    @Test func aFollowUpSavedByVimReachesTheTaskAndAnEmptyWriteSendsNothing() throws {
        try withMountedEmulator([]) { (emulator: EmulatorProcess, mount: MountProcess) throws in
            #expect(try run(["mkdir", mount.path("tasks/chat")]).status == 0)
            #expect(try run(["sh", "-c", "echo 'First [emu:words 5] [emu:delay 1]' > '\(mount.path("tasks/chat/prompt.txt"))'"]).status == 0)
            #expect(waitForStatus(mount, "chat", "completed") == "completed\n")
            let id = try taskId(mount, "chat")
            let vim = try run(["vim", "-u", "NONE", "-i", "NONE", "-N", "-e", "-s", "-c", "%d",
                               "-c", "call setline(1, 'Second from vim [emu:words 5] [emu:delay 1]')", "-c", "wq",
                               mount.path("tasks/chat/prompt.txt")], timeout: 30)
            #expect(vim.status == 0, "\(vim.stderr)")
            #expect(try run(["sh", "-c", ": > '\(mount.path("tasks/chat/prompt.txt"))'"]).status == 0)
            #expect(try run(["touch", mount.path("tasks/chat/prompt.txt")]).status == 0)
            #expect(waitUntil(10) { (try? userMessages(emulator, id).count) == 2 })
            #expect(try userMessages(emulator, id) == ["First [emu:words 5] [emu:delay 1]\n", "Second from vim [emu:words 5] [emu:delay 1]\n"])
            // The editor's swap file stayed local and is gone.
            let names = try FileManager.default.contentsOfDirectory(atPath: mount.path("tasks/chat"))
            #expect(!names.contains { $0.hasSuffix(".swp") })
        }
    }

    @Test func aRenameOverPromptIsSentOnce() throws {
        try withMountedEmulator([]) { (emulator: EmulatorProcess, mount: MountProcess) throws in
            #expect(try run(["mkdir", mount.path("tasks/edit")]).status == 0)
            let folder = mount.path("tasks/edit")
            #expect(try run(["sh", "-c", "printf 'Via rename [emu:words 3]' > '\(folder)/.prompt.new' && mv '\(folder)/.prompt.new' '\(folder)/prompt.txt'"]).status == 0)
            #expect(try run(["sed", "-i", "s/rename/sed/", "\(folder)/prompt.txt"]).status == 0)
            let id = try taskId(mount, "edit")
            #expect(waitUntil(10) { (try? userMessages(emulator, id).count) == 2 })
            #expect(try userMessages(emulator, id) == ["Via rename [emu:words 3]", "Via sed [emu:words 3]"])
        }
    }

    @Test func badPromptsFailCloseWithTheRightErrno() throws {
        try withMountedEmulator([]) { (_: EmulatorProcess, mount: MountProcess) throws in
            #expect(try run(["mkdir", mount.path("tasks/bad")]).status == 0)
            let prompt = mount.path("tasks/bad/prompt.txt")
            #expect(try closeErrno(writing: Data("   \n".utf8), to: prompt) == EINVAL)
            #expect(try closeErrno(writing: Data([0xC3, 0x28]), to: prompt) == EINVAL)
            let big = try run(["sh", "-c", "head -c 1100000 /dev/zero | tr '\\\\0' a > '\(prompt)'"])
            #expect(big.status != 0)
            #expect(try String(contentsOfFile: mount.path("tasks/bad/status"), encoding: .utf8) == "draft\n")
            let log = try String(contentsOfFile: mount.path("tasks/bad/stream.log"), encoding: .utf8)
            #expect(log.contains("only whitespace") && log.contains("not valid UTF-8"))
        }
    }

    @Test func aFailedSendFailsCloseAndIsNotSentTwice() throws {
        try withMountedEmulator([]) { (emulator: EmulatorProcess, mount: MountProcess) throws in
            #expect(try run(["mkdir", mount.path("tasks/flaky")]).status == 0)
            try setFaults(emulator, #"{"failMessages": 1}"#)
            let prompt = mount.path("tasks/flaky/prompt.txt")
            #expect(try closeErrno(writing: Data("Try once [emu:words 3]".utf8), to: prompt) == EIO)
            #expect(try String(contentsOfFile: mount.path("tasks/flaky/status"), encoding: .utf8) == "draft\n")
            #expect(try String(contentsOfFile: mount.path("tasks/flaky/stream.log"), encoding: .utf8).contains("prompt not sent"))
            #expect(try closeErrno(writing: Data("Try again [emu:words 3]".utf8), to: prompt) == 0)
            let id = try taskId(mount, "flaky")
            #expect(waitUntil(10) { (try? userMessages(emulator, id)) == ["Try again [emu:words 3]"] })
            Thread.sleep(forTimeInterval: 0.5)
            #expect(try userMessages(emulator, id) == ["Try again [emu:words 3]"])
        }
    }

    @Test func aFailingAgentShowsFailedAndAQuestionShowsWaiting() throws {
        try withMountedEmulator([]) { (_: EmulatorProcess, mount: MountProcess) throws in
            #expect(try run(["mkdir", mount.path("tasks/doomed"), mount.path("tasks/curious")]).status == 0)
            #expect(try run(["sh", "-c", "echo 'Break [emu:fail]' > '\(mount.path("tasks/doomed/prompt.txt"))'"]).status == 0)
            #expect(waitForStatus(mount, "doomed", "failed") == "failed\n")
            #expect(try String(contentsOfFile: mount.path("tasks/doomed/stream.log"), encoding: .utf8).contains("] error\n"))
            #expect(try run(["sh", "-c", "echo 'Ask me [emu:words 3] [emu:ask]' > '\(mount.path("tasks/curious/prompt.txt"))'"]).status == 0)
            #expect(waitForStatus(mount, "curious", "waiting") == "waiting\n")
            #expect(try run(["sh", "-c", "echo 'The north' > '\(mount.path("tasks/curious/prompt.txt"))'"]).status == 0)
            #expect(waitForStatus(mount, "curious", "completed") == "completed\n")
            #expect(try String(contentsOfFile: mount.path("tasks/curious/stream.log"), encoding: .utf8).contains("focusing on The north"))
        }
    }

    @Test func ctlCancelStopsARunningTaskAndDeleteIsRefused() throws {
        try withMountedEmulator([]) { (emulator: EmulatorProcess, mount: MountProcess) throws in
            #expect(try run(["mkdir", mount.path("tasks/endless")]).status == 0)
            #expect(try run(["sh", "-c", "echo 'Go [emu:forever] [emu:delay 20]' > '\(mount.path("tasks/endless/prompt.txt"))'"]).status == 0)
            Thread.sleep(forTimeInterval: 0.5)
            #expect(try closeErrno(writing: Data("cancel\n".utf8), to: mount.path("tasks/endless/ctl")) == 0)
            #expect(waitForStatus(mount, "endless", "cancelled") == "cancelled\n")
            #expect(try closeErrno(writing: Data("delete\n".utf8), to: mount.path("tasks/endless/ctl")) == EPERM)
            #expect(try closeErrno(writing: Data("explode\n".utf8), to: mount.path("tasks/endless/ctl")) == EINVAL)
            // bash ignores close()'s result: a refusal must come from write() to be seen.
            let delete = try run(["bash", "-c", "echo delete > '\(mount.path("tasks/endless/ctl"))'"])
            #expect(delete.status != 0 && delete.stderr.contains("Operation not permitted"), "\(delete.stderr)")
            let bogus = try run(["bash", "-c", "echo bogus > '\(mount.path("tasks/endless/ctl"))'"])
            #expect(bogus.status != 0 && bogus.stderr.contains("Invalid argument"), "\(bogus.stderr)")
            #expect(rmdir(mount.path("tasks/endless")) == -1 && errno == EPERM)
            #expect(FileManager.default.fileExists(atPath: mount.path("tasks/endless/info.json")))
            #expect(mount.logText.contains("--allow-delete"))
        }
    }
}}

/// Writes `data` to `path` with open(O_WRONLY|O_TRUNC), write, close; returns close()'s errno
/// (or the first failing call's), 0 for success.
func closeErrno(writing data: Data, to path: String) throws -> Int32 {
    let fd = open(path, O_WRONLY | O_TRUNC)
    guard fd >= 0 else { return errno }
    let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    let writeErrno = written < 0 ? errno : 0
    let closed = close(fd)
    if writeErrno != 0 { return writeErrno }
    return closed == 0 ? 0 : errno
}
