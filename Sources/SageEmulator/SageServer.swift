import Foundation
import Hummingbird
import Logging
import SynapseEmulatorKit

/// The Sage emulator's state and its agent's runs, made once per server.
public final class SageEmulator: Sendable {
    let configuration: SageEmulatorConfiguration
    let store: SageStore
    let runs: SageRuns
    let faults: SageFaults

    public init(configuration: SageEmulatorConfiguration) throws {
        self.configuration = configuration
        store = SageStore(root: configuration.dataDirectory, agents: SageSeeder.agents)
        try SageSeeder.seed(store, conversations: configuration.seedConversations, files: configuration.seedFiles)
        runs = SageRuns(store: store)
        faults = SageFaults(configuration.faults)
    }

    /// The application: the seed's routes behind the session check.
    public func application(logger: Logger, onRunning: @escaping @Sendable (Int) -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router()
        let port = configuration.port
        router.add(middleware: SageAuth(store: store, configuration: configuration, faults: faults))
        ConversationRoutes(store: store).register(on: router)
        StreamRoutes(store: store, runs: runs, faults: faults, heartbeatSeconds: configuration.heartbeatSeconds).register(on: router)
        WorkspaceRoutes(store: store, faults: faults).register(on: router)
        OSSRoutes(store: store, faults: faults, maxBytes: configuration.maxUploadBytes).register(on: router)
        FaultRoutes(faults: faults).register(on: router)
        return Application(router: router,
                           configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "sage-emulator"),
                           onServerRunning: { channel in onRunning(channel.localAddress?.port ?? port) },
                           logger: logger)
    }

    /// Ends every run (their agents' threads stop), as a server going down does.
    public func stopRuns() async { await runs.interruptAll() }
}

/// A Sage emulator running in this process.
public final class SageEmulatorServer: Sendable {
    private let server: RunningServer
    private let emulator: SageEmulator
    public var baseURL: String { server.baseURL }
    /// The faults it injects, changeable while it runs.
    public var faults: SageFaults { emulator.faults }
    /// Logins and token refreshes answered so far.
    public var logins: Int { emulator.store.logins.load(ordering: .relaxed) }
    public var refreshes: Int { emulator.store.refreshes.load(ordering: .relaxed) }

    private init(server: RunningServer, emulator: SageEmulator) {
        self.server = server
        self.emulator = emulator
    }

    public static func start(configuration: SageEmulatorConfiguration, logger: Logger) async throws -> SageEmulatorServer {
        let emulator = try SageEmulator(configuration: configuration)
        let server = try await RunningServer.start(logger: logger) { onRunning in emulator.application(logger: logger, onRunning: onRunning) }
        return SageEmulatorServer(server: server, emulator: emulator)
    }

    /// Blocking start for callers outside Swift concurrency (the mount's main thread).
    public static func startBlocking(configuration: SageEmulatorConfiguration, logger: Logger) throws -> SageEmulatorServer {
        let emulator = try SageEmulator(configuration: configuration)
        let server = try RunningServer.startBlocking {
            try await RunningServer.start(logger: logger) { onRunning in emulator.application(logger: logger, onRunning: onRunning) }
        }
        return SageEmulatorServer(server: server, emulator: emulator)
    }

    /// Stops the runs, then the server.
    public func stop() async {
        await emulator.stopRuns()
        await server.stop()
    }

    public func stopBlocking() {
        RunningServer.waitFor { await self.stop() }
    }
}
