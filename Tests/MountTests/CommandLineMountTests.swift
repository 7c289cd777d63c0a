import Foundation
import Testing

/// The mount as a system tool: refusals that say what to do, mount options as fstab gives
/// them, systemd's readiness protocol, logging, and the unmount command.
extension MountTests { @Suite struct CommandLine {
    /// `synapsefs mount` against the scene's emulator, in the background, with a private key file.
    func mount(_ scene: MountScene, _ extra: [String] = [], mountpoint: URL? = nil, cache: URL? = nil,
               environment: [String: String] = [:]) throws -> CommandResult {
        let keyFile = scene.root.appendingPathComponent("key")
        if !FileManager.default.fileExists(atPath: keyFile.path) {
            try Data((EmulatorProcess.apiKey + "\n").utf8).write(to: keyFile)
            chmod(keyFile.path, 0o600)
        }
        return try run([synapsefsBinary, "mount", (mountpoint ?? scene.mountpoint).path, "--server", scene.emulator.url,
                        "--cache-dir", (cache ?? scene.cache).path, "--api-key-file", keyFile.path] + extra,
                       environment: ["INFINISYNAPSE_API_KEY": "", "XDG_CONFIG_HOME": scene.root.path].merging(environment) { $1 }, timeout: 60)
    }

    func unmount(_ path: String) {
        _ = try? run([synapsefsBinary, "unmount", path], timeout: 20)
        _ = waitUntil(10) { !isMounted(path) }
    }

    @Test func theSuccessLineSaysWhatWhereAndHow() throws {
        try withScene(["--seed-tasks", "1"]) { scene in
            let dry = try mount(scene, ["--dry-run", "-o", "allow_delete=0,on_event=\"echo a,b\""])
            #expect(dry.status == 0 && dry.stdout.contains("would mount \(scene.emulator.url)") && !isMounted(scene.mountpoint.path), "\(dry.stdout) \(dry.stderr)")
            let result = try mount(scene)
            defer { unmount(scene.mountpoint.path) }
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("mounted \(scene.emulator.url) on \(scene.mountpoint.path)"), "\(result.stdout)")
            #expect(result.stdout.contains("server: online") && result.stdout.contains("cache: \(scene.cache.path)"), "\(result.stdout)")
            // The daemon keeps no folder of the caller's busy.
            let daemon = try run(["pgrep", "-f", "synapsefs mount \(scene.mountpoint.path)"]).stdout.split(separator: "\n").first.map(String.init) ?? ""
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(daemon)/cwd") == "/")
        }
    }

    /// Ctrl-C while the daemon starts (here: a server that stalls the first request) stops it:
    /// the command returns at once and nothing stays mounted.
    @Test func ctrlCWhileStartingLeavesNothingMounted() throws {
        try withScene(["--stall-seconds", "3"]) { scene in
            let keyFile = scene.root.appendingPathComponent("key")
            try Data(EmulatorProcess.apiKey.utf8).write(to: keyFile)
            chmod(keyFile.path, 0o600)
            let parent = try ChildProcess([synapsefsBinary, "mount", scene.mountpoint.path, "--server", scene.emulator.url,
                                           "--cache-dir", scene.cache.path, "--api-key-file", keyFile.path],
                                          errorOutput: scene.root.appendingPathComponent("err"))
            Thread.sleep(forTimeInterval: 1)
            parent.signal(SIGINT)
            #expect(parent.wait(timeout: 3))
            #expect(parent.terminationStatus != 0)
            #expect(try String(contentsOf: scene.root.appendingPathComponent("err"), encoding: .utf8).contains("interrupted"))
            #expect(waitUntil(30) { (try? run(["pgrep", "-f", "synapsefs mount \(scene.mountpoint.path)"]))?.stdout.isEmpty ?? false })
            #expect(!isMounted(scene.mountpoint.path))
        }
    }

    /// A misspelt subcommand or server never mounts: `synapsefs umount DIR` is not the
    /// helper form, and the helper refuses a spec that is not a URL or `synapsefs`.
    @Test func onlyARealServerSpecTakesTheHelperForm() throws {
        try withScene([]) { scene in
            let typo = try run([synapsefsBinary, "umount", scene.mountpoint.path], timeout: 30)
            #expect(typo.status != 0 && !isMounted(scene.mountpoint.path), "\(typo.stderr)")
            let helper = scene.root.appendingPathComponent("mount.fuse.synapsefs").path
            try FileManager.default.createSymbolicLink(atPath: helper, withDestinationPath: synapsefsBinary)
            let bad = try run([helper, "htps://example.invalid", scene.mountpoint.path], timeout: 30)
            #expect(bad.status != 0 && bad.stderr.contains("is not a server") && !isMounted(scene.mountpoint.path), "\(bad.stderr)")
        }
    }

    /// An unreachable server still mounts (cached files stay readable), with a warning on stderr.
    @Test func anUnreachableServerMountsWithAWarning() throws {
        try withScene([]) { scene in
            let port = try freeLoopbackPort()
            let keyFile = scene.root.appendingPathComponent("key")
            try Data("k".utf8).write(to: keyFile)
            chmod(keyFile.path, 0o600)
            let result = try run([synapsefsBinary, "mount", scene.mountpoint.path, "--server", "http://127.0.0.1:\(port)", "--cache-dir",
                                  scene.cache.path, "--api-key-file", keyFile.path, "--connect-timeout", "1"],
                                 environment: ["INFINISYNAPSE_API_KEY": ""], timeout: 60)
            defer { unmount(scene.mountpoint.path) }
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("warning") && result.stderr.contains("unreachable") && result.stderr.contains("mounted anyway"), "\(result.stderr)")
            #expect(isMounted(scene.mountpoint.path))
        }
    }

    /// Each refusal names what is wrong and what to do, and mounts nothing.
    @Test func mistakesAreRefusedWithWhatToDo() throws {
        try withScene([]) { scene in
            let full = scene.root.appendingPathComponent("full")
            try FileManager.default.createDirectory(at: full, withIntermediateDirectories: true)
            try Data("x".utf8).write(to: full.appendingPathComponent("file"))
            let cases: [([String], URL?, String)] = [
                ([], full, "is not empty"),
                ([], scene.root.appendingPathComponent("absent"), "does not exist"),
                (["--cache-size", "-1"], nil, "--cache-size -1 is too small"),
                (["--cache-size", "0"], nil, "too small"),
                (["--min-free-space", "1000000T"], nil, "more than the whole disk"),
                (["-o", "uid=1000,frobnicate"], nil, "unknown mount option \"frobnicate\""),
                (["-o", "max_read=4096"], nil, "max_read is set by synapsefs"),
                (["--umask", "999"], nil, "octal"),
                (["-o", "allow_delete=maybe"], nil, "a flag takes no value"),
                (["-o", "on_event=\"notify,unclosed"], nil, "a quote is not closed"),
            ]
            for (extra, mountpoint, message) in cases {
                let result = try mount(scene, extra, mountpoint: mountpoint)
                #expect(result.status != 0 && result.stderr.contains(message), "\(extra): \(result.stderr)")
            }
            let api = try run([synapsefsBinary, "mount", scene.mountpoint.path, "--server", scene.emulator.url + "/api"],
                              environment: ["INFINISYNAPSE_API_KEY": "k"], timeout: 30)
            #expect(api.status != 0 && api.stderr.contains("ends in /api"), "\(api.stderr)")
            let config = scene.root.appendingPathComponent("synapsefs/config.json")
            try FileManager.default.createDirectory(at: config.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(#"{"serverUrl": "http://example.invalid"}"#.utf8).write(to: config)
            let misspelt = try run([synapsefsBinary, "mount", scene.mountpoint.path],
                                   environment: ["XDG_CONFIG_HOME": scene.root.path, "INFINISYNAPSE_API_KEY": ""], timeout: 30)
            #expect(misspelt.status != 0 && misspelt.stderr.contains("unknown key \"serverUrl\"") && misspelt.stderr.contains("did you mean \"server\""),
                    "\(misspelt.stderr)")
            #expect(!isMounted(scene.mountpoint.path))
        }
    }

    /// A folder already mounted, a cache another mount holds, a dead mount left by kill -9:
    /// refused, and the dead one cleared by `synapsefs unmount`.
    @Test func mountsNeverStackShareACacheOrHideADeadOne() throws {
        try withScene(["--seed-tasks", "1"]) { scene in
            #expect(try mount(scene).status == 0)
            defer { unmount(scene.mountpoint.path) }
            let again = try mount(scene, cache: scene.root.appendingPathComponent("cache2"))
            #expect(again.status != 0 && again.stderr.contains("already a mount point"), "\(again.stderr)")
            let other = scene.root.appendingPathComponent("other")
            try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
            let shared = try mount(scene, mountpoint: other)
            #expect(shared.status != 0 && shared.stderr.contains("in use by another synapsefs") && shared.stderr.contains("--cache-dir"), "\(shared.stderr)")
            #expect(!isMounted(other.path))

            let daemon = try run(["pgrep", "-f", "synapsefs mount \(scene.mountpoint.path)"]).stdout.split(separator: "\n").first.map(String.init) ?? ""
            #expect(!daemon.isEmpty)
            kill(pid_t(daemon) ?? 0, SIGKILL)
            #expect(waitUntil(10) { openErrno(scene.mountpoint.path) == ENOTCONN })
            let dead = try mount(scene)
            #expect(dead.status != 0 && dead.stderr.contains("dead FUSE mount") && dead.stderr.contains("synapsefs unmount"), "\(dead.stderr)")
            let cleared = try run([synapsefsBinary, "unmount", scene.mountpoint.path])
            #expect(cleared.status == 0 && cleared.stdout.contains("cleared the dead mount"), "\(cleared.stdout) \(cleared.stderr)")
            #expect(try mount(scene).status == 0)
        }
    }

    @Test func unmountRefusesOtherMountsAndNamesWhoKeepsOneBusy() throws {
        try withScene(["--seed-tasks", "1"]) { scene in
            let proc = try run([synapsefsBinary, "unmount", "/proc"])
            #expect(proc.status != 0 && proc.stderr.contains("not synapsefs"), "\(proc.stderr)")
            #expect(try mount(scene).status == 0)
            defer { unmount(scene.mountpoint.path) }
            let holder = try ChildProcess(["sh", "-c", "cd '\(scene.mountpoint.path)/tasks' && exec sleep 30"])
            defer { holder.stop() }
            #expect(waitUntil(5) { UnmountCheck.uses(holder.pid, scene.mountpoint.path) })
            let busy = try run([synapsefsBinary, "unmount", scene.mountpoint.path])
            #expect(busy.status != 0 && busy.stderr.contains("is busy") && busy.stderr.contains("sleep (pid \(holder.pid))")
                    && busy.stderr.contains("--lazy"), "\(busy.stderr)")
        }
    }

    /// `$HOME` is where the config is looked for (not the passwd entry), and with no server of
    /// its own the mount takes the one InfiniSynapse's CLI is set up for, saying so.
    @Test func theAgentInfiniConfigUnderHomeIsOffered() throws {
        try withScene(["--seed-tasks", "1"]) { scene in
            let home = scene.root.appendingPathComponent("home")
            let cli = home.appendingPathComponent(".agent_infini/config.key")
            try FileManager.default.createDirectory(at: cli.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data("global:\n  server: \"\(scene.emulator.url)\"\n  api-key: \"\(EmulatorProcess.apiKey)\"\n".utf8).write(to: cli)
            chmod(cli.path, 0o644)
            let environment = ["HOME": home.path, "XDG_CONFIG_HOME": "", "XDG_CACHE_HOME": "", "INFINISYNAPSE_API_KEY": ""]
            let open = try run([synapsefsBinary, "mount", scene.mountpoint.path], environment: environment, timeout: 60)
            #expect(open.status != 0 && open.stderr.contains("chmod 600 \(cli.path)"), "\(open.stderr)")
            chmod(cli.path, 0o600)
            let mounted = try run([synapsefsBinary, "mount", scene.mountpoint.path], environment: environment, timeout: 60)
            defer { unmount(scene.mountpoint.path) }
            #expect(mounted.status == 0, "\(mounted.stderr)")
            #expect(mounted.stdout.contains("mounted \(scene.emulator.url)") && mounted.stderr.contains("agent_infini"), "\(mounted.stdout) \(mounted.stderr)")
            // The cache went under $HOME/.cache, the default when XDG_CACHE_HOME is unset.
            #expect(mounted.stdout.contains("cache: \(home.path)/.cache/synapsefs/"), "\(mounted.stdout)")
        }
    }

    @Test func anEmulatorPortInUseIsNamed() throws {
        let first = try EmulatorProcess([], dataDirectory: try temporaryDirectory("emu1"))
        defer { first.stop() }
        let second = try run([synapsefsBinary, "emulator", "--port", "\(first.port)", "--data-dir", try temporaryDirectory("emu2").path,
                              "--api-key", "k"], timeout: 30)
        #expect(second.status != 0 && second.stderr.contains("port \(first.port)") && second.stderr.contains("in use"), "\(second.stderr)")
    }

    /// `-o uid=…,gid=…,umask=…,ro` are handled, not refused by libfuse.
    @Test func ownerModesAndReadOnlyFromMountOptions() throws {
        try withScene(["--seed-tasks", "1"]) { scene in
            let result = try mount(scene, ["-o", "uid=1234,gid=4321,umask=027,ro"])
            defer { unmount(scene.mountpoint.path) }
            #expect(result.status == 0, "\(result.stderr)")
            let ls = try run(["stat", "-c", "%u %g %a", scene.mountpoint.path + "/tasks", scene.mountpoint.path + "/tasks/\(seededTask)/prompt.txt"])
            #expect(ls.stdout == "1234 4321 550\n1234 4321 440\n", "\(ls.stdout)")
            let write = try run(["sh", "-c", "echo hi > '\(scene.mountpoint.path)/tasks/\(seededTask)/prompt.txt'"])
            #expect(write.status != 0 && write.stderr.contains("Read-only file system"), "\(write.stderr)")
        }
    }

    /// `mount -t fuse.synapsefs URL DIR -o …` and an fstab line (as `mount DIR` reads it) go
    /// through the `mount.fuse.synapsefs` helper; `umount` ends them. mount(8) runs helpers
    /// from /sbin, so the test links one there for its run (CI runs as root).
    @Test(.enabled(if: getuid() == 0, "mount(8) runs filesystem helpers for root"))
    func mountDashTAndAnFstabLineWork() throws {
        try withScene(["--seed-tasks", "2"]) { scene in
            let helper = "/sbin/mount.fuse.synapsefs"
            let saved = helper + ".saved-by-test"
            let hadOne = FileManager.default.fileExists(atPath: helper)
            if hadOne { _ = rename(helper, saved) }
            try FileManager.default.createSymbolicLink(atPath: helper, withDestinationPath: URL(fileURLWithPath: synapsefsBinary).standardizedFileURL.path)
            defer {
                unlink(helper)
                if hadOne { _ = rename(saved, helper) }
            }
            let keyFile = scene.root.appendingPathComponent("key")
            try Data(EmulatorProcess.apiKey.utf8).write(to: keyFile)
            chmod(keyFile.path, 0o600)
            let mnt = scene.mountpoint.path
            let options = "cache_dir=\(scene.cache.path),api_key_file=\(keyFile.path)"
            let mounted = try run(["mount", "-t", "fuse.synapsefs", scene.emulator.url, mnt, "-o", options],
                                  environment: ["INFINISYNAPSE_API_KEY": ""], timeout: 60)
            #expect(mounted.status == 0, "\(mounted.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: mnt + "/tasks/by-name").count == 2)
            #expect(try run(["umount", mnt]).status == 0)
            #expect(waitUntil(10) { !isMounted(mnt) })

            // The README's line: root mounts, allow_other lets the user in, uid= makes it theirs.
            let fstab = scene.root.appendingPathComponent("fstab")
            try Data("\(scene.emulator.url) \(mnt) fuse.synapsefs noauto,_netdev,x-systemd.automount,allow_other,\(options),uid=65534 0 0\n".utf8).write(to: fstab)
            let fromFstab = try run(["mount", "-T", fstab.path, mnt], environment: ["INFINISYNAPSE_API_KEY": ""], timeout: 60)
            #expect(fromFstab.status == 0, "\(fromFstab.stderr)")
            #expect(try run(["stat", "-c", "%u", mnt + "/tasks"]).stdout == "65534\n")
            // As that user: in, and the prompt is theirs to write.
            chmod(scene.root.path, 0o755)
            let asUser = try run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c",
                                  "ls '\(mnt)/tasks/by-name' | wc -l && echo 'hello [emu:words 2]' > '\(mnt)/tasks/\(seededTask)/prompt.txt'"])
            #expect(asUser.status == 0 && asUser.stdout == "2\n", "\(asUser.stdout) \(asUser.stderr)")
            #expect(try run(["umount", mnt]).status == 0)
            #expect(waitUntil(10) { !isMounted(mnt) })
        }
    }

    /// systemd's Type=notify: READY=1 once the mount is live, STOPPING=1 at unmount, sent to
    /// the datagram socket NOTIFY_SOCKET names.
    @Test func systemdHearsReadyAndStopping() throws {
        try withScene(["--seed-tasks", "1"]) { scene in
            let socketPath = scene.root.appendingPathComponent("notify").path
            let listener = try DatagramListener(path: socketPath)
            defer { listener.close() }
            let mount = try scene.mount(extraArguments: [], environment: ["NOTIFY_SOCKET": socketPath])
            let ready = listener.receive(timeout: 10)
            #expect(ready?.contains("READY=1") == true && ready?.contains("MAINPID=\(mount.process.pid)") == true, "\(ready ?? "nothing")")
            mount.unmount()
            let stopping = listener.receive(timeout: 10)
            #expect(stopping?.contains("STOPPING=1") == true, "\(stopping ?? "nothing")")
            // A clean unmount logs no error (the built-in parts stop gracefully).
            #expect(!mount.logText.contains(" error "), "\(mount.logText)")
        }
    }

    /// `--log-file` takes the log lines; SIGUSR2 turns debug on and off at run time.
    @Test func logFileAndDebugToggledBySIGUSR2() throws {
        try withScene(["--seed-tasks", "1"]) { scene in
            let logFile = scene.root.appendingPathComponent("mount.log")
            let mount = try scene.mount(extraArguments: ["--log-file", logFile.path, "--log-level", "info"])
            defer { mount.unmount() }
            /// Lines logged at debug level (the level is the second field of a line).
            func debugLines() -> Int {
                ((try? String(contentsOf: logFile, encoding: .utf8)) ?? "").split(separator: "\n")
                    .filter { $0.split(separator: " ").dropFirst().first == "debug" }.count
            }
            #expect(waitUntil(10) { ((try? String(contentsOf: logFile, encoding: .utf8)) ?? "").contains("mounted") })
            _ = try run(["cat", mount.path("tasks/\(seededTask)/status")])
            #expect(debugLines() == 0)
            mount.process.signal(SIGUSR2)
            #expect(waitUntil(10) { ((try? String(contentsOf: logFile, encoding: .utf8)) ?? "").contains("log level now debug") })
            _ = try run(["cat", mount.path("tasks/\(seededTask)/workspace/report.md")])
            #expect(waitUntil(10) { debugLines() > 0 })
            mount.process.signal(SIGUSR2)
            #expect(waitUntil(10) { ((try? String(contentsOf: logFile, encoding: .utf8)) ?? "").contains("log level now info") })
        }
    }
}}

/// Whether a process has its working folder under a path.
enum UnmountCheck {
    static func uses(_ pid: pid_t, _ path: String) -> Bool {
        ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd")) ?? "").hasPrefix(path)
    }
}

/// A unix datagram socket the test listens on, as systemd does for NOTIFY_SOCKET.
final class DatagramListener {
    private let fd: Int32

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket: \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw HarnessError("bind \(path): \(errno)") }
    }

    /// The next datagram, or nil after `timeout` seconds.
    func receive(timeout: Double) -> String? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(timeout * 1000)) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? String(decoding: buffer.prefix(n), as: UTF8.self) : nil
    }

    func close() { Glibc.close(fd) }
}
