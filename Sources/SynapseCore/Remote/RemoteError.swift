import Foundation

/// What went wrong talking to the server, in words every backend maps its answers onto.
public enum RemoteError: Error, Equatable, CustomStringConvertible {
    /// `code` 1101/1105 or HTTP 401: the API key is expired or invalid.
    case rejectedKey(String)
    /// HTTP 404 or a 404 envelope: no such resource, or not this account's (or, since a JSON
    /// 404 may say either, no such route).
    case notFound(String)
    /// The server has no such route: its framework's 404 (`Cannot GET …`) or an empty one.
    case routeMissing(String)
    /// HTTP 422: a request parameter failed validation.
    case invalidRequest(String)
    /// HTTP 400: a business rule refused the request (file too large, bad name).
    case refused(String)
    /// Any other non-success answer.
    case server(status: Int, message: String)
    /// The server could not be reached, or the connection broke.
    case unreachable(String)
    /// The server stopped answering within the connect or idle timeout.
    case timedOut(String)
    /// The answer did not have the documented shape.
    case malformed(String)
    /// The operation waiting for the answer was cancelled (its caller was interrupted).
    case interrupted(String)
    /// The server's TLS certificate is not trusted (or the trusted CAs cannot be read).
    case untrustedServer(String)
    /// The task is busy with something the request would disturb (a prompt while it runs, on
    /// a server where that would interrupt the run).
    case busy(String)
    /// The server's limit on a file's size (EFBIG), or on how many it takes (ENOSPC).
    case tooLarge(String)
    case tooMany(String)

    public var description: String {
        switch self {
        case .rejectedKey(let m): "API key rejected by the server: \(m)"
        case .notFound(let m): "not found on the server: \(m)"
        case .routeMissing(let m): "the server has no such route: \(m)"
        case .invalidRequest(let m): "request refused as invalid (422): \(m)"
        case .refused(let m): "request refused (400): \(m)"
        case .server(let status, let m): "server error \(status): \(m)"
        case .unreachable(let m): "server unreachable: \(m)"
        case .timedOut(let m): "server timed out: \(m)"
        case .malformed(let m): "malformed answer from the server: \(m)"
        case .interrupted(let m): "interrupted: \(m)"
        case .busy(let m): "busy: \(m)"
        case .tooLarge(let m): "too large for the server: \(m)"
        case .tooMany(let m): "more than the server takes: \(m)"
        case .untrustedServer(let m): "the server's TLS certificate is not trusted: \(m) (trust its CA with --ca-file or SSL_CERT_FILE)"
        }
    }

    /// True when the failure says nothing about the resource, only about reaching the server.
    public var isConnectivity: Bool {
        switch self {
        case .unreachable, .timedOut: true
        case .server(let status, _): status >= 500
        default: false
        }
    }

    /// The errno a filesystem operation reports for this failure.
    public var errno: Int32 {
        switch self {
        case .rejectedKey: EACCES
        case .notFound, .routeMissing: ENOENT
        case .invalidRequest, .refused: EINVAL
        case .server, .unreachable, .timedOut, .malformed, .untrustedServer: EIO
        case .interrupted: EINTR
        case .busy: EBUSY
        case .tooLarge: EFBIG
        case .tooMany: ENOSPC
        }
    }

    public var fsError: FSError {
        switch self {
        // Not the server's fault: what was asked for is not there, or the caller gave up.
        case .notFound, .interrupted, .busy, .tooLarge, .tooMany: FSError(errno: errno, description)
        // The server's state (unreachable, a rejected key, an untrusted certificate) is logged
        // by ServerHealth once per change; each operation it fails is only noted.
        case .rejectedKey, .untrustedServer: FSError(errno: errno, description, source: .server, level: .info)
        case _ where isConnectivity: FSError(errno: errno, description, source: .server, level: .info)
        default: FSError(errno: errno, description, source: .server)
        }
    }
}
