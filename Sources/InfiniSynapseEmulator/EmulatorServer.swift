import Foundation
import Hummingbird
import Logging
import NIOCore
import SynapseEmulatorKit
import ServiceLifecycle

/// Builds the emulator's application: its router can be driven in tests, or served live.
public func buildApplication(configuration: EmulatorConfiguration, logger: Logger,
                             onRunning: @escaping @Sendable (Int) -> Void = { _ in }) throws -> some ApplicationProtocol {
    let store = try TaskStore(root: configuration.dataDirectory)
    try Seeder.seed(store, configuration: configuration)
    var initialFaults = try configuration.faults.map { try JSONDecoder().decode(Faults.Settings.self, from: $0) } ?? Faults.Settings()
    if configuration.failUploads > 0 { initialFaults.failUploads = configuration.failUploads }
    if configuration.failMessages > 0 { initialFaults.failMessages = configuration.failMessages }
    if configuration.dropSSEEvery > 0 { initialFaults.dropSSEEvery = configuration.dropSSEEvery }
    if configuration.stallSeconds > 0 { initialFaults.stallSeconds = configuration.stallSeconds }
    if configuration.truncateDownloadsAt > 0 { initialFaults.truncateDownloadsAt = configuration.truncateDownloadsAt }
    let faults = Faults(initialFaults)
    let hub = EventHub(eventLog: configuration.eventLog)
    let agent = AgentRuns(store: store, hub: hub, faults: faults, logger: logger)
    let router = Router()
    if !configuration.network.isNone { router.add(middleware: NetworkShapeMiddleware(configuration.network)) }
    router.add(middleware: APIMiddleware(apiKeys: Set(configuration.apiKeys), faults: faults))
    TaskRoutes(store: store, listing: configuration.workspaceListing, isRunning: { agent.isRunning($0) }, faults: faults).register(on: router)
    DownloadRoutes(store: store, faults: faults, honoursRange: configuration.honoursRange).register(on: router)
    MessageRoutes(store: store, hub: hub, agent: agent, faults: faults).register(on: router)
    EventRoutes(hub: hub, faults: faults, heartbeatSeconds: configuration.heartbeatSeconds).register(on: router)
    UploadRoutes(store: store, faults: faults, maxBytes: configuration.maxUploadBytes).register(on: router)
    FaultRoutes(faults: faults).register(on: router)
    return Application(router: router,
                       configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                            serverName: "synapsefs-emulator"),
                       onServerRunning: { channel in onRunning(channel.localAddress?.port ?? configuration.port) },
                       logger: logger)
}

/// An InfiniSynapse emulator running in this process, for `mount` without a server and for tests.
public final class EmulatorServer: Sendable {
    public let apiKey: String
    private let server: RunningServer

    public var port: Int { server.port }
    public var baseURL: String { server.baseURL }

    private init(apiKey: String, server: RunningServer) {
        self.apiKey = apiKey
        self.server = server
    }

    /// Starts the emulator and returns once it accepts connections.
    public static func start(configuration: EmulatorConfiguration, logger: Logger) async throws -> EmulatorServer {
        let server = try await RunningServer.start(logger: logger) { onRunning in
            try buildApplication(configuration: configuration, logger: logger, onRunning: onRunning)
        }
        return EmulatorServer(apiKey: configuration.apiKeys.first ?? "", server: server)
    }

    /// Blocking start for callers outside Swift concurrency (the mount's main thread).
    public static func startBlocking(configuration: EmulatorConfiguration, logger: Logger) throws -> EmulatorServer {
        let server = try RunningServer.startBlocking {
            try await RunningServer.start(logger: logger) { onRunning in
                try buildApplication(configuration: configuration, logger: logger, onRunning: onRunning)
            }
        }
        return EmulatorServer(apiKey: configuration.apiKeys.first ?? "", server: server)
    }

    public func stop() async { await server.stop() }

    public func stopBlocking() { server.stopBlocking() }
}
