import Foundation
import Testing

/// A Sage mount, with real tools, against the Sage emulator: a prompt's run streamed into
/// stream.log once (through drops and an expiring login), a prompt refused while a run goes
/// on, cancel, uploads named in the next prompt, a conversation started elsewhere followed.
extension MountTests { @Suite struct Sage {
    let helper = TaskWrites()

    /// The scripted agent's reply of `words` words (the emulator's vocabulary, in order).
    static func reply(words: Int) -> String {
        let vocabulary = ["the", "quarterly", "numbers", "show", "steady", "growth", "in", "the", "north",
                          "while", "the", "south", "dipped", "in", "march", "and", "recovered", "by", "june"]
        return (0..<words).map { vocabulary[$0 % vocabulary.count] + " " }.joined()
    }

    static func occurrences(_ text: String, in log: String) -> Int { log.components(separatedBy: text).count - 1 }

    func log(_ mount: MountProcess, _ folder: String) -> String {
        (try? String(contentsOfFile: mount.path("tasks/\(folder)/stream.log"), encoding: .utf8)) ?? ""
    }

    /// What the Sage web client does, with curl and a cookie jar: logs in, then calls routes.
    struct WebClient {
        let emulator: EmulatorProcess
        let jar: String

        init(_ emulator: EmulatorProcess) throws {
            self.emulator = emulator
            jar = emulator.dataDirectory.deletingLastPathComponent().appendingPathComponent("web-cookies-\(UUID().uuidString.prefix(6))").path
            let login = #"{"username_or_email":"mount-test","password":"\#(EmulatorProcess.apiKey)"}"#
            let result = try run(["curl", "-sf", "-c", jar, "-H", "Content-Type: application/json", "-d", login, "\(emulator.url)/api/auth/login"])
            guard result.status == 0 else { throw HarnessError("web login failed: \(result.stderr)") }
        }

        func get(_ path: String) throws -> [String: Any] {
            let result = try run(["curl", "-sf", "-b", jar, "\(emulator.url)\(path)"])
            return (try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any]) ?? [:]
        }

        func post(_ path: String, _ json: String) throws {
            let result = try run(["curl", "-sf", "-b", jar, "-H", "Content-Type: application/json", "-d", json, "\(emulator.url)\(path)"])
            guard result.status == 0 else { throw HarnessError("POST \(path) failed: \(result.stderr)") }
        }

        /// The conversation's stored messages, as the server keeps them.
        func messages(_ id: String) throws -> [[String: Any]] {
            ((try get("/api/conversations/\(id)/messages"))["data"] as? [String: Any])?["messages"] as? [[String: Any]] ?? []
        }
    }

    @Test func aPromptsRunIsInStreamLogOnceAsTailFollowsIt() throws {
        try withMountedEmulator(["--seed-tasks", "0"], backend: .sage) { (_: EmulatorProcess, mount: MountProcess) throws in
            #expect(try run(["mkdir", mount.path("tasks/question")]).status == 0)
            let out = mount.cacheDirectory.deletingLastPathComponent().appendingPathComponent("tail-sage.out")
            let tail = try ChildProcess(["tail", "-f", mount.path("tasks/question/stream.log")], output: out)
            defer { tail.stop() }
            #expect(try closeErrno(writing: Data("What is new [emu:words 60] [emu:delay 20]".utf8), to: mount.path("tasks/question/prompt.txt")) == 0)
            #expect(helper.waitForStatus(mount, "question", "completed") == "completed\n")
            let answer = Self.reply(words: 60)
            #expect(waitUntil(5) { ((try? String(contentsOf: out, encoding: .utf8)) ?? "").contains(answer) }, "tail -f saw the whole answer")
            let log = log(mount, "question")
            #expect(Self.occurrences(answer, in: log) == 1)
            #expect(Self.occurrences("What is new", in: log) == 1)
            #expect(log.range(of: "What is new")!.lowerBound < log.range(of: answer)!.lowerBound, "the prompt comes first")
        }
    }

    @Test func aDroppedStreamIsResumedWithoutDuplicates() throws {
        try withMountedEmulator(["--seed-tasks", "0", "--faults", #"{"dropStreamsAfter": 7}"#], backend: .sage) { (_: EmulatorProcess, mount: MountProcess) throws in
            #expect(try run(["mkdir", mount.path("tasks/dropped")]).status == 0)
            #expect(try closeErrno(writing: Data("Go on [emu:words 50] [emu:delay 10]".utf8), to: mount.path("tasks/dropped/prompt.txt")) == 0)
            #expect(helper.waitForStatus(mount, "dropped", "completed") == "completed\n")
            let log = log(mount, "dropped")
            #expect(Self.occurrences(Self.reply(words: 50), in: log) == 1, "\(log)")
            #expect(!log.contains("rewritten") && !log.contains("was changed"))
            #expect(mount.logText.contains("run stream dropped; resuming"))
        }
    }

    @Test func aLoginThatExpiresMidSessionFailsNothing() throws {
        try withMountedEmulator(["--seed-tasks", "2", "--seed-file", "reports/big.bin:1M", "--token-seconds", "1"], backend: .sage) { (emulator: EmulatorProcess, mount: MountProcess) throws in
            #expect(try run(["mkdir", mount.path("tasks/long")]).status == 0)
            #expect(try closeErrno(writing: Data("Slowly [emu:words 60] [emu:delay 50]".utf8), to: mount.path("tasks/long/prompt.txt")) == 0)
            Thread.sleep(forTimeInterval: 1.5)
            // The token and the session are gone by now: every request logs in again, unseen.
            let ls = try run(["ls", mount.path("tasks")])
            #expect(ls.status == 0 && ls.stdout.contains("sess_demo_1"))
            let file = mount.path("tasks/sess_demo_1/workspace/reports/big.bin")
            #expect(try sha256(file) == (try sha256(emulator.workspaceFile("sess_demo_1", "reports/big.bin"))))
            #expect(helper.waitForStatus(mount, "long", "completed") == "completed\n")
            Thread.sleep(forTimeInterval: 1.5)
            #expect(try closeErrno(writing: Data("Again [emu:words 5]".utf8), to: mount.path("tasks/long/prompt.txt")) == 0)
            #expect(waitUntil(20) { log(mount, "long").contains("Again") && Self.occurrences(Self.reply(words: 5), in: log(mount, "long")) >= 1 })
            #expect(Self.occurrences(Self.reply(words: 60), in: log(mount, "long")) == 1)
        }
    }

    @Test func aPromptWhileRunningIsBusyAndCancelEndsTheRun() throws {
        try withMountedEmulator(["--seed-tasks", "0"], backend: .sage) { (emulator: EmulatorProcess, mount: MountProcess) throws in
            #expect(try run(["mkdir", mount.path("tasks/endless")]).status == 0)
            let prompt = mount.path("tasks/endless/prompt.txt")
            #expect(try closeErrno(writing: Data("Never ends [emu:forever] [emu:delay 20]".utf8), to: prompt) == 0)
            #expect(helper.waitForStatus(mount, "endless", "running") == "running\n")
            #expect(try closeErrno(writing: Data("Interrupting".utf8), to: prompt) == EBUSY)
            #expect(try closeErrno(writing: Data("cancel\n".utf8), to: mount.path("tasks/endless/ctl")) == 0)
            #expect(helper.waitForStatus(mount, "endless", "cancelled") == "cancelled\n")
            // The notice waited for the message that was growing, and follows it.
            #expect(waitUntil(5) { log(mount, "endless").contains("prompt not sent") })
            // Nothing was sent while it ran; what it said before the cancel is kept.
            let id = try helper.taskId(mount, "endless")
            let stored = try WebClient(emulator).messages(id)
            #expect(stored.filter { $0["role"] as? String == "user" }.compactMap { $0["content"] as? String } == ["Never ends [emu:forever] [emu:delay 20]"])
            #expect(try closeErrno(writing: Data("Now this [emu:words 4]".utf8), to: prompt) == 0)
            #expect(helper.waitForStatus(mount, "endless", "completed") == "completed\n")
        }
    }

    @Test func anUploadGoesWithTheNextPrompt() throws {
        try withMountedEmulator(["--seed-tasks", "0"], backend: .sage) { (emulator: EmulatorProcess, mount: MountProcess) throws in
            #expect(try run(["mkdir", mount.path("tasks/docs")]).status == 0)
            let source = mount.cacheDirectory.deletingLastPathComponent().appendingPathComponent("brief.pdf").path
            #expect(try run(["sh", "-c", "head -c 700000 /dev/urandom > '\(source)'"]).status == 0)
            #expect(try run(["cp", source, mount.path("tasks/docs/uploads/brief.pdf")]).status == 0)
            let status = try String(contentsOfFile: mount.path(".synapsefs/status.json"), encoding: .utf8)
            #expect(status.contains("attached to the next prompt"))
            #expect(try closeErrno(writing: Data("Read the brief [emu:words 3]".utf8), to: mount.path("tasks/docs/prompt.txt")) == 0)
            #expect(helper.waitForStatus(mount, "docs", "completed") == "completed\n")
            let id = try helper.taskId(mount, "docs")
            let sent = try WebClient(emulator).messages(id).first { $0["role"] as? String == "user" }?["content"] as? String ?? ""
            let url = try #require(sent.split(separator: "\n").first { $0.hasPrefix("Attached file: ") }.map { String($0.dropFirst(15)) })
            #expect(url.hasSuffix("/brief.pdf"))
            let fetched = mount.cacheDirectory.deletingLastPathComponent().appendingPathComponent("fetched.pdf").path
            #expect(try run(["curl", "-sf", "-o", fetched, url]).status == 0)
            #expect(try sha256(fetched) == (try sha256(source)))
            // Named once: the next prompt carries no attachment.
            #expect(try closeErrno(writing: Data("And then [emu:words 3]".utf8), to: mount.path("tasks/docs/prompt.txt")) == 0)
            #expect(waitUntil(10) { (try? WebClient(emulator).messages(id).filter { $0["role"] as? String == "user" }.count) == 2 })
            let second = try WebClient(emulator).messages(id).filter { $0["role"] as? String == "user" }.last?["content"] as? String
            #expect(second == "And then [emu:words 3]")
        }
    }

    @Test func aConversationStartedElsewhereIsFollowedLive() throws {
        try withMountedEmulator(["--seed-tasks", "2"], backend: .sage) { (emulator: EmulatorProcess, mount: MountProcess) throws in
            let before = log(mount, "sess_demo_2")
            #expect(before.contains("Summarise the notes"))
            let out = mount.cacheDirectory.deletingLastPathComponent().appendingPathComponent("tail-elsewhere.out")
            let tail = try ChildProcess(["tail", "-f", mount.path("tasks/sess_demo_2/stream.log")], output: out)
            defer { tail.stop() }
            // The web UI sends a prompt and reads its stream itself (curl -N, in the background).
            let web = try WebClient(emulator)
            let body = #"{"messages":[{"role":"user","content":"From the browser [emu:words 80] [emu:delay 25]"}],"session_id":"sess_demo_2"}"#
            let browser = try ChildProcess(["curl", "-sN", "-b", web.jar, "-H", "Content-Type: application/json", "-d", body,
                                            "\(emulator.url)/api/web-stream"], output: URL(fileURLWithPath: "/dev/null"))
            defer { browser.stop() }
            #expect(helper.waitForStatus(mount, "sess_demo_2", "running", timeout: 10) == "running\n")
            let answer = Self.reply(words: 80)
            // Followed while it runs: words show in tail -f before the run ends.
            #expect(waitUntil(10) { ((try? String(contentsOf: out, encoding: .utf8)) ?? "").contains("the quarterly numbers show") })
            #expect(helper.waitForStatus(mount, "sess_demo_2", "completed", timeout: 20) == "completed\n")
            #expect(waitUntil(10) { ((try? String(contentsOf: out, encoding: .utf8)) ?? "").contains(answer) })
            let log = log(mount, "sess_demo_2")
            #expect(Self.occurrences(answer, in: log) == 1)
            #expect(Self.occurrences("From the browser", in: log) == 1)
            #expect(log.hasPrefix(before))
        }
    }

    @Test func eachAgentHasAFolderWithItsInfoAndTheWorkspaceItsConversationsShare() throws {
        try withMountedEmulator(["--seed-tasks", "2", "--seed-file", "reports/shared.bin:2M"], backend: .sage) { (emulator: EmulatorProcess, mount: MountProcess) throws in
            let agents = try run(["ls", mount.path("agents")])
            #expect(agents.stdout == "agent_research\nagent_writer\n")
            let info = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: mount.path("agents/agent_research/info.json")))) as? [String: Any]
            #expect(info?["id"] as? String == "agent_research" && info?["name"] as? String == "Research Agent")
            let stored = emulator.workspaceFile("sess_demo_1", "reports/shared.bin")
            #expect(try sha256(mount.path("tasks/sess_demo_1/workspace/reports/shared.bin")) == (try sha256(stored)))
            #expect(try sha256(mount.path("agents/agent_research/workspace/reports/shared.bin")) == (try sha256(stored)))
            // One agent's files, cached once: read through the agent's folder, nothing is fetched again.
            let fetched = mount.fetchedRanges(of: "reports/shared.bin").reduce(0) { $0 + $1.count }
            #expect(fetched == 2 << 20, "fetched \(fetched) bytes")
            #expect(try run(["ls", mount.path("agents/nobody")]).status != 0)
            #expect(openErrno(mount.path("agents/agent_research/info.json"), O_WRONLY) == EACCES || openErrno(mount.path("agents/agent_research/info.json"), O_WRONLY) == EROFS)
        }
    }
} }
