import Foundation
import SynapseCore
import SynapseEmulatorKit
import Testing

/// The emulator as a distant server (for the bench): answers wait their round trip, bodies
/// keep their length and arrive whole; the seeded small files are what the listing says.
@Suite struct NetworkShapeTests {
    @Test func aDistantEmulatorAnswersAfterItsRoundTripWithWholeBodies() async throws {
        let emulator = try await LiveEmulator.start(seedTasks: 1, network: NetworkShape(latencyMilliseconds: 300, megabitsPerSecond: 100),
                                                    smallFiles: 60)
        defer { Task { await emulator.server.stop() } }
        let client = emulator.client()
        let task = "5eed0000-0000-4000-8000-000000000001"
        let started = Date()
        let files = try await offPool { try client.workspace(taskId: task) }.filter { $0.path.hasPrefix("small/") }
        // No sooner than the round trip (a lower bound: a slow machine only adds to it).
        #expect(Date().timeIntervalSince(started) >= 0.3)
        #expect(files.count == 60)
        let sample = try #require(files.first { $0.path == "small/" + SmallFiles.path(10) })
        #expect(sample.size == Int64(SmallFiles.size(10)))
        let (bytes, total) = try await offPool { () throws -> (Data, Int64?) in
            var bytes = Data()
            let result = try client.download(taskId: task, path: sample.path, offset: 0, length: nil, ifRange: nil) { chunk in
                bytes.append(contentsOf: chunk.bytes)
                return true
            }
            return (bytes, result.totalSize)
        }
        #expect(bytes == SmallFiles.content(10))
        #expect(String(decoding: bytes.prefix(12), as: UTF8.self) == "needle 00010")
        // The paced body keeps its Content-Length: the client learns the size.
        #expect(total == Int64(SmallFiles.size(10)))
    }
}
