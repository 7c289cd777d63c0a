import Foundation
import Synchronization

/// Values fetched from the server, reused until they are `ttl` seconds old.
final class Expiring<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let ttl: Double
    private let entries = Mutex<[Key: (value: Value, at: Date)]>([:])

    init(ttl: Double) {
        self.ttl = ttl
    }

    func value(for key: Key, fetch: () throws(FSError) -> Value) throws(FSError) -> Value {
        if let fresh = entries.withLock({ $0[key] }), Date().timeIntervalSince(fresh.at) < ttl { return fresh.value }
        let value = try fetch()
        entries.withLock { $0[key] = (value, Date()) }
        return value
    }

    func store(_ value: Value, for key: Key) { entries.withLock { $0[key] = (value, Date()) } }

    /// The last value, however old.
    func last(for key: Key) -> Value? { entries.withLock { $0[key]?.value } }

    func invalidate(_ key: Key) { entries.withLock { $0[key] = nil } }
}
