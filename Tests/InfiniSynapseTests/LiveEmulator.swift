import Foundation
import Logging
import SynapseHTTP
import InfiniSynapse
import InfiniSynapseEmulator
import SynapseEmulatorKit

/// An emulator on a free loopback port with its own data directory, for one test.
struct LiveEmulator {
    let server: EmulatorServer
    let dataDirectory: URL

    static func start(seedTasks: Int = 3, seedFiles: [EmulatorConfiguration.SeedFile] = [],
                      listing: EmulatorConfiguration.WorkspaceListing = .objects, hostile: Bool = false,
                      failUploads: Int = 0, maxUploadBytes: Int64 = 1 << 30, honoursRange: Bool = true,
                      faults: String? = nil, network: NetworkShape = NetworkShape(), smallFiles: Int = 0) async throws -> LiveEmulator {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("synapsefs-emu-\(UUID().uuidString)")
        var configuration = EmulatorConfiguration(dataDirectory: dir, apiKeys: ["test-key"])
        configuration.seedTasks = seedTasks
        configuration.seedFiles = seedFiles
        configuration.workspaceListing = listing
        configuration.seedHostileNames = hostile
        configuration.failUploads = failUploads
        configuration.maxUploadBytes = maxUploadBytes
        configuration.honoursRange = honoursRange
        configuration.faults = faults.map { Data($0.utf8) }
        configuration.network = network
        configuration.seedSmallFiles = smallFiles
        var logger = Logger(label: "emulator")
        logger.logLevel = .warning
        return LiveEmulator(server: try await EmulatorServer.start(configuration: configuration, logger: logger), dataDirectory: dir)
    }

    func client(key: String = "test-key", timeouts: Timeouts = Timeouts(connect: 2, idle: 5, request: 30),
                stateDirectory: URL? = nil, autoApprovalSettings: Data? = nil) -> InfiniSynapseClient {
        InfiniSynapseClient(baseURL: server.baseURL, apiKey: key, timeouts: timeouts, stateDirectory: stateDirectory,
                            autoApprovalSettings: autoApprovalSettings, logger: Logger(label: "client"))
    }

    /// The task's messages as the emulator keeps them: whole texts, never slimmed.
    func storedTexts(task: String) throws -> [String] {
        let data = try Data(contentsOf: dataDirectory.appendingPathComponent("tasks/\(task).json"))
        let messages = (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["messages"] as? [[String: Any]] ?? []
        return messages.compactMap { $0["text"] as? String }
    }

    func workspaceFile(task: String, path: String) -> URL {
        dataDirectory.appendingPathComponent("workspaces/\(task)/\(path)")
    }

    func stop() async {
        await server.stop()
        try? FileManager.default.removeItem(at: dataDirectory)
    }
}

let firstTask = "5eed0000-0000-4000-8000-000000000001"

/// Runs the blocking client on a thread of its own, as the mount does, never on Swift's pool.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
