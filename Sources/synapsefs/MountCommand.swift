import ArgumentParser
import Foundation
import Logging
import SynapseClient
import SynapseCore
import SynapseEmulator
import SynapseFUSE

struct MountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mount",
        abstract: "Mount the server's tasks at MOUNTPOINT.",
        discussion: """
        The API key comes from INFINISYNAPSE_API_KEY, --api-key-file or the config file, never \
        from the command line. With no server configured, the built-in emulator is mounted.
        """
    )

    @Argument(help: "An empty folder to mount on.")
    var mountpoint: String

    @Option(help: "The server's base URL (default: the config file's server, else the built-in emulator).")
    var server: String?

    @Option(help: "Where cached files, listings and the log live (default: ~/.cache/synapsefs/…).")
    var cacheDir: String?

    @Option(help: "A file holding the API key; it must not be readable by group or others.")
    var apiKeyFile: String?

    @Option(help: "CA certificates (PEM) to trust for an HTTPS server (default: SSL_CERT_FILE, else the system's).")
    var caFile: String?

    @Option(help: "The config file (default: ~/.config/synapsefs/config.json).")
    var config: String?

    @Flag(name: [.customShort("f"), .long], help: "Stay in the foreground and log to stderr.")
    var foreground = false

    @Option(name: .customShort("o"), help: "A FUSE mount option (repeatable), e.g. -o allow_other.")
    var options: [String] = []

    @Option(help: "The file cache's size limit, e.g. 10G or 500M; least recently used files go first.")
    var cacheSize: ByteCount = ByteCount(bytes: 10 << 30)

    @Option(help: "Free space the cache always leaves on its disk, e.g. 1G.")
    var minFreeSpace: ByteCount = ByteCount(bytes: 1 << 30)

    @Flag(help: "Let `echo delete > tasks/ID/ctl` delete tasks on the server.")
    var allowDelete = false

    @Flag(help: "With -o allow_other, let other users also write: send prompts, upload, make drafts (with your API key).")
    var allowOtherWrites = false

    @Option(help: "Seconds to wait for a connection to the server.")
    var connectTimeout: Double = 5

    @Option(help: "Seconds a transfer may stall before it fails.")
    var idleTimeout: Double = 15

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func validate() throws {
        guard connectTimeout > 0, idleTimeout > 0 else { throw ValidationError("timeouts must be positive") }
    }

    func run() throws {
        FuseAdapter.limitMallocArenas()
        FuseAdapter.blockStopSignals()
        let settings: MountSettings
        let mountpoint = URL(fileURLWithPath: self.mountpoint).standardizedFileURL.path
        do {
            settings = try MountSettings.resolve(serverFlag: server, apiKeyFile: apiKeyFile, configPath: config, cacheDirFlag: cacheDir)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: mountpoint, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw SettingsError("mountpoint \(mountpoint) is not a folder")
            }
        } catch {
            Daemon.report("error: \(error)")
            throw failure("\(error)")
        }
        let cache: CacheDirectory
        do { cache = try CacheDirectory(root: settings.cacheRoot) } catch { throw failure(error.message) }

        if !foreground {
            var arguments = Array(CommandLine.arguments.dropFirst())
            arguments.append("--foreground")
            do {
                if let problem = try Daemon.spawn(arguments: arguments, logFile: cache.logFile) { throw failure(problem) }
            } catch let error as SettingsError { throw failure(error.description) }
            print("synapsefs: mounted on \(mountpoint) (log: \(cache.logFile.path))")
            return
        }

        LogSetup.bootstrap(level: logLevel)
        let logger = Logger(label: "synapsefs")
        let (client, description, emulator) = try connect(settings, cache: cache, logger: logger)
        defer { emulator?.stopBlocking() }

        var fsConfiguration = FilesystemConfiguration(serverDescription: description, cacheDirectory: cache)
        fsConfiguration.allowDelete = allowDelete
        fsConfiguration.othersMayWrite = allowOtherWrites
        fsConfiguration.cacheLimit = cacheSize.bytes
        fsConfiguration.freeSpaceFloor = minFreeSpace.bytes
        fsConfiguration.operationTimeLimit = 2 * idleTimeout
        let filesystem = SynapseFilesystem(remote: client, configuration: fsConfiguration, logger: logger)
        // Open the event stream before anything can send a prompt.
        filesystem.events.start()
        defer { filesystem.events.stop() }
        // Uploads left pending or failed by an earlier run are retried from now on.
        filesystem.uploader.start()
        // Tasks driven elsewhere are followed by polling while their stream.log is open.
        let follower = PeriodicWorker.start(name: "log-follower", interval: 1) { filesystem.followLogs() }
        let adapter = FuseAdapter(filesystem: filesystem, logger: logger)
        defer {
            // Nothing may write once the cache's records are taken down.
            follower.stop()
            filesystem.shutdown()
        }
        do {
            try adapter.run(mountpoint: mountpoint, options: Self.fuseOptions(options, logger: logger)) {
                logger.info("mounted \(description) on \(mountpoint)")
                Daemon.report("ready")
            }
        } catch {
            Daemon.report("error: \(error.description)")
            throw failure(error.description)
        }
    }

    /// `-o` options as given, one per element, with `default_permissions` added whenever other
    /// users may enter the mount: the kernel then enforces the modes, so they act with the
    /// owner's API key only where a mode lets them.
    static func fuseOptions(_ given: [String], logger: Logger) -> [String] {
        let options = given.flatMap { $0.split(separator: ",").map(String.init) }
        let shared = options.contains("allow_other") || options.contains("allow_root")
        guard shared, !options.contains("default_permissions") else { return options }
        logger.info("other users may enter the mount: permissions are enforced (default_permissions), so they get what the modes give them")
        return options + ["default_permissions"]
    }

    /// The client for the configured server (or a started emulator), checked with one ping.
    private func connect(_ settings: MountSettings, cache: CacheDirectory, logger: Logger) throws
        -> (InfiniSynapseClient, String, EmulatorServer?)
    {
        // A whole request may take twice the idle timeout: no operation outlasts that.
        let timeouts = Timeouts(connect: connectTimeout, idle: idleTimeout, request: 2 * idleTimeout)
        switch settings.server {
        case .builtInEmulator:
            var configuration = EmulatorConfiguration(dataDirectory: cache.root.appendingPathComponent("emulator-data"),
                                                      apiKeys: [Self.randomKey()])
            configuration.seedTasks = 5
            let emulator: EmulatorServer
            do {
                emulator = try EmulatorServer.startBlocking(configuration: configuration, logger: Logger(label: "emulator"))
            } catch {
                Daemon.report("error: \(error)")
                throw failure("cannot start the built-in emulator: \(error)")
            }
            logger.notice("no server configured: serving the built-in emulator at \(emulator.baseURL) with demo tasks")
            let client = InfiniSynapseClient(baseURL: emulator.baseURL, apiKey: emulator.apiKey, timeouts: timeouts, stateDirectory: cache.state,
                                             autoApprovalSettings: settings.autoApprovalSettings, logger: logger)
            return (client, "built-in emulator (\(emulator.baseURL))", emulator)
        case .remote(let url, let apiKey):
            let trusted = caFile ?? ProcessInfo.processInfo.environment["SSL_CERT_FILE"] ?? ProcessInfo.processInfo.environment["CURL_CA_BUNDLE"]
            let client = InfiniSynapseClient(baseURL: url, apiKey: apiKey, timeouts: timeouts, caFile: trusted, stateDirectory: cache.state,
                                             autoApprovalSettings: settings.autoApprovalSettings, logger: logger)
            do {
                try client.ping()
            } catch .rejectedKey(let message) {
                let text = "the server at \(url) rejected the API key (\(message)); set a valid key and mount again"
                Daemon.report("error: \(text)")
                throw failure(text)
            } catch .untrustedServer(let message) {
                let text = "the TLS certificate of \(url) is not trusted (\(message)); trust its CA with --ca-file FILE or SSL_CERT_FILE"
                Daemon.report("error: \(text)")
                throw failure(text)
            } catch {
                logger.warning("server \(url) is unreachable (\(error)); mounting anyway, cached files stay readable")
            }
            return (client, url, nil)
        }
    }

    private static func randomKey() -> String {
        (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    private func failure(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("synapsefs: \(message)\n".utf8))
        return ExitCode.failure
    }
}

/// A size on the command line: bytes, or with a K, M, G or T suffix (powers of 1024).
struct ByteCount: ExpressibleByArgument {
    var bytes: Int64

    init(bytes: Int64) { self.bytes = bytes }

    init?(argument: String) {
        let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        let text = argument.uppercased().replacingOccurrences(of: "B", with: "").replacingOccurrences(of: "I", with: "")
        guard let last = text.last else { return nil }
        if let unit = units[last], let n = Int64(text.dropLast()), n >= 0 { bytes = n * unit }
        else if let n = Int64(text), n >= 0 { bytes = n }
        else { return nil }
    }

    var defaultValueDescription: String { "\(bytes) bytes" }
}
