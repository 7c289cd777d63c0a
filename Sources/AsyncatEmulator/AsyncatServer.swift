import Foundation
import Hummingbird
import Logging
import SynapseEmulatorKit

/// The Asyncat emulator's state, made once per server.
public final class AsyncatEmulator: Sendable {
    let configuration: AsyncatEmulatorConfiguration
    let store: AsyncatStore
    let questions = AsyncatQuestions()
    public let faults: AsyncatFaults

    public init(configuration: AsyncatEmulatorConfiguration) throws {
        self.configuration = configuration
        store = AsyncatStore(root: configuration.dataDirectory.appendingPathComponent("root", isDirectory: true))
        try AsyncatSeeder.seed(store, conversations: configuration.seedConversations, files: configuration.seedFiles)
        faults = AsyncatFaults(configuration.faults)
    }

    /// Saves answered so far.
    public var saves: Int { store.saves.load(ordering: .relaxed) }

    /// The application: the seed's routes behind the (optional) bearer check.
    public func application(logger: Logger, onRunning: @escaping @Sendable (Int) -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router()
        let port = configuration.port
        router.add(middleware: AsyncatGate(tokens: configuration.tokens, faults: faults))
        ChatRoutes(store: store, faults: faults).register(on: router)
        RunRoutes(store: store, questions: questions, faults: faults, questionTimeout: configuration.questionTimeoutSeconds,
                  pingSeconds: configuration.pingSeconds).register(on: router)
        ArtifactRoutes(store: store, faults: faults).register(on: router)
        FaultRoutes(faults: faults).register(on: router)
        return Application(router: router,
                           configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "asyncat-emulator"),
                           onServerRunning: { channel in onRunning(channel.localAddress?.port ?? port) },
                           logger: logger)
    }
}

/// An Asyncat emulator running in this process.
public final class AsyncatEmulatorServer: Sendable {
    private let server: RunningServer
    public let emulator: AsyncatEmulator
    public var baseURL: String { server.baseURL }

    private init(server: RunningServer, emulator: AsyncatEmulator) {
        self.server = server
        self.emulator = emulator
    }

    public static func start(configuration: AsyncatEmulatorConfiguration, logger: Logger) async throws -> AsyncatEmulatorServer {
        let emulator = try AsyncatEmulator(configuration: configuration)
        let server = try await RunningServer.start(logger: logger) { onRunning in emulator.application(logger: logger, onRunning: onRunning) }
        return AsyncatEmulatorServer(server: server, emulator: emulator)
    }

    public static func startBlocking(configuration: AsyncatEmulatorConfiguration, logger: Logger) throws -> AsyncatEmulatorServer {
        let emulator = try AsyncatEmulator(configuration: configuration)
        let server = try RunningServer.startBlocking {
            try await RunningServer.start(logger: logger) { onRunning in emulator.application(logger: logger, onRunning: onRunning) }
        }
        return AsyncatEmulatorServer(server: server, emulator: emulator)
    }

    public func stop() async { await server.stop() }

    public func stopBlocking() { server.stopBlocking() }
}
