import Foundation
import Logging
import Synchronization

/// What the mount last learned about reaching the server; shown in `.synapsefs/status.json`
/// and logged when it changes.
public final class ServerHealth: Sendable {
    public enum State: String, Sendable {
        case unknown, online, offline, rejectedKey = "rejected-key", untrustedCertificate = "untrusted-certificate"
    }

    public struct Snapshot: Sendable {
        public var state: State
        public var lastError: String?
        public var lastErrorAt: Date?
        public var lastSuccessAt: Date?
        /// Why the task list cannot be read now while the server otherwise answers (a missing
        /// route, an answer that is not the documented JSON): `tasks/` shows what is known.
        public var listingError: String?
    }

    private let logger: Logger
    private let snapshot = Mutex(Snapshot(state: .unknown))

    public init(logger: Logger) {
        self.logger = logger
    }

    public var current: Snapshot { snapshot.withLock { $0 } }

    public func recordSuccess() {
        let previous = snapshot.withLock { s in
            defer { s.state = .online; s.lastSuccessAt = Date() }
            return s.state
        }
        if previous == .offline || previous == .rejectedKey || previous == .untrustedCertificate { logger.notice("server reachable again") }
    }

    /// The task list failed for a reason other than reaching the server or the key.
    public func listingFailed(_ error: RemoteError) {
        if case .rejectedKey = error { return }
        guard !error.isConnectivity else { return }
        let changed = snapshot.withLock { s in
            defer { s.listingError = error.description }
            return s.listingError != error.description
        }
        if changed { logger.warning("the task list cannot be read; tasks/ shows what the mount knows", metadata: ["error": "\(error)"]) }
    }

    public func listingRecovered() {
        let was = snapshot.withLock { s in
            defer { s.listingError = nil }
            return s.listingError
        }
        if was != nil { logger.notice("the task list can be read again") }
    }

    /// Notes a failure; connectivity problems and rejected keys are logged once per change.
    public func record(_ error: RemoteError) {
        let state: State? = switch error {
        case .rejectedKey: .rejectedKey
        case .untrustedServer: .untrustedCertificate
        case _ where error.isConnectivity: .offline
        default: nil
        }
        guard let state else { return }
        let changed = snapshot.withLock { s in
            defer { s.state = state; s.lastError = error.description; s.lastErrorAt = Date() }
            return s.state != state
        }
        guard changed else { return }
        if state == .untrustedCertificate {
            logger.error("the server's TLS certificate is not trusted; requests fail until it is (trust its CA with --ca-file or SSL_CERT_FILE)",
                         metadata: ["error": "\(error)"])
        } else if state == .rejectedKey {
            logger.error("the server rejected the API key; set a valid key (INFINISYNAPSE_API_KEY, --api-key-file or the config file) and remount", metadata: ["error": "\(error)"])
        } else {
            logger.warning("server unreachable; serving cached data", metadata: ["error": "\(error)"])
        }
    }
}
