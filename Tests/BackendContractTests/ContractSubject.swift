import Foundation
import Logging
import SynapseCore
import Testing
import SynapseHTTP
import InfiniSynapse
import InfiniSynapseEmulator
import Asyncat
import AsyncatEmulator
import Sage
import SageEmulator
import SynapseAI
import SynapseAIEmulator
import SynapseEmulatorKit

/// A backend under contract: how to start its emulator with known content, and a client of it.
/// Each new backend adds one subject; every contract test then runs against it.
struct ContractSubject: Sendable, CustomTestStringConvertible {
    let name: String
    let start: @Sendable () async throws -> ContractServer

    var testDescription: String { name }

    static let all: [ContractSubject] = [.infiniSynapse, .sage, .asyncat, .synapse]
}

/// A running emulator and a backend client of it.
struct ContractServer: Sendable {
    let backend: any AgentBackend
    /// How many tasks the emulator was seeded with.
    let seededTasks: Int
    /// A workspace file of a seeded task, and its bytes as the emulator stores them (read
    /// from its data directory, not through the client under test).
    let sample: (taskId: String, path: String, bytes: Data)
    /// An id for a new task's first prompt (client-chosen or a draft's: the backend decides).
    let newTaskId: @Sendable () -> String
    /// The server streams a reply in pieces (else only whole messages: Synapse's has no deltas).
    var streamsInPieces = true
    let stop: @Sendable () async -> Void
}

extension ContractSubject {
    static let samplePath = "contract/sample.bin"
    static let sampleSize: Int64 = 700_001

    static let infiniSynapse = ContractSubject(name: "InfiniSynapse") {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("synapsefs-contract-\(UUID().uuidString)")
        var configuration = EmulatorConfiguration(dataDirectory: dir, apiKeys: ["contract-key"])
        configuration.seedTasks = 5
        configuration.seedFiles = [.init(path: samplePath, size: sampleSize)]
        var logger = Logger(label: "emulator")
        logger.logLevel = .warning
        let server = try await EmulatorServer.start(configuration: configuration, logger: logger)
        let client = InfiniSynapseClient(baseURL: server.baseURL, apiKey: "contract-key",
                                         timeouts: Timeouts(connect: 2, idle: 5, request: 30), stateDirectory: nil,
                                         autoApprovalSettings: nil, logger: Logger(label: "client"))
        let sample = try storedFile(samplePath, under: dir.appendingPathComponent("workspaces"))
        return ContractServer(backend: client, seededTasks: 5, sample: sample,
                              newTaskId: { UUID().uuidString.lowercased() },
                              stop: {
                                  await server.stop()
                                  try? FileManager.default.removeItem(at: dir)
                              })
    }

    /// Sage: conversations of two agents; the sample lies in the first agent's workspace, which
    /// its conversations (`sess_demo_1`, `_3`, `_5`) share.
    static let sage = ContractSubject(name: "Sage") {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("synapsefs-contract-\(UUID().uuidString)")
        var configuration = SageEmulatorConfiguration(dataDirectory: dir, accounts: ["contract": "contract-password"])
        configuration.seedConversations = 5
        var logger = Logger(label: "emulator")
        logger.logLevel = .warning
        let server = try await SageEmulatorServer.start(configuration: configuration, logger: logger)
        let sampleFile = dir.appendingPathComponent("agents/agent_research").appendingPathComponent(samplePath)
        try FileManager.default.createDirectory(at: sampleFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        try DeterministicBytes.write(size: sampleSize, seed: "contract", to: sampleFile)
        let client = try SageClient(baseURL: server.baseURL, user: "contract", password: "contract-password",
                                    timeouts: Timeouts(connect: 2, idle: 5, request: 30), logger: Logger(label: "client"))
        return ContractServer(backend: client, seededTasks: 5, sample: ("sess_demo_1", samplePath, try Data(contentsOf: sampleFile)),
                              newTaskId: { "sess_" + UUID().uuidString.prefix(12).lowercased() },
                              stop: {
                                  // A stop waits for the client's threads: never on Swift's pool.
                                  _ = try? await offPool { client.stop() }
                                  await server.stop()
                                  try? FileManager.default.removeItem(at: dir)
                              })
    }

    /// Asyncat: no auth (as today's server), the server names conversations; the sample is an
    /// artifact of the working directory every conversation shows.
    static let asyncat = ContractSubject(name: "Asyncat") {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("synapsefs-contract-\(UUID().uuidString)")
        var configuration = AsyncatEmulatorConfiguration(dataDirectory: dir, tokens: [])
        configuration.seedConversations = 5
        configuration.seedFiles = ["sample.bin": sampleSize]
        var logger = Logger(label: "emulator")
        logger.logLevel = .warning
        let server = try await AsyncatEmulatorServer.start(configuration: configuration, logger: logger)
        let client = AsyncatClient(baseURL: server.baseURL, token: nil, timeouts: Timeouts(connect: 2, idle: 5, request: 30),
                                   stateDirectory: dir.appendingPathComponent("client"), logger: Logger(label: "client"))
        let sample = try Data(contentsOf: dir.appendingPathComponent("root/.asyncat/artifacts/sample.bin"))
        return ContractServer(backend: client, seededTasks: 5, sample: ("c0ffee00-0000-4000-8000-000000000001", "sample.bin", sample),
                              newTaskId: { "draft-" + UUID().uuidString.prefix(8).lowercased() },
                              stop: {
                                  // A stop waits for the client's threads: never on Swift's pool.
                                  _ = try? await offPool { client.stop() }
                                  await server.stop()
                                  try? FileManager.default.removeItem(at: dir)
                              })
    }

    /// Synapse: the server lists no sessions, so the tasks are chats this client made (five,
    /// each answered); it has no files (the sample has no bytes) and streams no pieces.
    static let synapse = ContractSubject(name: "Synapse") {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("synapsefs-contract-\(UUID().uuidString)")
        var logger = Logger(label: "emulator")
        logger.logLevel = .warning
        let server = try await SynapseAIEmulatorServer.start(configuration: SynapseAIEmulatorConfiguration(apiKeys: ["sk-syn-contract"]), logger: logger)
        let client = SynapseAIClient(baseURL: server.baseURL, apiKey: "sk-syn-contract", timeouts: Timeouts(connect: 2, idle: 5, request: 30),
                                     stateDirectory: dir, logger: Logger(label: "client"))
        let stop: @Sendable () async -> Void = {
            _ = try? await offPool { client.stop() }
            await server.stop()
            try? FileManager.default.removeItem(at: dir)
        }
        do {
            for n in 1...5 {
                let id = "seed-\(n)"
                try await offPool { try client.send(Prompt(taskId: id, text: "Seeded chat \(n) [emu:words 3]", startsTask: true)) }
                let end = Date().addingTimeInterval(10)
                while try await offPool({ try client.taskInfo(id: id) }).status == .running, Date() < end { try await Task.sleep(for: .milliseconds(20)) }
            }
        } catch {
            await stop()
            throw error
        }
        var subject = ContractServer(backend: client, seededTasks: 5, sample: ("seed-1", "none", Data()),
                                     newTaskId: { "chat-" + UUID().uuidString.prefix(8).lowercased() }, stop: stop)
        subject.streamsInPieces = false
        return subject
    }

    /// The task whose workspace (a folder named for it under `workspaces`) holds `path`.
    static func storedFile(_ path: String, under workspaces: URL) throws -> (taskId: String, path: String, bytes: Data) {
        for taskId in try FileManager.default.contentsOfDirectory(atPath: workspaces.path) {
            let file = workspaces.appendingPathComponent(taskId).appendingPathComponent(path)
            if let bytes = try? Data(contentsOf: file) { return (taskId, path, bytes) }
        }
        throw ContractError("no seeded workspace holds \(path)")
    }
}

struct ContractError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs the blocking client on a thread of its own, as the mount does, never on Swift's pool.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
