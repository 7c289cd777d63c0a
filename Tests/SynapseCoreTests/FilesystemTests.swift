import Foundation
import Synchronization
import Testing
@testable import SynapseCore

@Suite struct FilesystemTests {
    static let done = [
        TaskMessage(ts: 1_700_000_000_000, type: "say", say: "task", text: "Analyse sales"),
        TaskMessage(ts: 1_700_000_001_000, type: "say", say: "text", text: "Working"),
        TaskMessage(ts: 1_700_000_002_000, type: "say", say: "completion_result", text: "Done"),
    ]

    func fixture(files: [String: FakeRemote.File] = [:]) throws -> Fixture {
        let remote = FakeRemote()
        remote.addTask("t1", messages: Self.done, files: files)
        return try Fixture(remote: remote)
    }

    @Test func tasksListsEveryTaskAcrossPages() throws {
        let remote = FakeRemote()
        for i in 0..<250 { remote.addTask(String(format: "task-%03d", i)) }
        let f = try Fixture(remote: remote)
        let names = try f.taskFolders()
        #expect(names.count == 250)
        #expect(Set(names).count == 250)
        #expect(remote.state.withLock { $0.listCalls } == 3)
    }

    @Test func taskFolderHoldsTheContractFiles() throws {
        let f = try fixture()
        #expect(try f.list("tasks/t1").sorted() == ["ctl", "info.json", "messages.json", "prompt.txt", "status", "stream.log", "uploads", "workspace"])
        #expect(String(decoding: try f.readAll("tasks/t1/status"), as: UTF8.self) == "completed\n")
        let info = try JSONSerialization.jsonObject(with: try f.readAll("tasks/t1/info.json")) as! [String: Any]
        #expect(info["id"] as? String == "t1")
        #expect(info["status"] as? String == "completed")
        let messages = try JSONSerialization.jsonObject(with: try f.readAll("tasks/t1/messages.json")) as! [[String: Any]]
        #expect(messages.count == 3)
        let log = String(decoding: try f.readAll("tasks/t1/stream.log"), as: UTF8.self)
        #expect(log.contains("] user\nAnalyse sales\n"))
        #expect(log.contains("] result\nDone\n"))
    }

    @Test func generatedFileSizesMatchTheirContent() throws {
        let f = try fixture()
        for name in TaskFileKind.allCases.filter({ !$0.isWritable }).map(\.rawValue) {
            let ino = try f.resolve("tasks/t1/\(name)")
            #expect(try f.fs.getattr(ino).size == Int64(try f.readAll("tasks/t1/\(name)").count), "\(name)")
        }
    }

    @Test func missingNamesAreENOENT() throws {
        let f = try fixture()
        for path in ["nope", "tasks/unknown-task", "tasks/t1/nope", "tasks/t1/workspace/nope.txt"] {
            let error = #expect(throws: FSError.self) { _ = try f.resolve(path) }
            #expect(error?.errno == ENOENT, "\(path)")
        }
    }

    @Test func anUnlistedTaskIdIsAskedOfTheServer() throws {
        let f = try fixture()
        _ = try f.taskFolders()
        f.remote.addTask("late")
        #expect(try f.taskFolders().contains("late") == false) // the listing is cached
        _ = try f.resolve("tasks/late")
        #expect(f.remote.state.withLock { $0.infoCalls } == 1)
    }

    @Test func workspaceSizesComeFromTheListing() throws {
        let f = try fixture(files: ["a.bin": .init(bytes: bytes(1000), listedSize: 1000), "sub/b.txt": .init(bytes: bytes(7), listedSize: 7)])
        #expect(try f.fs.getattr(try f.resolve("tasks/t1/workspace/a.bin")).size == 1000)
        #expect(try f.fs.getattr(try f.resolve("tasks/t1/workspace/sub/b.txt")).size == 7)
        #expect(try f.fs.getattr(try f.resolve("tasks/t1/workspace/sub")).kind == .directory)
    }

    @Test func workspaceFileIsFetchedOnceThenServedFromTheCache() throws {
        let content = bytes(300_000)
        let f = try fixture(files: ["a.bin": .init(bytes: content, listedSize: Int64(content.count))])
        let ino = try f.resolve("tasks/t1/workspace/a.bin")
        let first = try f.fs.open(ino, writing: false, truncating: false)
        #expect(first.keepCache == false)
        #expect(try f.read(first.handle) == content)
        f.fs.release(first.handle)
        #expect(try f.readAll("tasks/t1/workspace/a.bin") == content)
        let again = try f.fs.open(ino, writing: false, truncating: false)
        #expect(again.keepCache == true)
        f.fs.release(again.handle)
        #expect(f.remote.state.withLock { $0.downloads } == 1)
    }

    @Test func unknownSizeReadsToTheEndWithDirectIO() throws {
        let content = bytes(123_457)
        let f = try fixture(files: ["u.bin": .init(bytes: content, listedSize: nil)])
        let ino = try f.resolve("tasks/t1/workspace/u.bin")
        #expect(try f.fs.getattr(ino).size == 0)
        let opened = try f.fs.open(ino, writing: false, truncating: false)
        #expect(opened.directIO)
        #expect(try f.read(opened.handle, chunk: 4096) == content)
        f.fs.release(opened.handle)
        #expect(try f.fs.getattr(ino).size == Int64(content.count))
    }

    @Test func aTruncatedDownloadFailsWithEIOKeepsOnlyTrueBytesAndALaterReadIsExact() throws {
        let content = bytes(500_000)
        let f = try fixture(files: ["t.bin": .init(bytes: content, listedSize: Int64(content.count))])
        f.remote.state.withLock { $0.truncateNextDownloadAt = 200_000 }
        let error = #expect(throws: FSError.self) { _ = try f.readAll("tasks/t1/workspace/t.bin") }
        #expect(error?.errno == EIO)
        // What the record vouches for is exactly what arrived, and it is the true bytes.
        let key = f.cacheKey("t1", "t.bin")
        let objects = f.cacheRoot.appendingPathComponent("objects")
        let record = try CacheCoding.decoder.decode(CacheRecord.self, from: Data(contentsOf: objects.appendingPathComponent(key + ".json")))
        #expect(record.ranges == ByteRanges([0..<200_000]))
        let stored = try Data(contentsOf: objects.appendingPathComponent(key + ".data"))
        #expect(stored.prefix(200_000) == content.prefix(200_000))
        // The next open fetches only what is missing.
        #expect(try f.readAll("tasks/t1/workspace/t.bin") == content)
        #expect(f.remote.state.withLock { $0.downloadedBytes } == Int64(content.count))
    }

    @Test func aFileThatChangedSinceItWasListedFailsAndCachesNothing() throws {
        // The listing says 300,000 bytes; the server now has 400,000 (the agent rewrote it).
        let f = try fixture(files: ["grew.csv": .init(bytes: bytes(400_000), listedSize: 300_000)])
        let error = #expect(throws: FSError.self) { _ = try f.readAll("tasks/t1/workspace/grew.csv") }
        #expect(error?.errno == EIO)
        #expect(error?.message.contains("changed on the server") == true)
        // Nothing of the other version is recorded as present.
        let record = f.cacheRoot.appendingPathComponent("objects/\(f.cacheKey("t1", "grew.csv")).json")
        if let data = try? Data(contentsOf: record) {
            #expect(try CacheCoding.decoder.decode(CacheRecord.self, from: data).ranges.isEmpty)
        }
    }

    @Test func concurrentReadersShareOneDownload() throws {
        let content = bytes(3_000_000)
        let f = try fixture(files: ["c.bin": .init(bytes: content, listedSize: Int64(content.count))])
        f.remote.state.withLock { $0.chunkDelay = 0.002 }
        let ino = try f.resolve("tasks/t1/workspace/c.bin")
        let results = Mutex<[Data]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            let opened = try! f.fs.open(ino, writing: false, truncating: false)
            let data = try! f.read(opened.handle, chunk: 65536)
            f.fs.release(opened.handle)
            results.withLock { $0.append(data) }
        }
        #expect(results.withLock { $0 }.count == 4)
        #expect(results.withLock { $0 }.allSatisfy { $0 == content })
        // Every byte crossed the network once.
        #expect(f.remote.state.withLock { $0.downloadedBytes } == Int64(content.count))
    }

    @Test func sequentialReadsFetchAheadInGrowingStretches() throws {
        let content = bytes(24 << 20)
        let f = try fixture(files: ["s.bin": .init(bytes: content, listedSize: Int64(content.count))])
        #expect(try f.readAll("tasks/t1/workspace/s.bin", chunk: 1 << 20) == content)
        let (requests, fetched) = f.remote.state.withLock { ($0.downloads, $0.downloadedBytes) }
        #expect(fetched == Int64(content.count))
        // 1 + 2 + 4 + 8 MiB and the rest: a handful of requests, not one per read.
        #expect(requests <= 6, "\(requests) requests")
    }

    @Test func bytesAReaderWaitsForAreNotHeldBackToBeWrittenWithMore() throws {
        let content = bytes(128 << 10)
        let f = try fixture(files: ["slow.bin": .init(bytes: content, listedSize: Int64(content.count))])
        // A slow server: a 64 KiB piece a second.
        f.remote.state.withLock { $0.chunkDelay = 1 }
        let opened = try f.fs.open(try f.resolve("tasks/t1/workspace/slow.bin"), writing: false, truncating: false)
        defer { f.fs.release(opened.handle) }
        let start = Date()
        #expect(try f.fs.read(opened.handle, at: 0, size: 4096) == content.prefix(4096))
        // The first piece serves the read; it is not kept back until the next one arrives.
        #expect(Date().timeIntervalSince(start) < 1.8)
    }

    @Test func aReadFarAheadFetchesThereAndNotWhatLiesBefore() throws {
        let content = bytes(32 << 20)
        let f = try fixture(files: ["r.bin": .init(bytes: content, listedSize: Int64(content.count))])
        let opened = try f.fs.open(try f.resolve("tasks/t1/workspace/r.bin"), writing: false, truncating: false)
        defer { f.fs.release(opened.handle) }
        let at = 20 << 20
        #expect(try f.fs.read(opened.handle, at: Int64(at), size: 4096) == content.subdata(in: at..<(at + 4096)))
        #expect(f.remote.state.withLock { $0.downloadedBytes } <= 1 << 20)
    }

    @Test func withoutRangeSupportOneStreamFillsTheFile() throws {
        let content = bytes(5 << 20)
        let f = try fixture(files: ["n.bin": .init(bytes: content, listedSize: Int64(content.count))])
        f.remote.state.withLock { $0.ignoresRange = true }
        let opened = try f.fs.open(try f.resolve("tasks/t1/workspace/n.bin"), writing: false, truncating: false)
        let at = 4 << 20
        #expect(try f.fs.read(opened.handle, at: Int64(at), size: 4096) == content.subdata(in: at..<(at + 4096)))
        #expect(try f.fs.read(opened.handle, at: 0, size: 4096) == content.prefix(4096))
        f.fs.release(opened.handle)
        #expect(try f.readAll("tasks/t1/workspace/n.bin") == content)
        // The first ranged request taught the mount; what followed was that one whole-file answer.
        #expect(f.remote.state.withLock { $0.downloadedBytes } == Int64(content.count))
    }

    @Test func cachedFilesStayReadableAcrossRemountWhileTheServerIsDown() throws {
        let content = bytes(70_000)
        let f = try fixture(files: ["keep.bin": .init(bytes: content, listedSize: Int64(content.count))])
        #expect(try f.readAll("tasks/t1/workspace/keep.bin") == content)
        f.remote.setFailure(.unreachable("connection refused"))
        let remounted = try Fixture(remote: f.remote, cacheRoot: f.cacheRoot)
        #expect(try remounted.taskFolders() == ["t1"])
        #expect(try remounted.readAll("tasks/t1/workspace/keep.bin") == content)
        #expect(remounted.fs.serverHealth.state == .offline)
    }

    @Test func aRemountWithTheServerUpServesTheCacheWithoutFetching() throws {
        let content = bytes(70_000)
        // A listing time that a JSON round trip of the record does not keep bit for bit.
        let mtime = try Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse("2026-11-22T13:32:41.005Z")
        let f = try fixture(files: ["m.bin": .init(bytes: content, listedSize: Int64(content.count), mtime: mtime)])
        #expect(try f.readAll("tasks/t1/workspace/m.bin") == content)
        let remounted = try Fixture(remote: f.remote, cacheRoot: f.cacheRoot)
        let opened = try remounted.fs.open(try remounted.resolve("tasks/t1/workspace/m.bin"), writing: false, truncating: false)
        #expect(opened.keepCache)
        #expect(try remounted.read(opened.handle) == content)
        remounted.fs.release(opened.handle)
        #expect(f.remote.state.withLock { $0.downloads } == 1)
    }

    @Test func aFingerprintChangeRefetches() throws {
        let f = try fixture(files: ["v.txt": .init(bytes: Data("one".utf8), listedSize: 3, mtime: Date(timeIntervalSince1970: 1))])
        #expect(try f.readAll("tasks/t1/workspace/v.txt") == Data("one".utf8))
        f.remote.state.withLock { $0.workspaces["t1"]!["v.txt"] = .init(bytes: Data("two!".utf8), listedSize: 4, mtime: Date(timeIntervalSince1970: 2)) }
        let fresh = try Fixture(remote: f.remote, cacheRoot: f.cacheRoot)
        #expect(try fresh.readAll("tasks/t1/workspace/v.txt") == Data("two!".utf8))
    }

    @Test func evictionKeepsTheCacheUnderItsBoundAndNeverEvictsAnOpenFile() throws {
        let remote = FakeRemote()
        let files = Dictionary(uniqueKeysWithValues: ["a", "b", "c", "d"].map { ($0 + ".bin", FakeRemote.File(bytes: bytes(100_000, seed: UInt8($0.utf8.first!)), listedSize: 100_000)) })
        remote.addTask("t1", files: files)
        let f = try Fixture(remote: remote, cacheLimit: 250_000)
        let cached = { (name: String) -> Bool in
            f.fs.cache.completeSize(of: CachedFileIdentity(scope: f.fs.workspaceScope(of: "t1"), taskId: "t1", remotePath: name, size: 100_000, mtime: nil)) != nil
        }
        _ = try f.readAll("tasks/t1/workspace/a.bin")
        Thread.sleep(forTimeInterval: 0.01)
        _ = try f.readAll("tasks/t1/workspace/b.bin")
        // b stays open while c and d arrive: the bound is kept by evicting the others.
        let openB = try f.fs.open(try f.resolve("tasks/t1/workspace/b.bin"), writing: false, truncating: false)
        _ = try f.readAll("tasks/t1/workspace/c.bin")
        #expect(!cached("a.bin") && cached("b.bin") && cached("c.bin"))
        _ = try f.readAll("tasks/t1/workspace/d.bin")
        #expect(cached("b.bin") && cached("d.bin") && !cached("c.bin"))
        #expect(try f.read(openB.handle) == files["b.bin"]!.bytes)
        f.fs.release(openB.handle)
        let snapshot = f.fs.cache.budget.snapshot
        #expect(snapshot.bytes <= 250_000)
        #expect(snapshot.evictions == 2)
        #expect(try f.text(".synapsefs/status.json").contains("\"evictions\" : 2"))
        // A fresh mount knows what is cached and keeps the bound too.
        let again = try Fixture(remote: remote, cacheRoot: f.cacheRoot, cacheLimit: 250_000)
        #expect(again.fs.cache.budget.snapshot.items == 2)
    }

    @Test func serverFailuresMapToErrno() throws {
        let cases: [(RemoteError, Int32)] = [(.rejectedKey("1101"), EACCES), (.unreachable("refused"), EIO),
                                             (.timedOut("idle"), EIO), (.server(status: 500, message: "boom"), EIO),
                                             (.notFound("gone"), ENOENT)]
        for (failure, errno) in cases {
            let f = try fixture()
            _ = try f.taskFolders()
            f.remote.setFailure(failure)
            let error = #expect(throws: FSError.self) { _ = try f.readAll("tasks/t1/messages.json") }
            #expect(error?.errno == errno, "\(failure)")
        }
    }

    @Test func anUnreachableServerStillListsWhatTheMountKnows() throws {
        let f = try fixture()
        f.remote.setFailure(.unreachable("refused"))
        let fresh = try Fixture(remote: f.remote)
        _ = try fresh.fs.mkdir(parent: try fresh.resolve("tasks"), name: "offline-draft")
        #expect(try fresh.taskFolders() == ["offline-draft"])
        #expect(fresh.fs.serverHealth.state == .offline)
        f.remote.setFailure(.rejectedKey("1101"))
        let rejected = try Fixture(remote: f.remote)
        #expect((#expect(throws: FSError.self) { _ = try rejected.taskFolders() })?.errno == EACCES)
    }

    @Test func writesAreRefusedAsReadOnly() throws {
        let f = try fixture(files: ["a.txt": .init(bytes: Data("x".utf8), listedSize: 1)])
        let file = try f.resolve("tasks/t1/workspace/a.txt")
        for (writing, truncating) in [(true, false), (false, true)] {
            let error = #expect(throws: FSError.self) { _ = try f.fs.open(file, writing: writing, truncating: truncating) }
            #expect(error?.errno == EROFS)
        }
        let workspace = try f.resolve("tasks/t1/workspace")
        #expect((#expect(throws: FSError.self) { _ = try f.fs.create(parent: workspace, name: "new.txt", exclusive: false, appending: false) })?.errno == EROFS)
        #expect((#expect(throws: FSError.self) { _ = try f.fs.mkdir(parent: workspace, name: "dir") })?.errno == EROFS)
        #expect((#expect(throws: FSError.self) { try f.fs.unlink(parent: workspace, name: "a.txt") })?.errno == EROFS)
        #expect((#expect(throws: FSError.self) { _ = try f.fs.setattr(file, size: 0, handle: nil) })?.errno == EROFS)
    }

    @Test func readdirplusCountsAReferencePerEntryButNotForDots() throws {
        let f = try fixture()
        let dir = try f.resolve("tasks/t1")
        let fh = try f.fs.opendir(dir)
        defer { f.fs.releasedir(fh) }
        for entry in try f.fs.readdir(fh, from: 0) where !entry.isDotEntry {
            let ino = f.fs.acceptPlusEntry(entry).inode
            #expect(f.fs.inodes.lookupCount(of: ino) == 1)
            f.fs.forget(ino, count: 1)
            #expect(f.fs.inodes.key(for: ino) == nil)
        }
        #expect(try f.fs.readdir(fh, from: 3).first?.name == (try f.fs.readdir(fh, from: 0))[3].name)
    }
}

extension FilesystemTests {
    /// Tasks sharing a workspace (an agent's, a working folder's) share its cached files: a
    /// file read through one task is not fetched again through another.
    @Test func aSharedWorkspaceIsCachedOnce() throws {
        let remote = FakeRemote()
        remote.sharedWorkspace.withLock { $0 = "agent analyst" }
        let file = FakeRemote.File(bytes: bytes(300_000), listedSize: 300_000)
        remote.addTask("t1", files: ["shared.bin": file])
        remote.addTask("t2", files: ["shared.bin": file])
        let f = try Fixture(remote: remote)
        #expect(try f.readAll("tasks/t1/workspace/shared.bin") == file.bytes)
        #expect(try f.readAll("tasks/t2/workspace/shared.bin") == file.bytes)
        #expect(remote.state.withLock { $0.downloadedBytes } == 300_000)
    }
}

extension FilesystemTests {
    /// Readers that miss the same cached transcript at once make one request (single flight).
    @Test func concurrentMissesMakeOneRequest() throws {
        let remote = FakeRemote()
        remote.addTask("t1", messages: Self.done)
        let f = try Fixture(remote: remote, ttl: 60)
        _ = try f.taskFolders()
        remote.state.withLock { $0.transcriptDelay = 0.3; $0.transcriptCalls = 0 }
        DispatchQueue.concurrentPerform(iterations: 8) { _ in _ = try? f.fs.details.transcript(of: "t1") }
        #expect(remote.state.withLock { $0.transcriptCalls } == 1)
    }
}

extension FilesystemTests {
    /// A stat of status, info.json or messages.json serves the last transcript known: it never
    /// waits on the server once one was fetched (an open fetches afresh).
    @Test func aStatOfGeneratedFilesNeverAsksTheServerWhenOneIsKnown() throws {
        let remote = FakeRemote()
        remote.addTask("t1", messages: Self.done)
        let f = try Fixture(remote: remote, ttl: 0)
        #expect(try f.text("tasks/t1/status") == "completed\n")
        Thread.sleep(forTimeInterval: 1.1)
        let before = remote.state.withLock { $0.transcriptCalls }
        for name in ["status", "info.json", "messages.json"] {
            #expect(try f.fs.getattr(try f.resolve("tasks/t1/\(name)")).size > 0)
        }
        #expect(remote.state.withLock { $0.transcriptCalls } == before)
        #expect(try f.text("tasks/t1/status") == "completed\n")
        #expect(remote.state.withLock { $0.transcriptCalls } > before)
    }
}
