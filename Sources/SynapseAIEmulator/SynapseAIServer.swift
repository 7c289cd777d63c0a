import Foundation
import Hummingbird
import Logging
import SynapseEmulatorKit

/// The Synapse emulator's state, made once per server.
public final class SynapseAIEmulator: Sendable {
    let configuration: SynapseAIEmulatorConfiguration
    let store = SynapseAIStore()
    let startedAt = Date()

    public init(configuration: SynapseAIEmulatorConfiguration) {
        self.configuration = configuration
    }

    public func application(logger: Logger, onRunning: @escaping @Sendable (Int) -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router()
        let port = configuration.port
        router.add(middleware: SynapseAIGate(apiKeys: configuration.apiKeys))
        SynapseAIRoutes(store: store, configuration: configuration, startedAt: startedAt).register(on: router)
        return Application(router: router,
                           configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "synapse-emulator"),
                           onServerRunning: { channel in onRunning(channel.localAddress?.port ?? port) },
                           logger: logger)
    }
}

/// A Synapse emulator running in this process.
public final class SynapseAIEmulatorServer: Sendable {
    private let server: RunningServer
    public var baseURL: String { server.baseURL }

    private init(server: RunningServer) { self.server = server }

    public static func start(configuration: SynapseAIEmulatorConfiguration, logger: Logger) async throws -> SynapseAIEmulatorServer {
        let emulator = SynapseAIEmulator(configuration: configuration)
        return SynapseAIEmulatorServer(server: try await RunningServer.start(logger: logger) { onRunning in
            emulator.application(logger: logger, onRunning: onRunning)
        })
    }

    public static func startBlocking(configuration: SynapseAIEmulatorConfiguration, logger: Logger) throws -> SynapseAIEmulatorServer {
        let emulator = SynapseAIEmulator(configuration: configuration)
        return SynapseAIEmulatorServer(server: try RunningServer.startBlocking {
            try await RunningServer.start(logger: logger) { onRunning in emulator.application(logger: logger, onRunning: onRunning) }
        })
    }

    public func stop() async { await server.stop() }

    public func stopBlocking() { server.stopBlocking() }
}
