import Foundation
import Synchronization
import SynapseCore
import Testing
@testable import SynapseHTTP

/// A token that expires is renewed once, however many requests find it expired together.
@Suite struct BearerSessionTests {
    /// A server that takes only the newest token it issued.
    final class TokenServer: Sendable {
        let issued = Mutex(0)
        let loginDelay: Double

        init(loginDelay: Double = 0) { self.loginDelay = loginDelay }

        func login(_ previous: String?) throws(RemoteError) -> String {
            Thread.sleep(forTimeInterval: loginDelay)
            return issued.withLock { count in
                count += 1
                return "token-\(count)"
            }
        }

        func expire() { issued.withLock { $0 += 1 } }

        func request(_ authorization: String) throws(RemoteError) -> String {
            let valid = issued.withLock { "Authorization: Bearer token-\($0)" }
            guard authorization == valid else { throw .rejectedKey("token expired") }
            return "ok"
        }
    }

    @Test func theFirstRequestLogsInAndLaterOnesReuseTheToken() throws {
        let server = TokenServer()
        let session = BearerSession(login: server.login)
        #expect(try session.perform(server.request) == "ok")
        #expect(try session.perform(server.request) == "ok")
        #expect(session.logins == 1)
    }

    @Test func anExpiredTokenIsRenewedOnceForManyRequestsAndNoneFails() throws {
        let server = TokenServer(loginDelay: 0.05)
        let session = BearerSession(login: server.login)
        _ = try session.perform(server.request)
        server.expire()
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            if (try? session.perform(server.request)) != "ok" { failures.withLock { $0 += 1 } }
        }
        #expect(failures.withLock { $0 } == 0)
        #expect(session.logins == 2, "one login at first, one renewal for the eight rejected requests")
    }

    @Test func aTokenRejectedTwiceIsTheAnswerNotALoop() {
        let logins = Mutex(0)
        let session = BearerSession { _ throws(RemoteError) in
            logins.withLock { $0 += 1 }
            return "never-valid"
        }
        let error = #expect(throws: RemoteError.self) {
            try session.perform { _ throws(RemoteError) -> Int in throw .rejectedKey("no") }
        }
        #expect(error == .rejectedKey("no"))
        #expect(logins.withLock { $0 } == 2)
    }

    @Test func aFailedLoginIsTheRequestsFailure() {
        let session = BearerSession { _ throws(RemoteError) -> String in throw .unreachable("connection refused") }
        let error = #expect(throws: RemoteError.self) { try session.perform { _ throws(RemoteError) in 1 } }
        #expect(error == .unreachable("connection refused"))
    }

    @Test func renewalIsGivenThePreviousTokenToRefresh() throws {
        let previous = Mutex<[String?]>([])
        let server = TokenServer()
        let session = BearerSession { old throws(RemoteError) in
            previous.withLock { $0.append(old) }
            return try server.login(old)
        }
        _ = try session.perform(server.request)
        server.expire()
        _ = try session.perform(server.request)
        #expect(previous.withLock { $0 } == [nil, "token-1"])
    }
}

extension BearerSessionTests {
    @Test func aLoginThatFailsIsTriedOnceForAllTheRequestsWaitingOnIt() {
        let logins = Mutex(0)
        let session = BearerSession { _ throws(RemoteError) -> String in
            logins.withLock { $0 += 1 }
            Thread.sleep(forTimeInterval: 0.2)
            throw .rejectedKey("wrong password")
        }
        let failures = Mutex(0)
        let group = DispatchGroup()
        for _ in 0..<6 {
            group.enter()
            Thread {
                if case .failure(.rejectedKey) = Result(catching: { () throws(RemoteError) in try session.perform { _ throws(RemoteError) in 1 } }) {
                    failures.withLock { $0 += 1 }
                }
                group.leave()
            }.start()
        }
        group.wait()
        #expect(failures.withLock { $0 } == 6)
        #expect(logins.withLock { $0 } == 1, "the waiting requests took the failed login's answer")
        // A later request tries again (the password may have been fixed).
        _ = try? session.perform { _ throws(RemoteError) in 1 }
        #expect(logins.withLock { $0 } == 2)
    }
}
