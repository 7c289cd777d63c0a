import Synchronization
import SynapseCore

/// A route some deployments lack, and the older route they have instead. The current route
/// is tried first; a 404 from it may mean "no such route" (deployments answer that as a JSON
/// 404 envelope, a framework's `Cannot GET …`, or an empty 404), so the older route decides.
/// Once the older route has worked it is used from then on.
public final class RouteFallback: Sendable {
    private let older = Atomic<Bool>(false)

    public init() {}

    /// Whether the older route is the one in use.
    public var usesOlder: Bool { older.load(ordering: .relaxed) }

    /// Runs `request` with `false` for the current route, `true` for the older one. A request
    /// that cannot be sent twice (a body streamed while it is written) gets no second try.
    public func run<T>(retryable: Bool = true, _ request: (_ older: Bool) throws(RemoteError) -> T) throws(RemoteError) -> T {
        if usesOlder { return try request(true) }
        do {
            return try request(false)
        } catch {
            let missing: Bool = switch error {
            case .notFound, .routeMissing: true
            default: false
            }
            guard missing, retryable else { throw error }
            do {
                let result = try request(true)
                older.store(true, ordering: .relaxed)
                return result
            } catch .notFound, .routeMissing {
                throw error
            }
        }
    }
}
