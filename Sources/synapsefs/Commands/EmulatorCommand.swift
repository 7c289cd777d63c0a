import ArgumentParser
import Foundation
import Logging
import InfiniSynapseEmulator
import SageEmulator
import AsyncatEmulator
import SynapseAIEmulator
import SynapseEmulatorKit

struct EmulatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emulator",
        abstract: "Run a built-in server emulator (InfiniSynapse; Sage or Asyncat with --backend).",
        discussion: "Prints 'listening on URL' once it accepts connections; stops on SIGINT or SIGTERM."
    )

    @Option(help: "The kind of server to emulate: \(MountSettings.backends.joined(separator: ", ")).")
    var backend = "infinisynapse"

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port (0 picks a free one).")
    var port = 0

    @Option(help: "The folder holding the emulator's state.")
    var dataDir: String

    @Option(help: "An accepted API key (repeatable; InfiniSynapse).")
    var apiKey: [String] = []

    @Option(help: "An accepted login USER:PASSWORD (repeatable; Sage).")
    var account: [String] = []

    @Option(help: "Seconds a login's token lasts (Sage).")
    var tokenSeconds: Double = 3600

    @Option(help: "Seconds an ask_user or permission_request waits for its answer (Asyncat).")
    var questionTimeoutSeconds: Double = 300

    @Option(help: "Seed this many finished tasks (Sage: demo conversations).")
    var seedTasks = 0

    @Option(help: "PATH:SIZE (e.g. big.bin:64M): the first seeded task holds PATH with SIZE deterministic bytes (repeatable; Sage: every agent's workspace holds it).")
    var seedFile: [String] = []

    @Flag(help: "Seed one task whose workspace listing holds hostile names.")
    var seedHostileNames = false

    @Option(help: "Seed N text files of 1-64 KiB, in nested folders, under small/ in the first seeded task.")
    var seedSmallFiles = 0

    @Option(help: "A distant server: every answer waits this round trip (ms), each streamed event half of it.")
    var latencyMs = 0

    @Option(help: "A distant server: bodies flow at most at this rate (Mbit/s; 0: no limit).")
    var bandwidthMbps = 0

    @Option(help: "The shape of getTaskWorkspace files: objects or strings.")
    var workspaceListing: String = "objects"

    @Option(help: "Seconds between SSE heartbeats.")
    var heartbeatSeconds: Double = 15

    @Flag(help: "Ignore HTTP Range on downloads: always answer with the whole file, as some servers do.")
    var noRange = false

    @Option(help: "Uploads larger than this many bytes answer HTTP 400 (default 1 GiB).")
    var maxUploadBytes: Int64 = 1 << 30

    @Option(help: "Fault: the next N uploads answer HTTP 500 (once their body has arrived).")
    var failUploads = 0

    @Option(help: "Fault: the next N /api/ai/message posts answer HTTP 500.")
    var failMessages = 0

    @Option(help: "Fault: drop SSE connections every this many seconds (0: never).")
    var dropSSEEvery: Double = 0

    @Option(help: "Fault: every request waits this many seconds before it is answered.")
    var stallSeconds: Double = 0

    @Option(help: "Fault: download bodies are cut after this many bytes (0: never).")
    var truncateDownloadsAt: Int64 = 0

    @Option(help: "Faults and server variants from the start, as JSON (the body POST /_emulator/faults takes), e.g. '{\"slimMessagesOver\": 1000}'.")
    var faults: String?

    @Option(help: "Record every event sent to this file (time, type, task, text length), for latency measurements.")
    var eventLog: String?

    @Option(help: "Log level.")
    var logLevel: Logger.Level = .warning

    func validate() throws {
        guard MountSettings.backends.contains(backend) else {
            throw ValidationError("--backend \(backend): this version emulates \(MountSettings.backends.joined(separator: ", "))")
        }
        if backend == MountSettings.Backend.asyncat.rawValue {
            // No --api-key: no auth, as today's Asyncat runs.
            for file in seedFile where EmulatorConfiguration.SeedFile(argument: file) == nil {
                throw ValidationError("--seed-file \(file): expected PATH:SIZE, SIZE like 64M or 1G")
            }
            return
        }
        if backend == MountSettings.Backend.sage.rawValue {
            guard !account.isEmpty, account.allSatisfy({ $0.split(separator: ":", maxSplits: 1).count == 2 }) else {
                throw ValidationError("give at least one --account USER:PASSWORD")
            }
            for file in seedFile where EmulatorConfiguration.SeedFile(argument: file) == nil {
                throw ValidationError("--seed-file \(file): expected PATH:SIZE, SIZE like 64M or 1G")
            }
            return
        }
        guard !apiKey.isEmpty else { throw ValidationError("give at least one --api-key") }
        guard EmulatorConfiguration.WorkspaceListing(rawValue: workspaceListing) != nil else {
            throw ValidationError("--workspace-listing must be objects or strings")
        }
        for file in seedFile where EmulatorConfiguration.SeedFile(argument: file) == nil {
            throw ValidationError("--seed-file \(file): expected PATH:SIZE, SIZE like 64M or 1G")
        }
        if !seedFile.isEmpty && seedTasks < 1 { throw ValidationError("--seed-file needs --seed-tasks 1 or more") }
        if seedSmallFiles > 0 && seedTasks < 1 { throw ValidationError("--seed-small-files needs --seed-tasks 1 or more") }
        guard latencyMs >= 0, bandwidthMbps >= 0 else { throw ValidationError("--latency-ms and --bandwidth-mbps take 0 or more") }
    }

    func run() throws {
        LogSetup.bootstrap(.standardError, levels: LogLevelSwitch(logLevel))
        if backend == MountSettings.Backend.sage.rawValue { return try runSage() }
        if backend == MountSettings.Backend.asyncat.rawValue { return try runAsyncat() }
        if backend == MountSettings.Backend.synapse.rawValue { return try runSynapse() }
        var configuration = EmulatorConfiguration(dataDirectory: URL(fileURLWithPath: dataDir), apiKeys: apiKey)
        configuration.host = host
        configuration.port = port
        configuration.seedTasks = seedTasks
        configuration.seedFiles = seedFile.compactMap(EmulatorConfiguration.SeedFile.init(argument:))
        configuration.seedHostileNames = seedHostileNames
        configuration.seedSmallFiles = seedSmallFiles
        configuration.network = NetworkShape(latencyMilliseconds: latencyMs, megabitsPerSecond: bandwidthMbps)
        configuration.workspaceListing = EmulatorConfiguration.WorkspaceListing(rawValue: workspaceListing)!
        configuration.heartbeatSeconds = heartbeatSeconds
        configuration.maxUploadBytes = maxUploadBytes
        configuration.honoursRange = !noRange
        configuration.failUploads = failUploads
        configuration.failMessages = failMessages
        configuration.dropSSEEvery = dropSSEEvery
        configuration.stallSeconds = stallSeconds
        configuration.truncateDownloadsAt = truncateDownloadsAt
        configuration.eventLog = eventLog.map { URL(fileURLWithPath: $0) }
        configuration.faults = faults.map { Data($0.utf8) }
        let app = try buildApplication(configuration: configuration, logger: Logger(label: "emulator"), onRunning: announce)
        try serve { try await app.runService() }
    }

    /// The Sage emulator: its accounts, demo conversations, and faults as JSON (`SageFaults.Settings`).
    private func runSage() throws {
        var accounts: [String: String] = [:]
        for login in account {
            let parts = login.split(separator: ":", maxSplits: 1)
            accounts[String(parts[0])] = String(parts[1])
        }
        var configuration = SageEmulatorConfiguration(dataDirectory: URL(fileURLWithPath: dataDir), accounts: accounts)
        configuration.host = host
        configuration.port = port
        configuration.seedConversations = seedTasks
        for file in seedFile.compactMap(EmulatorConfiguration.SeedFile.init(argument:)) { configuration.seedFiles[file.path] = file.size }
        configuration.tokenSeconds = tokenSeconds
        configuration.heartbeatSeconds = heartbeatSeconds
        configuration.maxUploadBytes = maxUploadBytes
        var settings = SageFaults.Settings()
        if let faults {
            guard let given = try? JSONDecoder().decode(SageFaults.Settings.self, from: Data(faults.utf8)) else {
                throw ValidationError("--faults: not a JSON object of Sage faults")
            }
            settings = given
        }
        settings.failUploads = max(settings.failUploads, failUploads)
        settings.stallSeconds = max(settings.stallSeconds, stallSeconds)
        settings.truncateDownloadsAt = max(settings.truncateDownloadsAt, truncateDownloadsAt)
        configuration.faults = settings
        let emulator = try SageEmulator(configuration: configuration)
        let app = emulator.application(logger: Logger(label: "emulator"), onRunning: announce)
        try serve { try await app.runService() }
    }

    /// The Asyncat emulator: its tokens (none: no auth), demo conversations and artifacts, faults as JSON.
    private func runAsyncat() throws {
        var configuration = AsyncatEmulatorConfiguration(dataDirectory: URL(fileURLWithPath: dataDir), tokens: apiKey)
        configuration.host = host
        configuration.port = port
        configuration.seedConversations = seedTasks
        configuration.questionTimeoutSeconds = questionTimeoutSeconds
        configuration.pingSeconds = heartbeatSeconds
        for file in seedFile.compactMap(EmulatorConfiguration.SeedFile.init(argument:)) { configuration.seedFiles[file.path] = file.size }
        if let faults {
            guard let given = try? JSONDecoder().decode(AsyncatFaults.Settings.self, from: Data(faults.utf8)) else {
                throw ValidationError("--faults: not a JSON object of Asyncat faults")
            }
            configuration.faults = given
        }
        configuration.faults.stallSeconds = max(configuration.faults.stallSeconds, stallSeconds)
        configuration.faults.truncateDownloadsAt = max(configuration.faults.truncateDownloadsAt, truncateDownloadsAt)
        let emulator = try AsyncatEmulator(configuration: configuration)
        let app = emulator.application(logger: Logger(label: "emulator"), onRunning: announce)
        try serve { try await app.runService() }
    }

    /// The Synapse emulator: its API keys; `--faults '{"dropStreamsAfter": N, "silentResumes": true}'`
    /// cuts streams, or answers resumes with no events.
    private func runSynapse() throws {
        var configuration = SynapseAIEmulatorConfiguration(apiKeys: apiKey)
        configuration.host = host
        configuration.port = port
        if let faults, let object = try? JSONSerialization.jsonObject(with: Data(faults.utf8)) as? [String: Any] {
            configuration.dropStreamsAfter = object["dropStreamsAfter"] as? Int ?? 0
            configuration.silentResumes = object["silentResumes"] as? Bool ?? false
            configuration.startingSeconds = object["startingSeconds"] as? Double ?? 0
        }
        let app = SynapseAIEmulator(configuration: configuration).application(logger: Logger(label: "emulator"), onRunning: announce)
        try serve { try await app.runService() }
    }

    private func announce(_ port: Int) {
        FileHandle.standardOutput.write(Data("listening on http://\(host):\(port)\n".utf8))
    }

    /// Runs the server until SIGINT or SIGTERM.
    private func serve(_ runService: @escaping @Sendable () async throws -> Void) throws {
        // The server runs on Swift's executors; this thread waits for it to stop (SIGINT/SIGTERM).
        let outcome = BlockingOutcome()
        Task.detached {
            do { try await runService() } catch { outcome.fail(error) }
            outcome.finish()
        }
        do {
            try outcome.wait()
        } catch where "\(error)".contains("Address already in use") {
            throw MountCommand.failure("port \(port) on \(host) is in use; choose another with --port, or --port 0 for a free one")
        }
    }
}

/// Waits on the main thread for work running on Swift's executors.
final class BlockingOutcome: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var error: (any Error)?

    func fail(_ error: any Error) { lock.withLock { self.error = error } }
    func finish() { done.signal() }

    func wait() throws {
        done.wait()
        if let error = lock.withLock({ error }) { throw error }
    }
}
