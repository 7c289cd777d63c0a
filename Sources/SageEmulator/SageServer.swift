import Foundation
import Hummingbird
import Logging
import SynapseEmulatorKit

/// The Sage emulator's application: its seed's routes behind the session check.
public func buildSageApplication(configuration: SageEmulatorConfiguration, logger: Logger,
                                 onRunning: @escaping @Sendable (Int) -> Void = { _ in }) throws -> some ApplicationProtocol {
    let store = SageStore(root: configuration.dataDirectory, agents: SageSeeder.agents)
    try SageSeeder.seed(store, conversations: configuration.seedConversations)
    let router = Router()
    router.add(middleware: SageAuth(store: store, configuration: configuration))
    ConversationRoutes(store: store).register(on: router)
    WorkspaceRoutes(store: store).register(on: router)
    return Application(router: router,
                       configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "sage-emulator"),
                       onServerRunning: { channel in onRunning(channel.localAddress?.port ?? configuration.port) },
                       logger: logger)
}

/// A Sage emulator running in this process.
public final class SageEmulatorServer: Sendable {
    private let server: RunningServer
    public var baseURL: String { server.baseURL }

    private init(server: RunningServer) { self.server = server }

    public static func start(configuration: SageEmulatorConfiguration, logger: Logger) async throws -> SageEmulatorServer {
        SageEmulatorServer(server: try await RunningServer.start(logger: logger) { onRunning in
            try buildSageApplication(configuration: configuration, logger: logger, onRunning: onRunning)
        })
    }

    public func stop() async { await server.stop() }
}
