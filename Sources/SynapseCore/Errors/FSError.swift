import Foundation
import Logging

/// A filesystem error, born with the errno the kernel will see, a message for the log, where
/// the failure comes from and how loudly it is logged. It is logged once, where it is replied.
public struct FSError: Error, Equatable, CustomStringConvertible {
    /// Where a failure comes from: it decides who can fix it, and so its log level.
    public enum Source: String, Sendable {
        /// The caller asked for what cannot be done here (no such name, not empty, too big).
        case request
        /// The server failed, refused or could not be reached.
        case server
        /// This machine's disk (the cache, the spool, a log) failed.
        case disk
    }

    public let errno: Int32
    public let message: String
    public let source: Source
    public let level: Logger.Level

    /// `level` defaults by source: a refused request is routine (debug for a miss, info
    /// otherwise), a server failure a warning, a disk failure an error.
    public init(errno: Int32, _ message: String, source: Source = .request, level: Logger.Level? = nil) {
        self.errno = errno
        self.message = message
        self.source = source
        self.level = level ?? Self.defaultLevel(errno: errno, source: source)
    }

    public var description: String { "\(message) (errno \(errno))" }

    /// The same failure, logged at `level` (a refusal worth an operator's attention, or a
    /// failure already logged where it happened).
    public func logged(at level: Logger.Level) -> FSError {
        FSError(errno: errno, message, source: source, level: level)
    }

    /// The same failure in other words and with another errno (a step's failure told as the
    /// operation's), from the same source, at the same level.
    public func withMessage(_ message: String, errno code: Int32) -> FSError {
        FSError(errno: code, message, source: source, level: level)
    }

    private static func defaultLevel(errno: Int32, source: Source) -> Logger.Level {
        // An interrupted call is the caller's choice, wherever it was waiting.
        if errno == EINTR { return .debug }
        switch source {
        case .request:
            switch errno {
            // What `ls`, shells and editors probe for every day.
            case ENOENT, EEXIST, EISDIR, ENOTDIR, ENOTEMPTY, EAGAIN: return .debug
            default: return .info
            }
        case .server: return .warning
        case .disk: return .error
        }
    }

    public static func notFound(_ what: String) -> FSError { FSError(errno: ENOENT, "no such entry: \(what)") }
    public static func readOnly(_ what: String) -> FSError { FSError(errno: EROFS, "read-only: \(what)") }
    public static func notPermitted(_ what: String) -> FSError { FSError(errno: EPERM, what) }
    public static func notDirectory(_ what: String) -> FSError { FSError(errno: ENOTDIR, "not a directory: \(what)") }
    public static func isDirectory(_ what: String) -> FSError { FSError(errno: EISDIR, "is a directory: \(what)") }
    public static func badHandle(_ fh: UInt64) -> FSError { FSError(errno: EBADF, "unknown file handle \(fh)") }
    /// The local disk failed at `what`.
    public static func disk(_ what: String, errno code: Int32 = EIO) -> FSError {
        FSError(errno: code, what, source: .disk)
    }
    /// The server failed at `what`.
    public static func server(_ what: String, errno code: Int32 = EIO) -> FSError {
        FSError(errno: code, what, source: .server)
    }
}
