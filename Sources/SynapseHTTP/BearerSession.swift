import Synchronization
import SynapseCore

/// A bearer token a backend gets by logging in (or refreshing), renewed when the server stops
/// taking it: a request rejected with the token it carried gets a new token and is sent once
/// more, so the operation in flight does not fail. However many requests are rejected
/// together, one login runs; the others wait for it and use its token.
///
/// A login that fails fails every request that waited for it, with its error: a wrong
/// password is tried once, not once per waiting request (servers lock accounts for less).
/// `login` must not call `perform` (it would wait for itself).
///
/// Lock order: `renewal` before `state`; `state` is never held across a request.
public final class BearerSession: Sendable {
    /// Gets a token: by refresh when `previous` can be refreshed, else by logging in. Its
    /// failure (a wrong password, an unreachable server) is the request's failure.
    public typealias Login = @Sendable (_ previous: String?) throws(RemoteError) -> String

    private struct State {
        var token: String?
        /// Counts tokens got: a rejection names the one it was given.
        var generation = 0
        /// Counts logins tried, and how the last one failed (nil: it worked).
        var attempts = 0
        var lastFailure: RemoteError?
    }

    private let login: Login
    private let state = Mutex(State())
    /// Held while a login runs, so one runs at a time.
    private let renewal = Mutex<Void>(())

    public init(login: @escaping Login) {
        self.login = login
    }

    /// How many tokens have been got (by the first login and each renewal).
    public var logins: Int { state.withLock { $0.generation } }

    /// Runs `request` with the `Authorization` header line of the current token (logging in
    /// first when there is none); when the server rejects it (`.rejectedKey`), renews the
    /// token and runs it once more. A second rejection is the answer.
    public func perform<T>(_ request: (_ authorization: String) throws(RemoteError) -> T) throws(RemoteError) -> T {
        let (token, generation) = try current()
        do {
            return try request("Authorization: Bearer \(token)")
        } catch .rejectedKey {
            let (renewed, _) = try renew(after: generation)
            return try request("Authorization: Bearer \(renewed)")
        }
    }

    /// Forgets the token (a logout): the next request logs in.
    public func forget() {
        state.withLock { $0.token = nil }
    }

    private func current() throws(RemoteError) -> (String, Int) {
        if let known = state.withLock({ s in s.token.map { ($0, s.generation) } }) { return known }
        return try renew(after: nil)
    }

    /// A token newer than the one of `generation` (nil: any token): got by this call, or by
    /// the call that renewed it while this one waited. A login that failed while this one
    /// waited is its answer too.
    private func renew(after generation: Int?) throws(RemoteError) -> (String, Int) {
        let attemptsBefore = state.withLock { $0.attempts }
        return try renewal.withLock { _ throws(RemoteError) -> (String, Int) in
            let (known, now, attempts, failure) = state.withLock { ($0.token, $0.generation, $0.attempts, $0.lastFailure) }
            if let known, generation == nil || now != generation { return (known, now) }
            if attempts > attemptsBefore, let failure { throw failure }
            do throws(RemoteError) {
                let token = try login(known)
                return state.withLock {
                    $0.token = token
                    $0.generation += 1
                    $0.attempts += 1
                    $0.lastFailure = nil
                    return (token, $0.generation)
                }
            } catch {
                state.withLock {
                    $0.attempts += 1
                    $0.lastFailure = error
                }
                throw error
            }
        }
    }
}
