import Foundation
import Synchronization

/// One workspace file in the cache: `<key>.data`, a sparse file holding whichever byte ranges
/// have arrived, and `<key>.json`, the record of the ranges synced to disk. Fetches write into
/// it; readers wait on it for exactly the bytes they asked for.
final class CacheItem: @unchecked Sendable {
    let identity: CachedFileIdentity
    let key: String
    /// Whether this version's bytes were cached before this open (so the kernel's pages of it hold).
    let wasCached: Bool
    private let fd: Int32
    private let recordURL: URL
    private let dataPath: String
    private let planner = FetchPlanner()
    private static let syncEvery: Int64 = 64 << 20
    /// Record writes wait for `fdatasync`, so they run here, off the path of the bytes.
    static let recorder = DispatchQueue(label: "synapsefs.cache-records", qos: .utility)
    private static let maxFetches = 16

    // Guards everything below; never held across I/O.
    private let condition = NSCondition()
    private var size: Int64?
    /// The version of the file the present bytes are of, as the server names it (ETag or
    /// Last-Modified); bytes of any other version are never stored beside them.
    private var validator: String?
    private var present: ByteRanges
    private var running: [RangeFetch] = []
    private var failures: [(range: Range<Int64>, error: FSError, serial: Int)] = []
    private var failureSerial = 0
    private var unsyncedBytes: Int64 = 0
    private var recordScheduled = false
    private var retired = false
    /// Open readers plus running fetches.
    private var users = 0
    /// Open readers alone: a fetch to the end of the file stops when none is left.
    private var readers = 0
    /// The ranges readers are waiting for right now.
    private var awaited: [Range<Int64>] = []
    /// Starts a fetch's transfer on its own thread; called with the lock held.
    private let launch: @Sendable (CacheItem, RangeFetch) -> Void
    /// Told the byte count the record lists after each record write.
    private let budget: CacheBudget

    /// What the record on disk says; its mutex also keeps record writes in order.
    private struct Durable: Equatable {
        var ranges: ByteRanges
        var size: Int64?
        var validator: String?
    }
    private let durable: Mutex<Durable>

    /// Opens the item for `identity` in `objects`, keeping what is on disk when its record
    /// matches this version, starting empty otherwise.
    init(_ identity: CachedFileIdentity, in objects: URL, budget: CacheBudget,
         launch: @escaping @Sendable (CacheItem, RangeFetch) -> Void) throws(FSError) {
        self.identity = identity
        self.budget = budget
        self.launch = launch
        key = identity.key
        recordURL = objects.appendingPathComponent(key + ".json")
        dataPath = objects.appendingPathComponent(key + ".data").path
        if let record = Self.loadRecord(recordURL, for: identity), case let fd = Glibc.open(dataPath, O_RDWR | O_CLOEXEC), fd >= 0 {
            var st = stat()
            let onDisk: Int64 = fstat(fd, &st) == 0 ? Int64(st.st_size) : -1
            let rangesFit = (record.ranges.ranges.last?.upperBound ?? 0) <= onDisk && (record.size == nil || record.size == onDisk)
            if rangesFit {
                self.fd = fd
                size = record.size ?? identity.size
                validator = record.validator
                present = record.ranges
                durable = Mutex(Durable(ranges: record.ranges, size: record.size, validator: record.validator))
                wasCached = true
                return
            }
            Glibc.close(fd)
        }
        // The record goes first: without it no byte of the data file is trusted.
        unlink(recordURL.path)
        let fd = try Syscall.check(Glibc.open(dataPath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600), "creating a cache file")
        if let size = identity.size {
            do { try Syscall.check(ftruncate(fd, off_t(size)), "sizing a cache file") } catch {
                Glibc.close(fd)
                throw error
            }
        }
        self.fd = fd
        size = identity.size
        present = ByteRanges()
        durable = Mutex(Durable(ranges: ByteRanges(), size: nil, validator: nil))
        wasCached = false
    }

    // Closing a descriptor is all the last reference does: the record was written by the
    // last user's release (`persist`), on that user's thread.
    deinit {
        Glibc.close(fd)
    }

    /// The record at `url` when it decodes and stands for this version of the file.
    static func loadRecord(_ url: URL, for identity: CachedFileIdentity) -> CacheRecord? {
        guard let data = try? Data(contentsOf: url),
              let record = try? CacheCoding.decoder.decode(CacheRecord.self, from: data),
              record.matches(identity) else { return nil }
        return record
    }

    /// The whole size, when every byte of the file is present.
    var completeSize: Int64? {
        locked {
            guard let size, present.contains(0..<size) else { return nil }
            return size
        }
    }

    var presentBytes: Int64 { locked { present.byteCount } }

    /// How many fetches of this item have failed so far.
    var failureCount: Int { locked { failureSerial } }

    // MARK: Reading

    /// Copies the bytes at `offset` into `buffer` once they are present, fetching what is
    /// missing; fewer bytes only at the end of the file. `readAhead` is how far ahead this
    /// reader wants bytes; `ranged` is false when the server ignores HTTP Range. Fetch
    /// failures after the first `failuresBefore` fail the read where it needs their bytes.
    /// Returns the byte count and whether a read-ahead stretch was started for the reader.
    /// A read waits at most `waitLimit` seconds for its bytes, and gives up at once when its
    /// operation is cancelled.
    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer, readAhead: Int64, ranged: Bool, failuresBefore: Int,
              waitLimit: Double = .infinity) throws(FSError) -> (count: Int, startedReadAhead: Bool)
    {
        let (want, startedReadAhead) = try waitUntilPresent(offset..<(offset + Int64(buffer.count)), readAhead: readAhead,
                                                            ranged: ranged, failuresBefore: failuresBefore, waitLimit: waitLimit)
        guard let count = PositionalIO.read(fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want.count]), at: want.lowerBound) else {
            throw .disk("reading the cache failed: \(String(cString: strerror(errno)))")
        }
        return (count, startedReadAhead)
    }

    /// Waits until the part of `request` inside the file is present and returns that part.
    private func waitUntilPresent(_ request: Range<Int64>, readAhead: Int64, ranged: Bool, failuresBefore since: Int, waitLimit: Double)
        throws(FSError) -> (Range<Int64>, Bool)
    {
        let cancellation = Cancellation.current
        // Taken at the first wait: a read whose bytes are present asks for no clock.
        var deadline: Date?
        condition.lock()
        defer { condition.unlock() }
        var startedReadAhead = false
        var planned = false
        while true {
            let want = request.clamped(to: 0..<(size ?? .max))
            if let size, present.contains(0..<size) { return (want, startedReadAhead) }
            if planned, present.contains(want) { return (want, startedReadAhead) }
            let coverage = coverageLocked()
            let uncovered = coverage.gaps(in: want)
            if let failure = failures.first(where: { f in f.serial > since && uncovered.contains { $0.overlaps(f.range) } }) {
                throw failure.error
            }
            // Planned once per read (for read-ahead), again whenever part of it is left uncovered.
            if !planned || !uncovered.isEmpty, running.count < Self.maxFetches {
                planned = true
                if let size, ranged {
                    let aheadStarted = running.contains { $0.start >= want.upperBound }
                    // After a failure this reader fails where the bytes are missing; read-ahead
                    // would paper over it only sometimes.
                    let failedSinceOpen = failures.contains { $0.serial > since }
                    let plan = planner.plan(want: want, size: size, coverage: coverage, readAhead: failedSinceOpen ? 0 : readAhead,
                                            aheadStarted: aheadStarted)
                    plan.ranges.forEach { startLocked(RangeFetch(range: $0)) }
                    startedReadAhead = startedReadAhead || plan.isReadAhead
                } else if !uncovered.isEmpty, !running.contains(where: { $0.end == nil }) {
                    // One sequential stream to the end fills the file.
                    startLocked(RangeFetch(from: present.contiguousEnd(from: 0)))
                }
            }
            if present.contains(want) { return (want, startedReadAhead) }
            if cancellation?.isCancelled == true { throw Cancellation.interrupted }
            let now = Date()
            if deadline == nil { deadline = now.addingTimeInterval(waitLimit) }
            guard let deadline, now < deadline else {
                throw .server("\(identity.remotePath): bytes \(want.lowerBound)-\(want.upperBound) did not arrive within the read time limit (twice the idle timeout)")
            }
            awaited.append(want)
            // Woken by arriving bytes; every 100 ms as well, to notice a cancellation.
            _ = condition.wait(until: min(deadline, now.addingTimeInterval(0.1)))
            if let i = awaited.firstIndex(of: want) { awaited.remove(at: i) }
        }
    }

    /// What is present or being fetched.
    private func coverageLocked() -> ByteRanges {
        var coverage = present
        for fetch in running { coverage.insert(fetch.cursor..<(fetch.end ?? size ?? .max)) }
        return coverage
    }

    private func startLocked(_ fetch: RangeFetch) {
        running.append(fetch)
        users += 1
        launch(self, fetch)
    }

    /// Fetches whatever of the file is neither present nor coming, without a reader waiting
    /// (walk-ahead: a file about to be opened). False when its size is not known.
    @discardableResult
    func fetchWhole() -> Bool {
        locked {
            guard let size, !retired else { return false }
            let gaps = coverageLocked().gaps(in: 0..<size)
            for gap in gaps.prefix(max(0, Self.maxFetches - running.count)) { startLocked(RangeFetch(range: gap)) }
            return true
        }
    }

    func addUser() { locked { users += 1 } }

    func addReader() {
        locked {
            users += 1
            readers += 1
            // A reader again: a fetch to the end that was told to stop goes on.
            for fetch in running { fetch.cancelled.store(false, ordering: .relaxed) }
        }
    }

    /// A reader closed. With none left, a fetch running to the end of the file stops unless
    /// what remains is within the longest read-ahead: nobody needs those bytes (`head -c` of a
    /// file of unknown size, or of a large one from a server without Range, must not pull it all).
    func removeReader() {
        locked {
            readers -= 1
            guard readers == 0 else { return }
            for fetch in running where fetch.end == nil {
                if let size, size - fetch.cursor <= ReadAhead.maximum { continue }
                fetch.cancelled.store(true, ordering: .relaxed)
            }
        }
    }

    var userCount: Int { locked { users } }

    /// Returns how many users remain.
    func removeUser() -> Int {
        locked {
            users -= 1
            return users
        }
    }

    // MARK: Filling

    /// Whether the bytes `held` (arrived, not yet stored) would let a waiting reader go, so
    /// they should be stored now rather than gathered with more.
    func completesAWait(_ held: Range<Int64>) -> Bool {
        locked {
            awaited.contains { w in
                held.lowerBound < w.upperBound && w.upperBound <= held.upperBound
                    && present.contains(w.lowerBound..<max(w.lowerBound, min(held.lowerBound, w.upperBound)))
            }
        }
    }

    /// The validator of the version the present bytes are of (for `If-Range`).
    var version: String? { locked { validator } }

    /// Whether bytes the server says are of version `told` may join those present: the first
    /// version seen is adopted, another one is refused.
    func accepts(version told: String?) -> Bool {
        guard let told else { return true }
        return locked {
            if validator == nil { validator = told }
            return validator == told
        }
    }

    /// Stores bytes a fetch received at `offset`; false when they cannot be stored: beyond the
    /// file's known size (another version, or a server that does not stop), beyond `cap` for
    /// a file of unknown size, or the cache file cannot take them.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64, for fetch: RangeFetch, cap: Int64) -> Bool {
        let end = offset + Int64(bytes.count)
        let bound: Int64? = locked { size }
        if let bound, end > bound {
            fetch.writeError = .server("\(identity.remotePath): the server sent bytes past its size of \(bound)")
            fetch.wrongVersion = true
            return false
        }
        if bound == nil, end > cap {
            fetch.writeError = FSError(errno: EFBIG, "\(identity.remotePath): no size listed and over \(cap) bytes, the most one file may take")
            return false
        }
        guard PositionalIO.write(fd, bytes, at: offset) else {
            fetch.writeError = .disk("writing the cache failed: \(String(cString: strerror(errno)))")
            return false
        }
        let recordNow: Bool = locked {
            present.insert(offset..<end)
            // Bytes outside the range asked for: the server ignored Range and sends the whole file.
            if offset < fetch.start || (fetch.end.map { end > $0 } ?? false) {
                fetch.end = nil
                fetch.rangeIgnored = true
            }
            fetch.cursor = end
            unsyncedBytes += Int64(bytes.count)
            condition.broadcast()
            return unsyncedBytes >= Self.syncEvery
        }
        if recordNow { persistSoon() }
        return true
    }

    /// Ends `fetch`: a transfer that stopped short of its range fails the readers waiting on the rest.
    func finish(_ fetch: RangeFetch, totalSize: Int64?, error: FSError?) {
        locked {
            running.removeAll { $0 === fetch }
            // Stopped because nobody read it any more: not a failure. A reader that came
            // meanwhile finds its bytes uncovered and starts a fetch of its own.
            if fetch.stoppedUnread {
                condition.broadcast()
                return
            }
            if size == nil, error == nil, fetch.end == nil { size = totalSize ?? fetch.cursor }
            let end = fetch.end ?? size ?? .max
            if let failure = error ?? fetch.writeError ?? (fetch.cursor < end ? .server("download ended after \(fetch.cursor - fetch.start) bytes") : nil) {
                failureSerial += 1
                failures.append((fetch.cursor..<max(fetch.cursor + 1, end), failure, failureSerial))
                if failures.count > 32 { failures.removeFirst() }
            }
            condition.broadcast()
        }
        persistSoon()
    }

    // MARK: Persisting

    /// Schedules `persist` on the recorder queue, once however often it is asked.
    func persistSoon() {
        let schedule: Bool = locked {
            defer { recordScheduled = true }
            return !recordScheduled
        }
        guard schedule else { return }
        Self.recorder.async { [self] in
            locked { recordScheduled = false }
            persist()
        }
    }

    /// Syncs the data, then records the ranges that were present before the sync.
    func persist() {
        let recorded: Int64? = durable.withLock { durable in
            let (now, retired) = locked { () -> (Durable, Bool) in
                unsyncedBytes = 0
                return (Durable(ranges: present, size: size, validator: validator), self.retired)
            }
            guard !retired, now != durable else { return nil }
            guard fdatasync(fd) == 0,
                  let data = try? CacheCoding.encoder.encode(CacheRecord(file: identity, size: now.size, ranges: now.ranges, validator: now.validator)),
                  (try? writeAtomically(data, to: recordURL)) != nil else { return nil }
            durable = now
            return now.ranges.byteCount
        }
        if let recorded { budget.update(key, bytes: recorded) }
    }

    /// Another version of the file replaced this one: its files go, its open readers keep
    /// their descriptor, and nothing it fetches from now on is recorded.
    func retire() {
        locked { retired = true }
        durable.withLock { _ in
            unlink(recordURL.path)
            unlink(dataPath)
        }
    }

    private func locked<T>(_ body: () -> T) -> T {
        condition.lock()
        defer { condition.unlock() }
        return body()
    }
}

/// One transfer filling part of a cache item: `[cursor, end)` is still to come (to the end
/// of the file when `end` is nil). Mutated under its item's lock, except `writeError`, which
/// only the fetch's own thread touches.
final class RangeFetch: @unchecked Sendable {
    let start: Int64
    var cursor: Int64
    var end: Int64?
    var rangeIgnored = false
    /// Set (by the fetch's own thread) when the answer is of another version of the file.
    var wrongVersion = false
    var writeError: FSError?
    /// Set when no reader is left for the bytes of a fetch to the end of the file.
    let cancelled = Atomic<Bool>(false)
    /// Set (by the fetch's own thread) when it stopped because of `cancelled`.
    var stoppedUnread = false

    init(range: Range<Int64>) {
        start = range.lowerBound
        cursor = range.lowerBound
        end = range.upperBound
    }

    init(from start: Int64) {
        self.start = start
        cursor = start
        end = nil
    }
}
