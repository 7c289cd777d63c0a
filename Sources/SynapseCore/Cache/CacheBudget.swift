import Foundation
import Synchronization

/// Keeps the file cache under its size limit and above a free-space floor by evicting the
/// least recently used items; an item that is open (read or being fetched) is never evicted.
/// An item's size is the bytes its record lists; recency is the record file's mtime, so it
/// survives restarts.
final class CacheBudget: Sendable {
    struct Item {
        var size: Int64
        var lastUsed: Date
    }

    struct Snapshot: Sendable {
        var bytes: Int64
        var items: Int
        var limit: Int64
        var evictions: Int
        var evictedBytes: Int64
    }

    private struct State {
        var items: [String: Item] = [:]
        var open: [String: Int] = [:]
        /// Items chosen for eviction whose files are being deleted (outside the lock).
        var evicting: Set<String> = []
        var evictions = 0
        var evictedBytes: Int64 = 0
    }

    let limit: Int64
    let freeSpaceFloor: Int64
    private let objects: URL
    private let state: Mutex<State>
    /// Signalled when an eviction's files are gone. Lock order: `state` may be taken inside
    /// it, never the other way round.
    private let evicted = NSCondition()

    init(objects: URL, limit: Int64, freeSpaceFloor: Int64) {
        self.objects = objects
        self.limit = limit
        self.freeSpaceFloor = freeSpaceFloor
        var items: [String: Item] = [:]
        let names = (try? FileManager.default.contentsOfDirectory(atPath: objects.path)) ?? []
        for name in names where name.hasSuffix(".json") {
            let key = String(name.dropLast(5))
            var data = stat(), record = stat()
            guard lstat(objects.appendingPathComponent(key + ".data").path, &data) == 0,
                  lstat(objects.appendingPathComponent(name).path, &record) == 0 else { continue }
            // Data files are sparse: what they hold is their allocated blocks.
            items[key] = Item(size: min(Int64(data.st_size), Int64(data.st_blocks) * 512), lastUsed: Date(timeIntervalSince1970: TimeInterval(record.st_mtim.tv_sec)))
        }
        state = Mutex(State(items: items))
    }

    var snapshot: Snapshot {
        state.withLock { s in
            Snapshot(bytes: s.items.values.reduce(0) { $0 + $1.size }, items: s.items.count, limit: limit,
                     evictions: s.evictions, evictedBytes: s.evictedBytes)
        }
    }

    /// An item's record now lists `bytes`: count them, then make room.
    func update(_ key: String, bytes: Int64) {
        state.withLock { $0.items[key] = Item(size: bytes, lastUsed: Date()) }
        enforce()
    }

    func removed(_ key: String) { _ = state.withLock { $0.items.removeValue(forKey: key) } }

    /// An item is opened: it cannot be evicted until closed. One being evicted right now is
    /// waited for, so its files are gone before the opener looks at them.
    func opened(_ key: String) {
        evicted.lock()
        while !state.withLock({ s -> Bool in
            guard !s.evicting.contains(key) else { return false }
            s.open[key, default: 0] += 1
            s.items[key]?.lastUsed = Date()
            return true
        }) { evicted.wait() }
        evicted.unlock()
        // Recency on disk: the record's mtime.
        utimes(objects.appendingPathComponent(key + ".json").path, nil)
    }

    func closed(_ key: String) {
        state.withLock { s in
            s.open[key, default: 1] -= 1
            if s.open[key] == 0 { s.open[key] = nil }
        }
        enforce()
    }

    /// Evicts least recently used, closed items while over the limit or under the floor. An
    /// item is chosen under the lock and marked evicting, so no one opens it until its files
    /// are deleted (outside the lock).
    func enforce() {
        while true {
            let free = freeSpace()
            let chosen: String? = state.withLock { s in
                let bytes = s.items.values.reduce(0) { $0 + $1.size }
                guard bytes > limit || free < freeSpaceFloor,
                      let oldest = s.items.filter({ s.open[$0.key] == nil }).min(by: { $0.value.lastUsed < $1.value.lastUsed }) else { return nil }
                s.items[oldest.key] = nil
                s.evicting.insert(oldest.key)
                s.evictions += 1
                s.evictedBytes += oldest.value.size
                return oldest.key
            }
            guard let key = chosen else { return }
            // The record goes first: without it the data is never served.
            unlink(objects.appendingPathComponent(key + ".json").path)
            unlink(objects.appendingPathComponent(key + ".data").path)
            evicted.lock()
            state.withLock { _ = $0.evicting.remove(key) }
            evicted.broadcast()
            evicted.unlock()
        }
    }

    private func freeSpace() -> Int64 {
        var fs = statvfs()
        guard statvfs(objects.path, &fs) == 0 else { return .max }
        return Int64(fs.f_bavail) * Int64(fs.f_frsize)
    }
}
