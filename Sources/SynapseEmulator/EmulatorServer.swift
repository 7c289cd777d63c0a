import Foundation
import Hummingbird
import Logging
import NIOCore
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

/// An emulator running in this process, for `mount` without a server and for tests.
public final class EmulatorServer: Sendable {
    public let port: Int
    public let apiKey: String
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(port: Int, apiKey: String, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.apiKey = apiKey
        self.group = group
        self.task = task
    }

    /// Starts the emulator and returns once it accepts connections.
    public static func start(configuration: EmulatorConfiguration, logger: Logger) async throws -> EmulatorServer {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = try buildApplication(configuration: configuration, logger: logger) { port in
            continuation.yield(port)
            continuation.finish()
        }
        // A service group, so stopping is a graceful shutdown (open streams end, nothing is
        // logged as an error), not a cancellation.
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        for await port in ports {
            return EmulatorServer(port: port, apiKey: configuration.apiKeys.first ?? "", group: group, task: task)
        }
        let outcome = await task.result
        if case .failure(let error) = outcome { throw EmulatorError.startFailed("\(error)") }
        throw EmulatorError.startFailed("server stopped before it was running")
    }

    /// Blocking start for callers outside Swift concurrency (the mount's main thread).
    public static func startBlocking(configuration: EmulatorConfiguration, logger: Logger) throws -> EmulatorServer {
        let result = ResultBox()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { result.set(.success(try await start(configuration: configuration, logger: logger))) } catch { result.set(.failure(error)) }
            done.signal()
        }
        done.wait()
        return try result.get()
    }

    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
    }

    public func stopBlocking() {
        let done = DispatchSemaphore(value: 0)
        Task {
            await stop()
            done.signal()
        }
        done.wait()
    }
}

private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<EmulatorServer, any Error>?

    func set(_ r: Result<EmulatorServer, any Error>) { lock.withLock { result = r } }
    func get() throws -> EmulatorServer { try lock.withLock { result! }.get() }
}
