import Foundation
import Logging
import Synchronization

/// Workspace files on disk, one `CacheItem` per file, filled on demand by ranged fetches
/// that all readers of the file share.
///
/// Lock order (a lock may be taken while holding one above it, never one below):
///   1. `opening` (NSCondition): a file being opened; waited on by other openers of it.
///   2. `inUse`: the items in use, by key.
///   3. a `CacheItem`'s `durable` mutex, then its condition (see CacheItem).
///   4. `CacheBudget`'s state, then its `evicting` condition.
/// No lock here is held across disk I/O (opening an item's files, decoding its record,
/// `utimes`, `unlink`) or a request: those run between locks, with the key marked as opening
/// (here) or evicting (in the budget) so no one else touches its files meanwhile.
public final class WorkspaceCache: Sendable {
    private let directory: CacheDirectory
    private let remote: any AgentBackend
    private let logger: Logger
    /// Items in use (by readers or fetches), so every reader of a file shares one.
    private let inUse = Mutex<[String: CacheItem]>([:])
    /// Keys whose item is being opened (its files read or created) outside the locks; the
    /// set is only touched with `opening` held.
    private let opening = NSCondition()
    private let openingKeys = Mutex<Set<String>>([])
    /// Set once the server answered a ranged request with the whole file.
    private let serverIgnoresRange = Atomic<Bool>(false)
    private let runningFetches = Atomic<Int>(0)
    /// The version of each file the kernel was last given pages of (through an open).
    private let served = Mutex<[String: CachedFileIdentity]>([:])
    let budget: CacheBudget
    /// The longest a read waits for its bytes.
    let readWaitLimit: Double
    /// Told how each download went (a rejected key, an unreachable server).
    private let health: ServerHealth?

    public init(directory: CacheDirectory, remote: any AgentBackend, limit: Int64, freeSpaceFloor: Int64, readWaitLimit: Double = .infinity,
                health: ServerHealth? = nil, logger: Logger) {
        self.health = health
        self.directory = directory
        self.remote = remote
        self.readWaitLimit = readWaitLimit
        self.logger = logger
        budget = CacheBudget(objects: directory.objects, limit: limit, freeSpaceFloor: freeSpaceFloor)
    }

    /// The size of `file` when every byte of this version of it is cached.
    public func completeSize(of file: CachedFileIdentity) -> Int64? {
        if let item = inUse.withLock({ $0[file.key] }), item.identity.isSameVersion(as: file) { return item.completeSize }
        guard let record = CacheItem.loadRecord(directory.objects.appendingPathComponent(file.key + ".json"), for: file),
              record.isComplete else { return nil }
        return record.size
    }

    /// A reader for `file`, and whether pages the kernel kept of it are still good: the
    /// version this mount last opened is this one, or, never opened here, it was cached before
    /// (a remount's). Being cached is not enough once another version was opened here: the
    /// kernel may hold that one's pages, and walk-ahead caches versions nobody has opened.
    /// Nothing is fetched until the first read.
    public func openReader(for file: CachedFileIdentity) throws(FSError) -> (reader: CacheReader, keepCache: Bool) {
        let (item, _) = try acquire(file)
        let keep = served.withLock { served in
            defer { served[file.key] = file }
            return served[file.key].map { $0.isSameVersion(as: file) } ?? item.wasCached
        }
        return (CacheReader(cache: self, item: item, failuresBefore: item.failureCount), keep)
    }

    /// Starts fetching all of `file` that is not cached yet, for a reader expected soon; nobody
    /// waits for it, and a failure is only logged (the reader's own open fetches again).
    func fetchAhead(_ file: CachedFileIdentity) {
        // Another version in use is a reader's: a guess never retires it.
        if let inUse = inUse.withLock({ $0[file.key] }), !inUse.identity.isSameVersion(as: file) { return }
        guard file.size != nil, completeSize(of: file) == nil, let (item, _) = try? acquire(file) else { return }
        item.fetchWhole()
        // The fetches hold the item; the reader's share goes now.
        releaseReader(item)
    }

    var ignoresRange: Bool { serverIgnoresRange.load(ordering: .relaxed) }

    /// Whether any transfer is under way (read-ahead can outlive the read that started it).
    var isFetching: Bool { runningFetches.load(ordering: .acquiring) > 0 }

    /// How many transfers are under way now.
    var fetchesRunning: Int { runningFetches.load(ordering: .relaxed) }

    /// Returns once the records asked for so far are written.
    func waitForRecords() { CacheItem.recorder.sync {} }

    // MARK: Items in use

    /// The item in use for `file`, or a newly opened one; true when it was already in use.
    /// One opener of a key at a time: the others wait for it (single flight), so two never
    /// create the same files over each other.
    private func acquire(_ file: CachedFileIdentity) throws(FSError) -> (CacheItem, Bool) {
        let key = file.key
        budget.opened(key)
        opening.lock()
        while openingKeys.withLock({ $0.contains(key) }) { opening.wait() }
        // Found and counted in one step, as a release removes an item only while no one uses it.
        let (existing, retired) = inUse.withLock { items -> (CacheItem?, CacheItem?) in
            guard let item = items[key] else { return (nil, nil) }
            if item.identity.isSameVersion(as: file) {
                item.addReader()
                return (item, nil)
            }
            // The file changed on the server: readers of the old version keep their item.
            items[key] = nil
            return (nil, item)
        }
        if let existing {
            opening.unlock()
            return (existing, true)
        }
        openingKeys.withLock { _ = $0.insert(key) }
        opening.unlock()
        defer {
            opening.lock()
            openingKeys.withLock { _ = $0.remove(key) }
            opening.broadcast()
            opening.unlock()
        }
        if let retired {
            retired.retire()
            budget.removed(key)
        }
        let item: CacheItem
        do throws(FSError) {
            item = try CacheItem(file, in: directory.objects, budget: budget) { [weak self] item, fetch in self?.start(fetch, of: item) }
        } catch {
            budget.closed(key)
            throw error
        }
        item.addReader()
        inUse.withLock { $0[key] = item }
        return (item, false)
    }

    /// A reader closed its handle on `item`.
    func releaseReader(_ item: CacheItem) {
        item.removeReader()
        release(item)
    }

    /// A reader or fetch is done with `item`; the last one out records what arrived, then
    /// lets it go (so what is asked of the disk meanwhile is already on it).
    func release(_ item: CacheItem) {
        if item.removeUser() == 0 {
            item.persist()
            inUse.withLock { items in
                if item.userCount == 0, items[item.key] === item { items[item.key] = nil }
            }
        }
        budget.closed(item.key)
    }

    // MARK: Fetching

    /// Called under the item's lock: counts the fetch as a user, then transfers on its own thread.
    private func start(_ fetch: RangeFetch, of item: CacheItem) {
        budget.opened(item.key)
        runningFetches.add(1, ordering: .relaxed)
        let thread = Thread { [self] in
            transfer(fetch, into: item)
            runningFetches.subtract(1, ordering: .releasing)
        }
        thread.name = "fetch"
        thread.start()
    }

    private func transfer(_ fetch: RangeFetch, into item: CacheItem) {
        let file = item.identity
        var total: Int64?
        var failure: FSError?
        let cap = budget.limit
        let gathered = ChunkCoalescer(isAwaited: { item.completesAWait($0) }) { bytes, offset in
            item.write(bytes, at: offset, for: fetch, cap: cap)
        }
        do {
            let result = try remote.download(taskId: file.taskId, path: file.remotePath, offset: fetch.start,
                                             length: fetch.end.map { $0 - fetch.start }, ifRange: item.version) { chunk in
                // A size other than the listed one, or another validator: the bytes are of
                // another version of the file.
                if let told = chunk.fileSize, let listed = file.size, told != listed {
                    fetch.writeError = .server("\(file.remotePath) changed on the server: \(told) bytes, listed as \(listed)")
                    fetch.wrongVersion = true
                    return false
                }
                guard item.accepts(version: chunk.validator) else {
                    fetch.writeError = .server("\(file.remotePath) changed on the server: now \(chunk.validator ?? "?")")
                    fetch.wrongVersion = true
                    return false
                }
                if fetch.cancelled.load(ordering: .relaxed) {
                    fetch.stoppedUnread = true
                    return false
                }
                return gathered.add(chunk.bytes, at: chunk.offset)
            }
            gathered.flush()
            total = result.totalSize
            health?.recordSuccess()
        } catch {
            health?.record(error)
            // What arrived before the failure is good: it is kept.
            gathered.flush()
            failure = fetch.stoppedUnread ? nil : fetch.writeError ?? error.fsError
        }
        logger.debug("fetched", metadata: ["path": "\(file.remotePath)", "from": "\(fetch.start)", "to": "\(fetch.cursor)",
                                           "asked": "\(fetch.end.map(String.init) ?? "end")", "error": "\(failure?.message ?? "none")"])
        if fetch.rangeIgnored, !serverIgnoresRange.exchange(true, ordering: .relaxed) {
            logger.notice("the server ignores HTTP Range: files are fetched whole, front to back")
        }
        // A download serves every reader of the file, or none (read-ahead): its failure is
        // logged here, once, and the readers it fails reply with it quietly.
        if let logged = failure {
            logger.log(level: logged.level, "download of \(file.remotePath) failed: \(logged.message)",
                       metadata: ["task": "\(file.taskId)", "source": "\(logged.source.rawValue)"])
            failure = logged.logged(at: .debug)
        }
        item.finish(fetch, totalSize: total, error: failure)
        // Bytes of two versions are never mixed: what was cached of this one goes.
        if fetch.wrongVersion { discard(item) }
        release(item)
    }

    /// Drops `item` and its files: the next open starts afresh; open readers keep failing.
    private func discard(_ item: CacheItem) {
        item.retire()
        inUse.withLock { items in if items[item.key] === item { items[item.key] = nil } }
        budget.removed(item.key)
    }
}
