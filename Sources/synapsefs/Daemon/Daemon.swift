import Foundation

/// Backgrounding: the command re-runs itself in the foreground as a new session, its output
/// going to the log file, and waits on a pipe until the child says the mount is ready.
enum Daemon {
    /// glibc's POSIX_SPAWN_SETSID (needs _GNU_SOURCE, so Swift does not see it): a new session,
    /// so the daemon outlives the terminal.
    private static let posixSpawnSetsid: Int16 = 0x80
    static let readyFDVariable = "SYNAPSEFS_READY_FD"

    /// Blocked in the waiting parent, so a Ctrl-C is noticed and passed on.
    static var stopSignals: sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for s in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&set, s) }
        return set
    }

    /// What the daemon says once it has mounted: what, the server's state, where it logs.
    struct Summary: Codable {
        var what: String
        var connection: String
        var log: String
        /// Said on stderr: the server could not be reached, or looks wrong.
        var warning: String?
    }

    enum Outcome {
        case mounted(Summary)
        case failed(String)
    }

    /// Whether this process is a daemon started by `spawn` (its parent waits for its word).
    static var isDaemonChild: Bool { ProcessInfo.processInfo.environment[readyFDVariable] != nil }

    /// Starts the daemon, its output going to `output` (crash reports land there), and waits
    /// for its word.
    static func spawn(arguments: [String], output logFile: URL) throws -> Outcome {
        var fds: [Int32] = [0, 0]
        // CLOEXEC: only the dup2'ed fd 3 may reach the daemon, or the parent never sees EOF.
        guard pipe(&fds) == 0 else { throw SettingsError("pipe: \(String(cString: strerror(errno)))") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let log = open(logFile.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard log >= 0 else { throw SettingsError("cannot open log file \(logFile.path): \(String(cString: strerror(errno)))") }
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(log); close(devNull) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, devNull, 0)
        posix_spawn_file_actions_adddup2(&actions, log, 1)
        posix_spawn_file_actions_adddup2(&actions, log, 2)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 3)
        // Nothing else the caller had open reaches the daemon (a lock a script holds on fd 9).
        markInheritedDescriptorsCloseOnExec()
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The daemon starts with no signal blocked (this process blocks the stop signals to
        // notice them while it waits) and the default handlers.
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var stops = stopSignals
        posix_spawnattr_setsigdefault(&attributes, &stops)
        posix_spawnattr_setflags(&attributes, posixSpawnSetsid | Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let argv = [executable] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment[readyFDVariable] = "3"
        let envp = environment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let rc = withCStrings(argv) { cArgv in
            withCStrings(envp) { cEnvp in posix_spawn(&pid, executable, &actions, &attributes, cArgv, cEnvp) }
        }
        close(fds[1])
        defer { close(fds[0]) }
        guard rc == 0 else { throw SettingsError("cannot start the daemon: \(String(cString: strerror(rc)))") }

        var reply = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            // Ctrl-C (or SIGTERM) while the daemon starts stops it: nothing is left mounted.
            var pending = sigset_t()
            sigpending(&pending)
            if [SIGINT, SIGTERM, SIGHUP].contains(where: { sigismember(&pending, $0) == 1 }) {
                kill(pid, SIGTERM)
                return .failed("interrupted: the daemon was stopped before it mounted")
            }
            var poller = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 200) > 0 else { continue }
            let n = read(fds[0], &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            reply.append(contentsOf: buffer[0..<n])
            if reply.contains(0x0A) { break }
        }
        let text = String(decoding: reply, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("ready ") {
            let summary = try? JSONDecoder().decode(Summary.self, from: Data(text.dropFirst(6).utf8))
            return .mounted(summary ?? Summary(what: "the server", connection: "unknown", log: logFile.path))
        }
        if text.hasPrefix("error: ") { return .failed(String(text.dropFirst(7))) }
        return .failed(text.isEmpty ? "the daemon exited before mounting; see \(logFile.path)" : text)
    }

    /// Every descriptor above stderr closes at exec (this process is about to wait and exit).
    private static func markInheritedDescriptorsCloseOnExec() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            if let fd = Int32(name), fd > 2 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        }
    }

    /// In the daemon: tells the waiting parent it is mounted.
    static func reportMounted(_ summary: Summary) {
        let json = (try? JSONEncoder().encode(summary)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        report("ready " + json)
    }

    /// In the daemon: tells the waiting parent how the start went, once.
    static func report(_ message: String) {
        guard let value = ProcessInfo.processInfo.environment[readyFDVariable], let fd = Int32(value) else { return }
        let line = message + "\n"
        _ = line.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        unsetenv(readyFDVariable)
    }

    private static func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        let pointers = strings.map { strdup($0) } + [nil]
        defer { for p in pointers { free(p) } }
        return body(pointers)
    }
}
