import Foundation
import Synchronization

/// Values fetched from the server, reused until they are `ttl` seconds old. At most
/// `capacity` are kept (least recently used go first), so walking thousands of task
/// folders does not keep every listing in memory.
final class Expiring<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry {
        var value: Value
        var fetchedAt: Date
        var usedAt: Date
    }

    private let ttl: Double
    private let capacity: Int
    private let entries = Mutex<[Key: Entry]>([:])

    init(ttl: Double, capacity: Int = 256) {
        self.ttl = ttl
        self.capacity = capacity
    }

    func value(for key: Key, fetch: () throws(FSError) -> Value) throws(FSError) -> Value {
        let now = Date()
        let fresh: Value? = entries.withLock { entries in
            guard let entry = entries[key], now.timeIntervalSince(entry.fetchedAt) < ttl else { return nil }
            entries[key]?.usedAt = now
            return entry.value
        }
        if let fresh { return fresh }
        let value = try fetch()
        store(value, for: key)
        return value
    }

    func store(_ value: Value, for key: Key) {
        let now = Date()
        entries.withLock { entries in
            entries[key] = Entry(value: value, fetchedAt: now, usedAt: now)
            if entries.count > capacity, let oldest = entries.min(by: { $0.value.usedAt < $1.value.usedAt })?.key {
                entries[oldest] = nil
            }
        }
    }

    /// The last value, however old (while it is kept).
    func last(for key: Key) -> Value? { entries.withLock { $0[key]?.value } }

    func invalidate(_ key: Key) { entries.withLock { $0[key] = nil } }

    var count: Int { entries.withLock { $0.count } }
}
