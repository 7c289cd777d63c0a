import Foundation
import Logging
import Sage
import SageEmulator
import SynapseHTTP
import Synchronization

/// A Sage emulator on a free loopback port with its own data folder, for one test; one
/// account, alice / s3cret.
final class LiveSage: Sendable {
    let server: SageEmulatorServer
    let directory: URL
    /// The clients made for the test: stopped with it (their run readers end).
    private let clients = Mutex<[SageClient]>([])

    static func start(tokenSeconds: Double = 3600, conversations: Int = 3, heartbeatSeconds: Double = 5) async throws -> LiveSage {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sage-emu-\(UUID().uuidString)")
        var configuration = SageEmulatorConfiguration(dataDirectory: directory, accounts: ["alice": "s3cret"])
        configuration.tokenSeconds = tokenSeconds
        configuration.seedConversations = conversations
        configuration.heartbeatSeconds = heartbeatSeconds
        var logger = Logger(label: "sage-emulator")
        logger.logLevel = .warning
        return LiveSage(server: try await SageEmulatorServer.start(configuration: configuration, logger: logger), directory: directory)
    }

    private init(server: SageEmulatorServer, directory: URL) {
        self.server = server
        self.directory = directory
    }

    func client(password: String = "s3cret") throws -> SageClient {
        let client = try SageClient(baseURL: server.baseURL, user: "alice", password: password,
                                    timeouts: Timeouts(connect: 2, idle: 5, request: 10), logger: Logger(label: "sage"))
        clients.withLock { $0.append(client) }
        return client
    }

    /// Stops the clients (off Swift's pool: a stop waits for threads) and the server.
    func stop() async {
        let clients = clients.withLock { $0 }
        _ = try? await offPool { for client in clients { client.stop() } }
        await server.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Runs the blocking client on a thread of its own, as the mount does, never on Swift's pool.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
