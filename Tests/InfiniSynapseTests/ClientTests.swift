import Foundation
import Testing
import SynapseHTTP
import InfiniSynapse
import SynapseCore

/// The libcurl client against the live emulator on loopback. The blocking client runs on
/// a thread of its own, as the mount runs it.
@Suite struct ClientTests {
    @Test func listingPagesAndEnvelopes() async throws {
        let emulator = try await LiveEmulator.start(seedTasks: 250)
        defer { Task { await emulator.stop() } }
        let client = emulator.client()
        let page = try await offPool { try client.listTasks(page: 1, pageSize: 100) }
        #expect(page.items.count == 100)
        #expect(page.totalItems == 250)
        #expect(page.totalPages == 3)
        #expect(page.next == .number(2))
        #expect(try await offPool { try client.listTasks(page: 3, pageSize: 100) }.next == nil, "the last page says so")
        var ids = Set(page.items.map(\.id))
        for n in 2...3 {
            ids.formUnion(try await offPool { try client.listTasks(page: n, pageSize: 100) }.items.map(\.id))
        }
        #expect(ids.count == 250)
        #expect(page.items.first?.name.hasPrefix("Seeded task") == true)
        #expect(page.items.first?.createdAt != nil)
    }

    @Test func aWrongKeyIsRejectedWithCode1101() async throws {
        let emulator = try await LiveEmulator.start()
        defer { Task { await emulator.stop() } }
        let client = emulator.client(key: "wrong")
        let error = await #expect(throws: RemoteError.self) { try await offPool { try client.ping() } }
        guard case .rejectedKey? = error else { Issue.record("expected rejectedKey, got \(String(describing: error))"); return }
        #expect(error?.errno == EACCES)
    }

    @Test func pageSizeOver100Is422() async throws {
        let emulator = try await LiveEmulator.start()
        defer { Task { await emulator.stop() } }
        let client = emulator.client()
        let error = await #expect(throws: RemoteError.self) { try await offPool { try client.listTasks(page: 1, pageSize: 101) } }
        guard case .invalidRequest? = error else { Issue.record("expected invalidRequest, got \(String(describing: error))"); return }
    }

    @Test func unknownTaskIs404() async throws {
        let emulator = try await LiveEmulator.start()
        defer { Task { await emulator.stop() } }
        let client = emulator.client()
        let error = await #expect(throws: RemoteError.self) { try await offPool { try client.taskInfo(id: "no-such-task") } }
        #expect(error?.errno == ENOENT)
    }

    @Test func messagesAndTaskInfo() async throws {
        let emulator = try await LiveEmulator.start()
        defer { Task { await emulator.stop() } }
        let client = emulator.client()
        let info = try await offPool { try client.taskInfo(id: firstTask) }
        #expect(info.id == firstTask)
        #expect(info.serverStatus == "completed")
        let messages = try await offPool { try client.messages(taskId: firstTask) }
        #expect(messages.count == 5)
        #expect(messages.first?.say == "task")
        #expect(messages.last?.isCompletion == true)
    }

    @Test(arguments: [EmulatorListingShape.objects, .strings])
    func bothWorkspaceListingShapes(shape: EmulatorListingShape) async throws {
        let emulator = try await LiveEmulator.start(listing: shape.configuration)
        defer { Task { await emulator.stop() } }
        let client = emulator.client()
        let entries = try await offPool { try client.workspace(taskId: firstTask) }
        #expect(entries.map(\.path).sorted() == ["charts/trend.svg", "report.md", "summary.csv"])
        let reportSize = try FileManager.default.attributesOfItem(atPath: emulator.workspaceFile(task: firstTask, path: "report.md").path)[.size] as! Int
        let report = entries.first { $0.path == "report.md" }!
        switch shape {
        case .objects:
            #expect(report.size == Int64(reportSize))
            #expect(report.mtime != nil)
        case .strings:
            #expect(report.size == nil)
        }
    }

    /// Downloads `length` bytes from `offset`, keeping each chunk at the offset it came with.
    private func fetch(_ client: InfiniSynapseClient, offset: Int64, length: Int64?) async throws
        -> (Data, start: Int64?, fileSize: Int64?, DownloadResult)
    {
        try await offPool { () -> (Data, Int64?, Int64?, DownloadResult) in
            var data = Data()
            var start: Int64?
            var fileSize: Int64?
            let result = try client.download(taskId: firstTask, path: "data/big.bin", offset: offset, length: length) { chunk in
                if start == nil { start = chunk.offset }
                fileSize = chunk.fileSize
                guard chunk.offset == start! + Int64(data.count) else { return false }
                data.append(contentsOf: chunk.bytes)
                return true
            }
            return (data, start, fileSize, result)
        }
    }

    @Test func downloadStreamsTheExactBytesAndHonoursRanges() async throws {
        let emulator = try await LiveEmulator.start(seedFiles: [.init(path: "data/big.bin", size: 3 << 20)])
        defer { Task { await emulator.stop() } }
        let client = emulator.client()
        let expected = try Data(contentsOf: emulator.workspaceFile(task: firstTask, path: "data/big.bin"))
        let (whole, _, wholeSize, result) = try await fetch(client, offset: 0, length: nil)
        #expect(whole == expected)
        #expect(result.totalSize == Int64(expected.count))
        #expect(wholeSize == Int64(expected.count))
        let (tail, tailStart, _, tailResult) = try await fetch(client, offset: 1_000_000, length: nil)
        #expect(tailStart == 1_000_000)
        #expect(tail == expected.subdata(in: 1_000_000..<expected.count))
        #expect(tailResult.totalSize == Int64(expected.count))
        // A bounded range still tells the whole size (Content-Range).
        let (middle, middleStart, middleSize, _) = try await fetch(client, offset: 2_000_000, length: 300_000)
        #expect(middleStart == 2_000_000)
        #expect(middle == expected.subdata(in: 2_000_000..<2_300_000))
        #expect(middleSize == Int64(expected.count))
    }

    @Test func aServerWithoutRangeSendsTheWholeFileFromOffsetZero() async throws {
        let emulator = try await LiveEmulator.start(seedFiles: [.init(path: "data/big.bin", size: 1 << 20)], honoursRange: false)
        defer { Task { await emulator.stop() } }
        let expected = try Data(contentsOf: emulator.workspaceFile(task: firstTask, path: "data/big.bin"))
        let (data, start, _, result) = try await fetch(emulator.client(), offset: 500_000, length: 1000)
        #expect(start == 0)
        #expect(data == expected)
        #expect(result.totalSize == Int64(expected.count))
    }

    @Test func aMissingFileIsNotFound() async throws {
        let emulator = try await LiveEmulator.start()
        defer { Task { await emulator.stop() } }
        let client = emulator.client()
        let error = await #expect(throws: RemoteError.self) {
            try await offPool { _ = try client.download(taskId: firstTask, path: "nope.txt", offset: 0, length: nil) { _ in true } }
        }
        guard case .notFound? = error else { Issue.record("expected notFound, got \(String(describing: error))"); return }
    }

    @Test func aClosedPortIsUnreachableAtOnce() async throws {
        let port = try StalledServer.unusedPort()
        // A refused connection must fail at once, not after the (here 60 s) connect timeout.
        let client = InfiniSynapseClient(baseURL: "http://127.0.0.1:\(port)", apiKey: "k",
                                         timeouts: Timeouts(connect: 60, idle: 60, request: 120), logger: .init(label: "c"))
        let start = Date()
        let error = await #expect(throws: RemoteError.self) { try await offPool { try client.ping() } }
        #expect(error?.isConnectivity == true)
        #expect(Date().timeIntervalSince(start) < 30)
    }

    @Test func aServerThatNeverAnswersTimesOutAtTheIdleTimeout() async throws {
        let stalled = try StalledServer()
        defer { stalled.close() }
        let client = InfiniSynapseClient(baseURL: "http://127.0.0.1:\(stalled.port)", apiKey: "k",
                                         timeouts: Timeouts(connect: 1, idle: 1, request: 30), logger: .init(label: "c"))
        // Timed on the thread that waits (a busy test run may be slow to resume this task).
        let (error, elapsed) = try await offPool { () -> (RemoteError?, Double) in
            let start = Date()
            do throws(RemoteError) { try client.ping() } catch { return (error, Date().timeIntervalSince(start)) }
            return (nil, Date().timeIntervalSince(start))
        }
        guard case .timedOut? = error else { Issue.record("expected timedOut, got \(String(describing: error))"); return }
        #expect(error?.errno == EIO)
        // The 1 s idle timeout ended it, not the 30 s request timeout.
        #expect(elapsed < 20)
    }
}

enum EmulatorListingShape: String, CaseIterable, Sendable {
    case objects, strings
}

import InfiniSynapseEmulator
extension EmulatorListingShape {
    var configuration: EmulatorConfiguration.WorkspaceListing { self == .objects ? .objects : .strings }
}
