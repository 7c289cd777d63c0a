import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// An emulator's HTTP server running in this process (for `mount` without a server, and for
/// tests): started on a port it reports, stopped gracefully (open streams end, nothing is
/// logged as an error).
public final class RunningServer: Sendable {
    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.group = group
        self.task = task
    }

    /// Builds the application with a callback for the port it listens on, runs it, and
    /// returns once it accepts connections.
    public static func start<App: ApplicationProtocol>(logger: Logger,
                                                        build: (@escaping @Sendable (Int) -> Void) throws -> App) async throws -> RunningServer {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = try build { port in
            continuation.yield(port)
            continuation.finish()
        }
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        for await port in ports {
            return RunningServer(port: port, group: group, task: task)
        }
        let outcome = await task.result
        if case .failure(let error) = outcome { throw StartFailed(description: "\(error)") }
        throw StartFailed(description: "server stopped before it was running")
    }

    /// `start` for callers outside Swift concurrency (the mount's main thread).
    public static func startBlocking(_ start: @escaping @Sendable () async throws -> RunningServer) throws -> RunningServer {
        let result = Mutex<Result<RunningServer, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            do { let server = try await start(); result.withLock { $0 = .success(server) } } catch { result.withLock { $0 = .failure(error) } }
            done.signal()
        }
        done.wait()
        return try result.withLock { $0! }.get()
    }

    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
    }

    public func stopBlocking() {
        Self.waitFor { await self.stop() }
    }

    /// Runs `work` on Swift's executors and waits for it, for callers outside Swift concurrency.
    public static func waitFor(_ work: @escaping @Sendable () async -> Void) {
        let done = DispatchSemaphore(value: 0)
        Task {
            await work()
            done.signal()
        }
        done.wait()
    }

    public struct StartFailed: Error, CustomStringConvertible {
        public var description: String
    }
}
