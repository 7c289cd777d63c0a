import Foundation
import Synchronization
import Testing
@testable import SynapseCore

/// Single flight: concurrent misses make one fetch; an invalidation or an interrupted leader
/// never hands a caller an older value or someone else's EINTR.
@Suite struct ExpiringSingleFlightTests {
    /// Runs `body` on `count` threads of their own (not a pool that may run them one by one).
    func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for i in 0..<count {
            group.enter()
            Thread { body(i); group.leave() }.start()
        }
        group.wait()
    }

    @Test func concurrentMissesOfOneKeyMakeOneFetch() {
        let cache = Expiring<String, Int>(ttl: 60)
        let fetches = Mutex(0)
        let values = Mutex<[Int]>([])
        onThreads(8) { _ in
            let value = try? cache.value(for: "k") { () throws(FSError) -> Int in
                fetches.withLock { $0 += 1 }
                Thread.sleep(forTimeInterval: 0.3)
                return 42
            }
            values.withLock { $0.append(value ?? -1) }
        }
        #expect(fetches.withLock { $0 } == 1)
        #expect(values.withLock { $0 } == Array(repeating: 42, count: 8))
    }

    @Test func aCallerAfterAnInvalidationGetsANewFetchNotTheOneRunning() throws {
        let cache = Expiring<String, String>(ttl: 60)
        let release = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        let old = Mutex<String?>(nil)
        let leader = Thread {
            let value = try? cache.value(for: "k") { () throws(FSError) -> String in
                started.signal()
                release.wait()
                return "old"
            }
            old.withLock { $0 = value }
        }
        leader.start()
        started.wait()
        cache.invalidate("k")
        let fresh = try cache.value(for: "k") { () throws(FSError) -> String in "new" }
        #expect(fresh == "new")
        release.signal()
        while old.withLock({ $0 }) == nil { Thread.sleep(forTimeInterval: 0.01) }
        #expect(old.withLock { $0 } == "old", "the running fetch still answers its own caller")
        #expect(cache.last(for: "k") == "new", "but its older value is not stored")
    }

    @Test func anInterruptedLeaderIsNoAnswerForThoseWaiting() {
        let cache = Expiring<String, Int>(ttl: 60)
        let leading = DispatchSemaphore(value: 0)
        let fetches = Mutex(0)
        let results = Mutex<[Int: Result<Int, FSError>]>([:])
        onThreads(2) { i in
            if i == 1 { leading.wait(); Thread.sleep(forTimeInterval: 0.05) } // joins the running fetch
            let result = Result { () throws(FSError) -> Int in
                try cache.value(for: "k") { () throws(FSError) -> Int in
                    let n = fetches.withLock { $0 += 1; return $0 }
                    if n == 1 {
                        leading.signal()
                        Thread.sleep(forTimeInterval: 0.2)
                        throw Cancellation.interrupted
                    }
                    return 7
                }
            }
            results.withLock { $0[i] = result }
        }
        let all = results.withLock { $0 }
        #expect((try? all[0]?.get()) == nil, "the interrupted caller gets its EINTR")
        #expect((try? all[1]?.get()) == 7, "the waiter fetched for itself")
        #expect(fetches.withLock { $0 } == 2)
    }
}
