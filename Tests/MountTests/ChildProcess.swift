import Foundation

/// A child process spawned with posix_spawn and reaped with waitpid by this object alone, so
/// its state never depends on anyone else's SIGCHLD handling.
final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    private let lock = NSLock()
    private var exitStatus: Int32?

    /// Starts `arguments[0]` (looked up in PATH) with stdin from /dev/null and stdout and
    /// stderr appended to `output` (or discarded).
    init(_ arguments: [String], environment: [String: String] = [:], output: URL? = nil, errorOutput: URL? = nil) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output?.path ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, (errorOutput ?? output)?.path ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o600)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The child starts with no signals blocked and default handlers, whatever this thread has.
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }.compactMap { key, value in
            value.isEmpty && environment[key] != nil ? nil : "\(key)=\(value)"
        }
        var pid: pid_t = 0
        let cArgs = arguments.map { strdup($0) } + [nil]
        let cEnv = env.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) }; cEnv.forEach { free($0) } }
        let rc = posix_spawnp(&pid, arguments[0], &actions, &attributes, cArgs, cEnv)
        guard rc == 0 else { throw HarnessError("cannot start \(arguments[0]): \(String(cString: strerror(rc)))") }
        self.pid = pid
    }

    /// Reaps the child if it has exited; true while it runs.
    var isRunning: Bool {
        lock.withLock {
            guard exitStatus == nil else { return false }
            var status: Int32 = 0
            let rc = waitpid(pid, &status, WNOHANG)
            if rc == pid { exitStatus = status }
            return exitStatus == nil
        }
    }

    /// The exit code (128 + signal when killed); nil while running.
    var terminationStatus: Int32? {
        _ = isRunning
        return lock.withLock {
            guard let status = exitStatus else { return nil }
            let signal = status & 0x7f
            return signal == 0 ? (status >> 8) & 0xff : 128 + signal
        }
    }

    func signal(_ signal: Int32) { if isRunning { kill(pid, signal) } }

    /// Waits up to `timeout` seconds; true when the child has exited.
    @discardableResult
    func wait(timeout: Double) -> Bool { waitUntil(timeout) { !isRunning } }

    /// SIGTERM, then SIGKILL if it lingers; always reaped.
    func stop() {
        signal(SIGTERM)
        if !wait(timeout: 10) {
            signal(SIGKILL)
            wait(timeout: 10)
        }
    }
}
