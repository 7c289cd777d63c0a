import Foundation
import Testing
@testable import SynapseCore

/// Task lists from a server that lies about its page count, answers slowly, or cannot list:
/// no number from the server sizes a loop, and the tasks the mount knows stay reachable.
@Suite struct HostileListingTests {
    func fixture(tasks: Int = 3, ttl: Double = 10) throws -> Fixture {
        let remote = FakeRemote()
        for i in 0..<tasks { remote.addTask("t\(i)") }
        return try Fixture(remote: remote, ttl: ttl)
    }

    func elapsed(_ body: () throws -> Void) rethrows -> Double {
        let start = Date()
        try body()
        return Date().timeIntervalSince(start)
    }

    @Test func aHugePageCountIsAHintNotASize() throws {
        let f = try fixture()
        f.remote.state.withLock { $0.claimedTotalPages = 1_000_000_000_000_000 }
        #expect(try f.taskFolders() == ["t0", "t1", "t2"])
        // Page 1 was short: nothing more was asked.
        #expect(f.remote.state.withLock { $0.listCalls } == 1)
    }

    @Test func pagesThatNeverEndStopAtTheCap() throws {
        let f = try fixture(tasks: 0)
        f.remote.state.withLock { $0.endlessPages = true }
        #expect(try f.taskFolders().count == TaskCatalog.maxPages * TaskCatalog.pageSize)
        #expect(f.remote.state.withLock { $0.listCalls } == TaskCatalog.maxPages)
    }

    @Test func cursorPagesAreFollowedOneAfterAnotherToTheEnd() throws {
        let f = try fixture(tasks: 250)
        f.remote.state.withLock { $0.cursorPages = true }
        #expect(try f.taskFolders().count == 250)
        #expect(f.remote.state.withLock { $0.positionsAsked } == [nil, .cursor("t99"), .cursor("t199")])
    }

    @Test func aCursorThatLeadsBackEndsTheListing() throws {
        let f = try fixture(tasks: 250)
        f.remote.state.withLock {
            $0.cursorPages = true
            $0.repeatingCursor = true
        }
        #expect(try f.taskFolders().count == 100)
        // The second page gave the cursor it was asked with: not asked again.
        #expect(f.remote.state.withLock { $0.positionsAsked } == [nil, .cursor("t99")])
    }

    @Test func aSlowListingNeverBlocksTheTasksTheMountKnows() throws {
        let f = try fixture(ttl: 0.2)
        #expect(try f.taskFolders() == ["t0", "t1", "t2"])
        f.remote.state.withLock { $0.listDelay = 5 }
        Thread.sleep(forTimeInterval: 0.3)
        // A known task answers at once though its listing is stale and the refresh hangs.
        #expect(try elapsed { _ = try f.text("tasks/t1/status") } < 0.5)
        #expect(try elapsed { _ = try f.resolve("tasks/t2") } < 0.5)
        // Listing the folder waits for the refresh a bounded time, then serves what it has.
        var names: [String] = []
        let waited = try elapsed { names = try f.taskFolders() }
        #expect(names == ["t0", "t1", "t2"])
        #expect(waited < TaskCatalog.staleWait + 0.5)
    }

    @Test func aListingThatFailsServesWhatIsKnownBacksOffAndSaysWhy() throws {
        let f = try fixture(ttl: 0)
        f.remote.state.withLock { $0.listFailure = .notFound("Cannot GET /api/ai_task/list") }
        // Nothing listed yet: the mount's own tasks are there, and a draft can be made.
        #expect(try f.taskFolders() == [])
        _ = try f.fs.mkdir(parent: try f.resolve("tasks"), name: "mine")
        #expect(try f.taskFolders() == ["mine"])
        #expect(try f.text("tasks/mine/status") == "draft\n")
        // A task the server has is still reachable by id.
        #expect(try f.text("tasks/t1/status").isEmpty == false)
        let status = try f.text(".synapsefs/status.json")
        #expect(status.contains("\"state\" : \"degraded\""), "\(status)")
        #expect(status.contains("Cannot GET /api/ai_task/list"))
        // Failures back off: listing again at once asks the server nothing more.
        let calls = f.remote.state.withLock { $0.listCalls }
        _ = try f.taskFolders()
        _ = try f.taskFolders()
        #expect(f.remote.state.withLock { $0.listCalls } == calls)
        // Recovered (and asked for by `refresh`): the server's tasks come back, degraded goes.
        f.remote.state.withLock { $0.listFailure = nil }
        f.fs.catalog.invalidate()
        #expect(try f.taskFolders() == ["mine", "t0", "t1", "t2"])
        #expect(!(try f.text(".synapsefs/status.json").contains("degraded")))
    }

    @Test func aRejectedKeyWithNothingToShowIsEACCES() throws {
        let f = try fixture()
        f.remote.state.withLock { $0.listFailure = .rejectedKey("code 1101") }
        let error = #expect(throws: FSError.self) { _ = try f.taskFolders() }
        #expect(error?.errno == EACCES)
    }
}

@Suite struct OversizedTaskTests {
    @Test func aTaskWithMoreMessagesThanTheLimitIsRefusedWithEIO() throws {
        let remote = FakeRemote()
        let many = (0...Int64(TaskDetails.maxMessages)).map { TaskMessage(ts: $0, type: "say", say: "text", text: "m") }
        remote.addTask("big", messages: many)
        remote.addTask("small", messages: [TaskMessage(ts: 1, type: "say", say: "completion_result", text: "done")])
        let f = try Fixture(remote: remote)
        let error = #expect(throws: FSError.self) { _ = try f.text("tasks/big/messages.json") }
        #expect(error?.errno == EIO)
        #expect(error?.message.contains("more than the \(TaskDetails.maxMessages)") == true)
        #expect(try f.text("tasks/small/status") == "completed\n")
    }

    @Test func aWorkspaceWithMoreFilesThanTheLimitIsRefusedWithEIO() throws {
        let remote = FakeRemote()
        var files: [String: FakeRemote.File] = [:]
        for i in 0...TaskDetails.maxWorkspaceFiles { files["f\(i)"] = .init(bytes: Data(), listedSize: 0) }
        remote.addTask("big", files: files)
        let f = try Fixture(remote: remote)
        let error = #expect(throws: FSError.self) { _ = try f.list("tasks/big/workspace") }
        #expect(error?.errno == EIO)
    }
}

@Suite struct ImpossibleNumbersTests {
    @Test func impossibleSizesAndTimesAreListedAndFailToOpenNeverCrash() throws {
        let remote = FakeRemote()
        remote.addTask("t1", files: [
            "negative.bin": .init(bytes: Data("x".utf8), listedSize: -5),
            "huge.bin": .init(bytes: Data("x".utf8), listedSize: 1 << 62),
            "far-future.txt": .init(bytes: Data("ok".utf8), listedSize: 2, mtime: Date(timeIntervalSince1970: 1e300)),
        ])
        let f = try Fixture(remote: remote)
        #expect(try f.list("tasks/t1/workspace").sorted() == ["far-future.txt", "huge.bin", "negative.bin"])
        for name in ["negative.bin", "huge.bin"] {
            let ino = try f.resolve("tasks/t1/workspace/\(name)")
            #expect(try f.fs.getattr(ino).size == 0)
            let error = #expect(throws: FSError.self) { _ = try f.fs.open(ino, writing: false, truncating: false) }
            #expect(error?.errno == EIO)
            #expect(error?.message.contains("impossible size") == true)
        }
        #expect(try f.readAll("tasks/t1/workspace/far-future.txt") == Data("ok".utf8))
        // A second open goes through the cache record's time, which must not trap either.
        #expect(try f.readAll("tasks/t1/workspace/far-future.txt") == Data("ok".utf8))
    }
}

@Suite struct BackoffTests {
    /// Events naming tasks the list lacks mark it stale, but do not defeat a failure's backoff.
    @Test func eventsForUnknownTasksDoNotDefeatTheBackoff() throws {
        let remote = FakeRemote()
        remote.addTask("t1")
        let f = try Fixture(remote: remote, ttl: 0)
        remote.state.withLock { $0.listFailure = .malformed("not JSON") }
        _ = try f.taskFolders()
        let calls = remote.state.withLock { $0.listCalls }
        for i in 0..<20 {
            f.fs.handle(ServerEvent(type: "message.add", data: #"{"taskId":"stranger-\#(i)","message":{"ts":1,"type":"say","text":"x"}}"#))
            _ = try f.taskFolders()
        }
        #expect(remote.state.withLock { $0.listCalls } == calls)
    }
}
