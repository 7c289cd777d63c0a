import Foundation
import Synchronization

/// Values fetched from the server, reused until they are `ttl` seconds old. At most
/// `capacity` are kept (least recently used go first), so walking thousands of task
/// folders does not keep every listing in memory. Concurrent misses of one key make one
/// fetch (single flight): the others wait for its outcome, as long as their operation lasts.
final class Expiring<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry {
        var value: Value
        var fetchedAt: Date
        var usedAt: Date
    }

    /// One fetch in progress, and its outcome for those waiting on it.
    private final class Flight: @unchecked Sendable {
        let done = NSCondition()
        var outcome: Result<Value, FSError>?
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var flights: [Key: Flight] = [:]
        /// Bumped by `invalidate`: a fetch that began before it does not store its (older) value.
        var generations: [Key: Int] = [:]
    }

    private let ttl: Double
    private let capacity: Int
    private let state = Mutex(State())

    init(ttl: Double, capacity: Int = 256) {
        self.ttl = ttl
        self.capacity = capacity
    }

    func value(for key: Key, fetch: () throws(FSError) -> Value) throws(FSError) -> Value {
        while true {
            let now = Date()
            let (fresh, flight, leads, generation) = state.withLock { s -> (Value?, Flight?, Bool, Int) in
                if let entry = s.entries[key], now.timeIntervalSince(entry.fetchedAt) < ttl {
                    s.entries[key]?.usedAt = now
                    return (entry.value, nil, false, 0)
                }
                if let running = s.flights[key] { return (nil, running, false, 0) }
                let started = Flight()
                s.flights[key] = started
                return (nil, started, true, s.generations[key, default: 0])
            }
            if let fresh { return fresh }
            guard let flight else { continue }
            guard leads else {
                // The leader's caller gave up: that is no answer for this one, which tries again.
                if let value = try wait(for: flight) { return value }
                continue
            }
            let outcome = Result { () throws(FSError) -> Value in try fetch() }
            state.withLock { s in
                // An invalidation may have let a newer flight take the key: that one stays.
                if s.flights[key] === flight { s.flights[key] = nil }
                if case .success(let value) = outcome, s.generations[key, default: 0] == generation { store(value, for: key, in: &s) }
            }
            flight.done.lock()
            flight.outcome = outcome
            flight.done.broadcast()
            flight.done.unlock()
            return try outcome.get()
        }
    }

    /// Waits for another caller's fetch, no longer than this caller's operation lasts; nil
    /// when that fetch was interrupted (its own caller gave up).
    private func wait(for flight: Flight) throws(FSError) -> Value? {
        let cancellation = Cancellation.current
        flight.done.lock()
        defer { flight.done.unlock() }
        while flight.outcome == nil {
            if cancellation?.isCancelled == true { throw Cancellation.interrupted }
            _ = flight.done.wait(until: Date().addingTimeInterval(0.1))
        }
        if case .failure(let error) = flight.outcome!, error.errno == EINTR { return nil }
        return try flight.outcome!.get()
    }

    func store(_ value: Value, for key: Key) {
        state.withLock { store(value, for: key, in: &$0) }
    }

    private func store(_ value: Value, for key: Key, in s: inout State) {
        let now = Date()
        s.entries[key] = Entry(value: value, fetchedAt: now, usedAt: now)
        if s.entries.count > capacity, let oldest = s.entries.min(by: { $0.value.usedAt < $1.value.usedAt })?.key {
            s.entries[oldest] = nil
            s.generations[oldest] = nil
        }
    }

    /// The last value, however old (while it is kept).
    func last(for key: Key) -> Value? { state.withLock { $0.entries[key]?.value } }

    func invalidate(_ key: Key) {
        state.withLock { s in
            s.entries[key] = nil
            s.generations[key, default: 0] += 1
            // Who asks from now on asks the server again; a fetch already running finishes
            // for those waiting on it, without storing its (older) value.
            s.flights[key] = nil
            // Bounded: generations matter only while a fetch of their key runs.
            if s.generations.count > 4 * capacity { s.generations = s.generations.filter { s.flights[$0.key] != nil } }
        }
    }

    var count: Int { state.withLock { $0.entries.count } }
}
