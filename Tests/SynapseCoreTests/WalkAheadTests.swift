import Foundation
import Testing
@testable import SynapseCore

/// A reader walking a folder (`grep -r`, `tar`) gets the next small files fetched side by
/// side before it opens them; bounded by count and size, and only for a walk.
@Suite struct WalkAheadTests {
    /// A task whose `docs/` holds 40 files of 10 KB (`f00.txt`…), one of 3 MiB, and a sub-folder.
    func fixture() throws -> Fixture {
        let remote = FakeRemote()
        var files: [String: FakeRemote.File] = [:]
        for i in 0..<40 { files[String(format: "docs/f%02d.txt", i)] = FakeRemote.File(bytes: bytes(10_000, seed: UInt8(i)), listedSize: 10_000) }
        files["docs/f05big.bin"] = FakeRemote.File(bytes: bytes(3 << 20), listedSize: 3 << 20)
        files["docs/sub/inner.txt"] = FakeRemote.File(bytes: bytes(100), listedSize: 100)
        remote.addTask("t1", files: files)
        return try Fixture(remote: remote)
    }

    func downloads(_ f: Fixture) -> Int { f.remote.state.withLock { $0.downloads } }

    @Test func openingAFoldersFirstFileFetchesTheNextSmallFilesAhead() throws {
        let f = try fixture()
        #expect(try f.readAll("tasks/t1/workspace/docs/f00.txt") == bytes(10_000, seed: 0))
        f.settle()
        // f00 itself, then the next 16 files in listing order, the 3 MiB one skipped.
        #expect(downloads(f) == 1 + 16 - 1)
        let before = downloads(f)
        // Those are read from the cache: no request.
        for i in 1...5 {
            #expect(try f.readAll(String(format: "tasks/t1/workspace/docs/f%02d.txt", i)) == bytes(10_000, seed: UInt8(i)))
        }
        f.settle()
        // Each further open moves the horizon on by what it passed, never fetching a file twice.
        let after = downloads(f)
        #expect(after - before == 5)
        for i in 6...39 { _ = try f.readAll(String(format: "tasks/t1/workspace/docs/f%02d.txt", i)) }
        f.settle()
        // Every small file fetched once; the large one never (nobody read it).
        #expect(downloads(f) == 40)
    }

    @Test func aReaderJumpingBackIsNoWalk() throws {
        let f = try fixture()
        _ = try f.readAll("tasks/t1/workspace/docs/f30.txt")
        f.settle()
        // Not the first file, and nothing opened before it here: no walk yet.
        #expect(downloads(f) == 1)
        _ = try f.readAll("tasks/t1/workspace/docs/f10.txt")
        f.settle()
        #expect(downloads(f) == 2)
    }
}

extension WalkAheadTests {
    @Test func aSecondWalkFetchesAheadAgainAndTheKernelIsNeverToldToKeepAnotherVersion() throws {
        let f = try fixture()
        _ = try f.readAll("tasks/t1/workspace/docs/f00.txt")
        f.settle()
        // f01 read through the mount: the kernel holds its pages.
        _ = try f.readAll("tasks/t1/workspace/docs/f01.txt")
        // The files change on the server; a new walk from the first file fetches ahead again.
        f.remote.state.withLock { s in
            for i in 0..<40 { s.workspaces["t1"]![String(format: "docs/f%02d.txt", i)] = FakeRemote.File(bytes: bytes(10_001, seed: UInt8(i)), listedSize: 10_001) }
        }
        f.fs.details.invalidate("t1")
        f.settle()
        let before = f.remote.state.withLock { $0.downloads }
        _ = try f.readAll("tasks/t1/workspace/docs/f00.txt")
        f.settle()
        let paths = f.remote.state.withLock { $0.downloadedPaths.dropFirst(before) }
        #expect(paths.count == 16, "\(paths.sorted())")
        // f01's new version came by walk-ahead: its first open drops the kernel's old pages.
        let opened = try f.fs.open(try f.resolve("tasks/t1/workspace/docs/f01.txt"), writing: false, truncating: false)
        #expect(!opened.keepCache)
        #expect(try f.read(opened.handle) == bytes(10_001, seed: 1))
        f.fs.release(opened.handle)
        let again = try f.fs.open(try f.resolve("tasks/t1/workspace/docs/f01.txt"), writing: false, truncating: false)
        #expect(again.keepCache)
        f.fs.release(again.handle)
    }
}

extension WalkAheadTests {
    @Test func noMoreThanTheMountsLimitOfTransfersIsStartedAhead() throws {
        let f = try fixture()
        // Slow transfers, and a limit of 4 running in the whole mount.
        f.remote.state.withLock { $0.chunkDelay = 0.3 }
        let walk = WalkAhead(cache: f.fs.cache, fetchLimit: 4)
        let tree = try f.fs.workspace(of: "t1")
        walk.opened("docs/f00.txt", in: tree, scope: f.fs.workspaceScope(of: "t1")) { f.fs.cachedIdentity(of: $0, taskId: "t1") }
        #expect(f.fs.cache.fetchesRunning == 4)
        f.settle()
        #expect(Set(f.remote.state.withLock { $0.downloadedPaths }) == ["docs/f01.txt", "docs/f02.txt", "docs/f03.txt", "docs/f04.txt"])
        // The next open goes on where the limit stopped it.
        walk.opened("docs/f01.txt", in: tree, scope: f.fs.workspaceScope(of: "t1")) { f.fs.cachedIdentity(of: $0, taskId: "t1") }
        f.settle()
        #expect(f.remote.state.withLock { $0.downloadedPaths.dropFirst(4) }.contains("docs/f05.txt"))
    }
}
