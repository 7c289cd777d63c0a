import Foundation

/// A filesystem error, born with the errno the kernel will see and a message for the log.
public struct FSError: Error, Equatable, CustomStringConvertible {
    public let errno: Int32
    public let message: String

    public init(errno: Int32, _ message: String) {
        self.errno = errno
        self.message = message
    }

    public var description: String { "\(message) (errno \(errno))" }

    public static func notFound(_ what: String) -> FSError { FSError(errno: ENOENT, "no such entry: \(what)") }
    public static func readOnly(_ what: String) -> FSError { FSError(errno: EROFS, "read-only: \(what)") }
    public static func notPermitted(_ what: String) -> FSError { FSError(errno: EPERM, what) }
    public static func notDirectory(_ what: String) -> FSError { FSError(errno: ENOTDIR, "not a directory: \(what)") }
    public static func isDirectory(_ what: String) -> FSError { FSError(errno: EISDIR, "is a directory: \(what)") }
    public static func badHandle(_ fh: UInt64) -> FSError { FSError(errno: EBADF, "unknown file handle \(fh)") }
    public static func io(_ what: String) -> FSError { FSError(errno: EIO, what) }
}
