import Foundation
import Testing
@testable import SynapseCore

@Suite struct ByteRangesTests {
    @Test func rangesMergeWhenTheyOverlapOrTouch() {
        var set = ByteRanges()
        set.insert(10..<20)
        set.insert(30..<40)
        set.insert(20..<25)
        #expect(set.ranges == [10..<25, 30..<40])
        set.insert(5..<35)
        #expect(set.ranges == [5..<40])
        set.insert(50..<50)
        #expect(set.ranges == [5..<40])
        #expect(set.byteCount == 35)
    }

    @Test func gapsContainmentAndRuns() {
        let set = ByteRanges([0..<10, 20..<30, 40..<50])
        #expect(set.contains(22..<30))
        #expect(!set.contains(5..<25))
        #expect(set.gaps(in: 5..<45) == [10..<20, 30..<40])
        #expect(set.gaps(in: 60..<70) == [60..<70])
        #expect(set.gaps(in: 20..<30).isEmpty)
        #expect(set.contiguousEnd(from: 25) == 30)
        #expect(set.contiguousEnd(from: 35) == 35)
        #expect(set.nextPresent(from: 31) == 40)
        #expect(set.nextPresent(from: 45) == 45)
        #expect(set.nextPresent(from: 50) == nil)
    }

    @Test func codingRoundTripsAndRejectsNonsense() throws {
        let set = ByteRanges([0..<10, 20..<30])
        let data = try JSONEncoder().encode(set)
        #expect(String(decoding: data, as: UTF8.self) == "[[0,10],[20,30]]")
        #expect(try JSONDecoder().decode(ByteRanges.self, from: data) == set)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ByteRanges.self, from: Data("[[9,3]]".utf8)) }
    }
}

@Suite struct FetchPlannerTests {
    let planner = FetchPlanner(minimumFetch: 100)

    @Test func aMissingReadFetchesAtLeastTheMinimumUpToWhatIsCovered() {
        let covered = ByteRanges([150..<1000])
        let plan = planner.plan(want: 10..<20, size: 2000, coverage: covered, readAhead: 0)
        #expect(plan.ranges == [10..<150])
        #expect(!plan.isReadAhead)
    }

    @Test func aShortRemainderIsTakenAlong() {
        let plan = planner.plan(want: 0..<10, size: 150, coverage: ByteRanges(), readAhead: 0)
        #expect(plan.ranges == [0..<150])
    }

    @Test func readAheadStartsWhenLessThanHalfTheWindowIsCovered() {
        // Covered up to 400: the read at 100..<200 has 200 bytes ahead, the window is 1000.
        let plan = planner.plan(want: 100..<200, size: 10_000, coverage: ByteRanges([0..<400]), readAhead: 1000)
        #expect(plan.ranges == [400..<1400])
        #expect(plan.isReadAhead)
        // With 600 ahead there is nothing to do yet.
        let idle = planner.plan(want: 100..<200, size: 10_000, coverage: ByteRanges([0..<800]), readAhead: 1000)
        #expect(idle.ranges.isEmpty)
    }

    @Test func readAheadGrowsWhileSequentialAndResetsOnAJump() {
        var readAhead = ReadAhead()
        #expect(readAhead.observe(offset: 0, length: 1 << 20) == ReadAhead.initial)
        readAhead.grow()
        readAhead.grow()
        #expect(readAhead.observe(offset: 1 << 20, length: 1 << 20) == 4 * ReadAhead.initial)
        for _ in 0..<20 { readAhead.grow() }
        #expect(readAhead.window == ReadAhead.maximum)
        #expect(readAhead.observe(offset: 900 << 20, length: 4096) == 0)
        #expect(readAhead.window == ReadAhead.initial)
    }
}

@Suite struct CacheItemTests {
    let objects: URL
    let file = CachedFileIdentity(scope: "fake\u{0}task t", taskId: "t", remotePath: "a.bin", size: 1000, mtime: Date(timeIntervalSince1970: 5))
    let content = bytes(1000)

    init() throws {
        objects = try CacheDirectory(root: FileManager.default.temporaryDirectory
            .appendingPathComponent("synapsefs-item-\(UUID().uuidString)")).objects
    }

    /// The item of `identity` in the test's folder, with a budget and no fetches.
    func openItem(_ identity: CachedFileIdentity) throws(FSError) -> CacheItem {
        try CacheItem(identity, in: objects, budget: CacheBudget(objects: objects, limit: .max, freeSpaceFloor: 0)) { _, _ in }
    }

    /// Stores `range` of `content` as a fetch would.
    func fill(_ item: CacheItem, _ range: Range<Int>) {
        let fetch = RangeFetch(range: Int64(range.lowerBound)..<Int64(range.upperBound))
        let ok = content[range].withUnsafeBytes { item.write($0, at: Int64(range.lowerBound), for: fetch, cap: .max) }
        #expect(ok)
    }

    func record() throws -> CacheRecord {
        try CacheCoding.decoder.decode(CacheRecord.self, from: Data(contentsOf: objects.appendingPathComponent(file.key + ".json")))
    }

    func read(_ item: CacheItem, _ range: Range<Int>) throws -> Data {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: range.count, alignment: 8)
        defer { buffer.deallocate() }
        let (n, _) = try item.read(at: Int64(range.lowerBound), into: buffer, readAhead: 0, ranged: true, failuresBefore: 0)
        return Data(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
    }

    @Test func rangesMergeAndPersistAcrossReopen() throws {
        do {
            let item = try openItem(file)
            #expect(!item.wasCached)
            fill(item, 0..<100)
            fill(item, 300..<400)
            fill(item, 100..<300)
            fill(item, 900..<1000)
            item.persist()
        }
        #expect(try record().ranges == ByteRanges([0..<400, 900..<1000]))
        let again = try openItem(file)
        #expect(again.wasCached)
        #expect(again.presentBytes == 500)
        // Present bytes are served without any fetch (none could start: nothing launches).
        #expect(try read(again, 150..<350) == content.subdata(in: 150..<350))
        #expect(try read(again, 950..<1200) == content.subdata(in: 950..<1000))
    }

    @Test func aFingerprintChangeDiscardsTheItem() throws {
        do {
            let item = try openItem(file)
            fill(item, 0..<1000)
            item.persist()
            #expect(item.completeSize == 1000)
        }
        var changed = file
        changed.mtime = Date(timeIntervalSince1970: 6)
        let fresh = try openItem(changed)
        #expect(!fresh.wasCached)
        #expect(fresh.presentBytes == 0)
        #expect(!FileManager.default.fileExists(atPath: objects.appendingPathComponent(file.key + ".json").path))
    }

    @Test func aCrashBetweenDataAndRecordNeverMarksMissingBytesPresent() throws {
        do {
            let item = try openItem(file)
            fill(item, 0..<200)
            item.persist()
            // Data written, then the process dies before the record: no persist, no release.
            fill(item, 200..<600)
        }
        // A record half-written at the moment of the crash is a stray temporary file.
        let stray = objects.appendingPathComponent(file.key + ".json.tmp-1-2")
        try Data("{\"taskId\":\"t\",\"ranges\":[[0,10".utf8).write(to: stray)
        let reopened = try openItem(file)
        #expect(try record().ranges == ByteRanges([0..<200]))
        #expect(reopened.presentBytes == 200)
    }

    @Test func aRecordThatClaimsMoreThanTheDataFileHoldsIsDiscarded() throws {
        do {
            let item = try openItem(file)
            fill(item, 0..<1000)
            item.persist()
        }
        // The data file lost its tail (say, a full disk restored from elsewhere).
        #expect(truncate(objects.appendingPathComponent(file.key + ".data").path, 500) == 0)
        let reopened = try openItem(file)
        #expect(reopened.presentBytes == 0)
        #expect(!reopened.wasCached)
    }

    @Test func aVersionIsItsSizeAndItsTimeToTheMillisecond() throws {
        let parsed = try Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse("2026-11-22T13:32:41.005Z")
        let roundTripped = try CacheCoding.decoder.decode([Date].self, from: CacheCoding.encoder.encode([parsed]))[0]
        #expect(roundTripped != parsed)
        let listed = CachedFileIdentity(scope: "fake\u{0}task t", taskId: "t", remotePath: "a", size: 1, mtime: parsed)
        var saved = listed
        saved.mtime = roundTripped
        #expect(listed.isSameVersion(as: saved))
        saved.mtime = parsed.addingTimeInterval(0.001)
        #expect(!listed.isSameVersion(as: saved))
        saved = listed
        saved.size = 2
        #expect(!listed.isSameVersion(as: saved))
    }

    @Test func aCorruptRecordIsDiscarded() throws {
        do {
            let item = try openItem(file)
            fill(item, 0..<1000)
            item.persist()
        }
        try Data("not json".utf8).write(to: objects.appendingPathComponent(file.key + ".json"))
        #expect(try openItem(file).presentBytes == 0)
    }
}

@Suite struct ChunkCoalescerTests {
    final class Sink {
        var writes: [(offset: Int64, bytes: Data)] = []
    }

    @Test func smallPiecesBecomeLargeWritesInPlace() {
        let sink = Sink()
        let coalescer = ChunkCoalescer(capacity: 1000, maxDelayMilliseconds: 10_000) { bytes, offset in
            sink.writes.append((offset, Data(bytes)))
            return true
        }
        let content = bytes(2500)
        for start in stride(from: 0, to: 2500, by: 300) {
            let piece = content.subdata(in: start..<min(start + 300, 2500))
            #expect(piece.withUnsafeBytes { coalescer.add($0, at: Int64(start)) })
        }
        #expect(sink.writes.map(\.bytes.count) == [1000, 1000])
        coalescer.flush()
        #expect(sink.writes.map(\.offset) == [0, 1000, 2000])
        #expect(sink.writes.reduce(Data()) { $0 + $1.bytes } == content)
    }

    @Test func aJumpOrADelayWritesWhatIsHeld() {
        let sink = Sink()
        let coalescer = ChunkCoalescer(capacity: 1000, maxDelayMilliseconds: 1) { bytes, offset in
            sink.writes.append((offset, Data(bytes)))
            return true
        }
        _ = Data(count: 10).withUnsafeBytes { coalescer.add($0, at: 0) }
        // A server that ignores Range starts over at 0 after bytes for elsewhere.
        _ = Data(count: 10).withUnsafeBytes { coalescer.add($0, at: 500) }
        #expect(sink.writes.map(\.offset) == [0])
        Thread.sleep(forTimeInterval: 0.01)
        _ = Data(count: 10).withUnsafeBytes { coalescer.add($0, at: 510) }
        #expect(sink.writes.map(\.offset) == [0, 500])
        #expect(sink.writes.last?.bytes.count == 20)
    }

    @Test func aFailedWriteIsReported() {
        let coalescer = ChunkCoalescer(capacity: 10) { _, _ in false }
        #expect(!Data(count: 25).withUnsafeBytes { coalescer.add($0, at: 0) })
    }
}

@Suite struct ExpiringTests {
    @Test func atMostCapacityValuesAreKeptLeastRecentlyUsedGoFirst() throws {
        let cache = Expiring<String, Int>(ttl: 60, capacity: 3)
        var fetches = 0
        func get(_ key: String) throws -> Int {
            try cache.value(for: key) { () throws(FSError) -> Int in
                fetches += 1
                return key.count
            }
        }
        for key in ["a", "bb", "ccc"] {
            _ = try get(key)
            Thread.sleep(forTimeInterval: 0.002)
        }
        Thread.sleep(forTimeInterval: 0.002)
        _ = try get("a")
        _ = try get("dddd")
        #expect(cache.count == 3)
        #expect(cache.last(for: "bb") == nil)
        #expect(cache.last(for: "a") == 1)
        #expect(fetches == 4)
    }
}
