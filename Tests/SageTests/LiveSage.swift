import Foundation
import Logging
import Sage
import SageEmulator
import SynapseHTTP

/// A Sage emulator on a free loopback port with its own data folder, for one test; one
/// account, alice / s3cret.
struct LiveSage {
    let server: SageEmulatorServer
    let directory: URL

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

    func client(password: String = "s3cret") throws -> SageClient {
        try SageClient(baseURL: server.baseURL, user: "alice", password: password,
                       timeouts: Timeouts(connect: 2, idle: 5, request: 10), logger: Logger(label: "sage"))
    }

    func stop() async {
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
