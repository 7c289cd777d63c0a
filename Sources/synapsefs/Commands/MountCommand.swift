import ArgumentParser
import Foundation
import Logging
import SynapseCore
import SynapseFUSE

struct MountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mount",
        abstract: "Mount the server's tasks at MOUNTPOINT.",
        discussion: """
        The API key comes from INFINISYNAPSE_API_KEY, --api-key-file or the config file, never \
        from the command line. With no server configured, the built-in emulator is mounted. \
        Exit status: 0 once mounted (also when the server is unreachable: cached files stay \
        readable, and a warning says so), 1 when nothing was mounted (the reason on stderr), \
        64 for a bad command line.
        """
    )

    @Argument(help: "An empty folder to mount on.")
    var mountpoint: String

    @Option(help: "The server's base URL, without /api (default: the config file's server, else the built-in emulator).")
    var server: String?

    @Option(help: "The kind of server: infinisynapse (the default), sage, asyncat or synapse.")
    var backend: String?

    @Option(help: "Where cached files, listings and state live (default: $XDG_CACHE_HOME/synapsefs/…).")
    var cacheDir: String?

    @Option(help: "A file holding the API key; it must not be readable by group or others.")
    var apiKeyFile: String?

    @Option(help: "CA certificates (PEM) to trust for an HTTPS server (default: SSL_CERT_FILE, else the system's).")
    var caFile: String?

    @Option(help: "The config file (default: $XDG_CONFIG_HOME/synapsefs/config.json).")
    var config: String?

    @Flag(name: [.customShort("f"), .long], help: "Stay in the foreground and log to stderr.")
    var foreground = false

    @Option(name: .customShort("o"), help: "A mount option (repeatable, or comma-separated): uid=, gid=, umask=, ro, allow_other, nonempty, server=, cache_dir=, api_key_file=, … as in fstab.")
    var options: [String] = []

    // (Unconditional: `--cache-size -1` is a bad size to name, not a missing value.)
    @Option(parsing: .unconditional, help: "The file cache's size limit, e.g. 10G or 500M (at least 1M); least recently used files go first. [default: 10G]")
    var cacheSize: ByteCount?

    @Option(parsing: .unconditional, help: "Free space the cache always leaves on its disk, e.g. 1G. [default: 1G]")
    var minFreeSpace: ByteCount?

    @Flag(help: "Let `echo delete > tasks/ID/ctl` delete tasks on the server.")
    var allowDelete = false

    @Flag(help: "Let the agent run its tools without asking (Asyncat's autoApprove), for unattended use.")
    var autoApprove = false

    @Flag(help: "Let other users in (FUSE's allow_other; needs user_allow_other in /etc/fuse.conf unless root). They read what the modes allow.")
    var allowOther = false

    @Flag(help: "With --allow-other, let other users also write: send prompts, upload, make drafts (with your API key).")
    var allowOtherWrites = false

    @Flag(help: "Mount read-only: no prompts, uploads, drafts or commands.")
    var readOnly = false

    @Option(help: "The user id files and folders show (default: yours).")
    var uid: UInt32?

    @Option(help: "The group id files and folders show (default: yours).")
    var gid: UInt32?

    @Option(help: "Mode bits to take away from every file and folder, in octal, e.g. 022 or 077.")
    var umask: String?

    @Option(help: "Seconds to wait for a connection to the server. [default: 5]")
    var connectTimeout: Double?

    @Option(help: "Seconds a transfer may stall before it fails. [default: 15]")
    var idleTimeout: Double?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (SIGUSR2 toggles debug). [default: info]")
    var logLevel: Logger.Level?

    @Option(help: "Log to this file (rotated at 10 MiB, 3 kept) instead of syslog when in the background.")
    var logFile: String?

    @Flag(help: "Check the settings, the mountpoint and the cache folder, say what would be mounted, and mount nothing (mount -f).")
    var dryRun = false

    @Option(help: "A command run (by sh) when a task completes, fails or starts waiting, with the task id and the new status as arguments, e.g. 'notify-send synapsefs'.")
    var onEvent: String?

    func validate() throws {
        if let umask, UInt16(umask, radix: 8).map({ $0 <= 0o777 }) != true {
            throw ValidationError("--umask \(umask): expected an octal mode like 022 or 077")
        }
        if let cacheSize, cacheSize.bytes < MountSettings.smallestCache {
            throw ValidationError("--cache-size \(cacheSize.text) is too small: the cache holds what is being read, give at least 1M")
        }
        if let minFreeSpace, minFreeSpace.bytes < 0 { throw ValidationError("--min-free-space \(minFreeSpace.text) must not be negative") }
        if let connectTimeout, connectTimeout <= 0 { throw ValidationError("--connect-timeout must be positive") }
        if let idleTimeout, idleTimeout <= 0 { throw ValidationError("--idle-timeout must be positive") }
    }

    func run() throws {
        // Before any thread starts, so every thread inherits the blocks.
        if foreground {
            FuseAdapter.limitMallocArenas()
            FuseAdapter.blockStopSignals()
            DebugSignal.block()
        } else {
            var stops = Daemon.stopSignals
            pthread_sigmask(SIG_BLOCK, &stops, nil)
        }
        let plan: MountPlan
        do {
            plan = try MountPlan(self)
        } catch {
            Daemon.report("error: \(error)")
            throw Self.failure("\(error)")
        }
        if dryRun {
            print("synapsefs: would mount \(plan.settings.serverDescription) on \(plan.mountpoint) (cache: \(plan.cache.root.path)); every check passed")
            return
        }
        guard plan.foreground else { return try background(plan) }
        do {
            try MountSession(plan).run()
        } catch let error as SettingsError {
            Daemon.report("error: \(error)")
            throw Self.failure(error.description)
        }
    }

    /// Starts the daemon (this command again, in the foreground, in a session of its own),
    /// waits until it mounted or failed, and says which.
    private func background(_ plan: MountPlan) throws {
        var arguments = FstabHelper.effectiveArguments()
        arguments.append("--foreground")
        let outcome: Daemon.Outcome
        do {
            outcome = try Daemon.spawn(arguments: arguments, output: plan.cache.root.appendingPathComponent("synapsefs.log"))
        } catch { throw Self.failure("\(error)") }
        switch outcome {
        case .failed(let message):
            throw Self.failure(message)
        case .mounted(let summary):
            print("synapsefs: mounted \(summary.what) on \(plan.mountpoint)")
            print("  server: \(summary.connection); cache: \(plan.cache.root.path); log: \(summary.log)")
            if let warning = summary.warning { FileHandle.standardError.write(Data("synapsefs: warning: \(warning)\n".utf8)) }
            for note in plan.settings.notes { FileHandle.standardError.write(Data("synapsefs: \(note)\n".utf8)) }
        }
    }

    static func failure(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("synapsefs: \(message)\n".utf8))
        return ExitCode.failure
    }
}

/// A size on the command line: bytes, or with a K, M, G or T suffix (powers of 1024).
/// Negative sizes parse, so the check can say what is wrong with them.
struct ByteCount: ExpressibleByArgument {
    var bytes: Int64
    /// As given.
    var text: String

    init(bytes: Int64) {
        self.bytes = bytes
        text = "\(bytes)"
    }

    init?(argument: String) {
        let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        let upper = argument.uppercased().replacingOccurrences(of: "B", with: "").replacingOccurrences(of: "I", with: "")
        guard let last = upper.last else { return nil }
        if let unit = units[last], let n = Int64(upper.dropLast()), n.magnitude <= UInt64(Int64.max / unit) { bytes = n * unit }
        else if let n = Int64(upper) { bytes = n }
        else { return nil }
        text = argument
    }

    var defaultValueDescription: String { "\(bytes) bytes" }
}
