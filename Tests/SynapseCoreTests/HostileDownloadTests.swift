import Foundation
import Testing
@testable import SynapseCore

/// Downloads from a server that changes files between ranges, sends bodies that never end,
/// or keeps sending after the reader left: wrong bytes are never stored, the disk never fills.
@Suite struct HostileDownloadTests {
    func fixture(files: [String: FakeRemote.File], cacheLimit: Int64 = 10 << 30, operationTimeLimit: Double = 30) throws -> Fixture {
        let remote = FakeRemote()
        remote.addTask("t1", files: files)
        return try Fixture(remote: remote, cacheLimit: cacheLimit, operationTimeLimit: operationTimeLimit)
    }

    func dataFile(_ f: Fixture, _ path: String) -> URL {
        f.cacheRoot.appendingPathComponent("objects/\(f.cacheKey("t1", path)).data")
    }

    /// On-disk blocks of the (sparse) cache file: what it really takes.
    func allocated(_ url: URL) -> Int64 {
        var st = stat()
        return stat(url.path, &st) == 0 ? Int64(st.st_blocks) * 512 : 0
    }

    @Test func aRangeOfAnotherVersionIsNeverMixedWithTheCachedOne() throws {
        let old = bytes(4 << 20, seed: 1)
        let new = bytes(4 << 20, seed: 2)
        // Same size, no mtime: only the server's validator tells the versions apart.
        let f = try fixture(files: ["doc.bin": .init(bytes: old, listedSize: Int64(old.count), version: "\"v1\"")])
        let fh = try f.fs.open(try f.resolve("tasks/t1/workspace/doc.bin"), writing: false, truncating: false).handle
        #expect(try f.fs.read(fh, at: 0, size: 65536) == old.prefix(65536))
        f.settle()
        f.remote.state.withLock { $0.workspaces["t1"]!["doc.bin"] = .init(bytes: new, listedSize: Int64(new.count), version: "\"v2\"") }
        // The next range asks If-Range "v1"; the server answers with the whole of v2: refused.
        let error = #expect(throws: FSError.self) { _ = try f.fs.read(fh, at: 3 << 20, size: 65536) }
        #expect(error?.errno == EIO)
        #expect(error?.message.contains("changed on the server") == true)
        #expect(f.remote.state.withLock { $0.ifRanges }.contains("\"v1\""))
        f.fs.release(fh)
        f.settle()
        // The next open starts afresh and reads v2 whole and exact.
        #expect(try f.readAll("tasks/t1/workspace/doc.bin") == new)
    }

    @Test func aBodyThatDoesNotStopAtTheListedSizeIsRefusedAndNothingBeyondIsStored() throws {
        let f = try fixture(files: ["small.txt": .init(bytes: Data("hundred".utf8), listedSize: 100, endless: true)])
        let error = #expect(throws: FSError.self) { _ = try f.readAll("tasks/t1/workspace/small.txt") }
        #expect(error?.errno == EIO)
        #expect(allocated(dataFile(f, "small.txt")) <= 64 << 10)
        // A few chunks at most were taken from the server before the transfer was cut.
        #expect(f.remote.state.withLock { $0.downloadedBytes } < 1 << 20)
    }

    @Test func aFileOfUnknownSizeStopsDownloadingWhenItsLastReaderCloses() throws {
        let f = try fixture(files: ["stream.log": .init(bytes: Data(), listedSize: nil, endless: true)])
        f.remote.state.withLock { $0.chunkDelay = 0.002 }
        let fh = try f.fs.open(try f.resolve("tasks/t1/workspace/stream.log"), writing: false, truncating: false).handle
        #expect(try f.fs.read(fh, at: 0, size: 100_000).count == 100_000)
        f.fs.release(fh)
        f.settle()
        let after = f.remote.state.withLock { $0.downloadedBytes }
        Thread.sleep(forTimeInterval: 0.3)
        #expect(f.remote.state.withLock { $0.downloadedBytes } == after)
        #expect(!f.fs.cache.isFetching)
    }

    @Test func aFileOfUnknownSizeIsBoundedByTheCacheSize() throws {
        let f = try fixture(files: ["huge.bin": .init(bytes: Data(), listedSize: nil, endless: true)], cacheLimit: 2 << 20)
        let error = #expect(throws: FSError.self) { _ = try f.readAll("tasks/t1/workspace/huge.bin", chunk: 1 << 20) }
        #expect(error?.errno == EFBIG)
        #expect(allocated(dataFile(f, "huge.bin")) <= 2 << 20)
        #expect(!f.fs.cache.isFetching)
    }

    @Test func aReadWaitingForBytesEndsWhenItsOperationIsCancelled() throws {
        let f = try fixture(files: ["slow.bin": .init(bytes: bytes(1 << 20), listedSize: 1 << 20)])
        f.remote.state.withLock { $0.chunkDelay = 3 }
        let fh = try f.fs.open(try f.resolve("tasks/t1/workspace/slow.bin"), writing: false, truncating: false).handle
        defer { f.fs.release(fh) }
        let cancellation = Cancellation()
        // A thread of its own: GCD's workers can all be busy with the test runner's blocking
        // tests, and it adds one only after a second.
        Thread {
            Thread.sleep(forTimeInterval: 0.2)
            cancellation.cancel()
        }.start()
        let start = Date()
        let error = #expect(throws: FSError.self) {
            try Cancellation.run(cancellation) { () throws(FSError) in _ = try f.fs.read(fh, at: 0, size: 4096) }
        }
        #expect(error?.errno == EINTR)
        #expect(Date().timeIntervalSince(start) < 1)
    }

    @Test func aReadWaitsForItsBytesAtMostTheOperationTimeLimit() throws {
        let f = try fixture(files: ["trickle.bin": .init(bytes: bytes(1 << 20), listedSize: 1 << 20)], operationTimeLimit: 0.5)
        f.remote.state.withLock { $0.chunkDelay = 3 }
        let fh = try f.fs.open(try f.resolve("tasks/t1/workspace/trickle.bin"), writing: false, truncating: false).handle
        defer { f.fs.release(fh) }
        let start = Date()
        let error = #expect(throws: FSError.self) { _ = try f.fs.read(fh, at: 0, size: 4096) }
        #expect(error?.errno == EIO)
        #expect(Date().timeIntervalSince(start) < 2)
    }
}

@Suite struct ReaderHandoverTests {
    /// `head -c 100 f; cat f` on a file of unknown size: the first reader's close tells the
    /// running fetch to stop; the next reader, arriving before it did, must not inherit that.
    @Test func aReaderArrivingAsTheLastOneLeftGetsEveryByte() throws {
        let content = bytes(3 << 20)
        let remote = FakeRemote()
        remote.addTask("t1", files: ["u.bin": .init(bytes: content, listedSize: nil)])
        remote.state.withLock { $0.chunkDelay = 0.002 }
        let f = try Fixture(remote: remote)
        let ino = try f.resolve("tasks/t1/workspace/u.bin")
        let first = try f.fs.open(ino, writing: false, truncating: false).handle
        #expect(try f.fs.read(first, at: 0, size: 100) == content.prefix(100))
        f.fs.release(first)
        let second = try f.fs.open(ino, writing: false, truncating: false).handle
        defer { f.fs.release(second) }
        #expect(try f.read(second) == content)
    }
}
