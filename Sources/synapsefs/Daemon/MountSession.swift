import Foundation
import Logging
import SynapseCore
import SynapseFUSE

/// One mount's life in the daemon: logging, the cache lock, the server (or the built-in
/// emulator), the filesystem and its workers, the FUSE loop, and the word to whoever waits
/// (the parent process, systemd). Everything it starts it stops, in reverse order.
struct MountSession {
    let plan: MountPlan

    init(_ plan: MountPlan) { self.plan = plan }

    func run() throws {
        // Every path is absolute by now: the caller's folder is not kept busy (as a `cd` would).
        _ = chdir("/")
        let levels = LogLevelSwitch(plan.settings.logLevel)
        let (destination, logFile) = try logging()
        LogSetup.bootstrap(destination, levels: levels)
        let logger = Logger(label: "synapsefs")
        let logDescription = logFile?.url.path ?? (destination == .syslog ? "syslog (journalctl -t synapsefs)" : "stderr")

        let lock = try CacheLock(cacheRoot: plan.cache.root, mountpoint: plan.mountpoint)
        defer { lock.release() }
        let server = try connect(logger: logger)
        defer { server.stopEmulator?() }
        for note in plan.settings.notes { logger.notice("\(note)") }

        var configuration = FilesystemConfiguration(serverDescription: server.description, cacheDirectory: plan.cache)
        configuration.allowDelete = plan.allowDelete
        configuration.othersMayWrite = plan.allowOtherWrites
        configuration.cacheLimit = plan.settings.cacheSize
        configuration.freeSpaceFloor = plan.settings.minFreeSpace
        configuration.operationTimeLimit = 2 * plan.settings.idleTimeout
        configuration.owner = plan.owner
        configuration.umask = plan.umask
        configuration.readOnly = plan.readOnly
        if let command = plan.onEvent {
            let events = EventCommand(command: command, mountpoint: plan.mountpoint, logger: logger)
            configuration.taskChanged = { events.run($0) }
        }
        let filesystem = SynapseFilesystem(remote: server.client, configuration: configuration, logger: logger)
        let workers = filesystem.startWorkers()
        let housekeeping = PeriodicWorker.start(name: "housekeeping", interval: 0) {
            if DebugSignal.waitBriefly(0.5) { logger.notice("log level now \(levels.toggleDebug()) (SIGUSR2)") }
            logFile?.rotateIfNeeded()
        }
        let adapter = FuseAdapter(filesystem: filesystem, logger: logger)
        defer {
            housekeeping.stop()
            workers.stop()
        }
        do {
            try adapter.run(mountpoint: plan.mountpoint, options: plan.fuseOptions) {
                logger.info("mounted \(server.description) on \(plan.mountpoint)", metadata: ["server": "\(server.connection)", "log": "\(logDescription)"])
                Daemon.reportMounted(Daemon.Summary(what: server.what, connection: server.connection, log: logDescription, warning: server.warning))
                SystemdNotify.send(["READY=1", "MAINPID=\(getpid())", "STATUS=Mounted \(server.what) on \(plan.mountpoint)"])
            }
        } catch {
            throw SettingsError(Self.explain(error.description, options: plan.fuseOptions))
        }
        SystemdNotify.send(["STOPPING=1", "STATUS=Unmounted \(plan.mountpoint)"])
    }

    /// Where log lines go: `--log-file` when given; in the background, syslog when the system
    /// has one, else the cache folder's log file; in the foreground, stderr.
    private func logging() throws -> (LogDestination, RotatingLogFile?) {
        if let path = plan.settings.logFile {
            let file = RotatingLogFile(URL(fileURLWithPath: path))
            try file.attach()
            return (.standardError, file)
        }
        guard Daemon.isDaemonChild else { return (.standardError, nil) }
        if LogDestination.systemLogAvailable { return (.syslog, nil) }
        let file = RotatingLogFile(plan.cache.root.appendingPathComponent("synapsefs.log"))
        try file.attach()
        return (.standardError, file)
    }

    /// libfuse's refusal, with what to do about the usual causes.
    static func explain(_ message: String, options: [String]) -> String {
        if options.contains("allow_other") || options.contains("allow_root"), getuid() != 0 {
            return message + "; allow_other needs 'user_allow_other' in /etc/fuse.conf for users other than root"
        }
        return message
    }

    static func randomKey() -> String {
        (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }
}
