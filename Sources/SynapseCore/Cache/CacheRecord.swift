import Foundation

/// `<key>.json`: which remote file, in which version, `<key>.data` holds bytes of, and which
/// byte ranges of it are on disk. It is rewritten only after the data it lists is synced, so
/// every range it names is present even after a crash.
struct CacheRecord: Codable, Equatable {
    /// The workspace the file is of (backend, server, scope); nil in records of 0.11, which
    /// keyed files by task: those are fetched again.
    var scope: String?
    var taskId: String
    var remotePath: String
    /// The listing's size and mtime the bytes belong to (nil when the listing had none).
    var listedSize: Int64?
    var listedMtime: Date?
    /// The file's whole size once known (the listing's, or the server's at the end of a transfer).
    var size: Int64?
    var ranges: ByteRanges
    /// The server's name for the version the ranges are of (ETag or Last-Modified), if it gave one.
    var validator: String?

    init(file: CachedFileIdentity, size: Int64?, ranges: ByteRanges, validator: String? = nil) {
        scope = file.scope
        taskId = file.taskId
        remotePath = file.remotePath
        listedSize = file.size
        listedMtime = file.mtime
        self.size = size
        self.ranges = ranges
        self.validator = validator
    }

    func matches(_ file: CachedFileIdentity) -> Bool {
        guard let scope else { return false }
        return file.isSameVersion(as: CachedFileIdentity(scope: scope, taskId: taskId, remotePath: remotePath, size: listedSize, mtime: listedMtime))
    }

    var isComplete: Bool {
        guard let size else { return false }
        return ranges.contains(0..<size)
    }
}

/// Which remote file, in which version (its fingerprint: listed size and mtime), a cache
/// item stands for. A file is the workspace's, not the task's: tasks sharing a workspace
/// (an agent's, a working folder's) share its cached files.
public struct CachedFileIdentity: Sendable, Hashable {
    /// The workspace: the backend's kind and server, and the scope it names.
    public var scope: String
    /// The task it is fetched through (any task of the workspace will do).
    public var taskId: String
    public var remotePath: String
    public var size: Int64?
    public var mtime: Date?

    public init(scope: String, taskId: String, remotePath: String, size: Int64?, mtime: Date?) {
        self.scope = scope
        self.taskId = taskId
        self.remotePath = remotePath
        self.size = size
        self.mtime = mtime
    }

    var key: String { CacheDirectory.key(scope, remotePath) }

    /// Same file, same fingerprint. Times compare to the millisecond: a `Date` does not
    /// survive a JSON round trip (saved listings, cache records) bit for bit.
    func isSameVersion(as other: CachedFileIdentity) -> Bool {
        scope == other.scope && remotePath == other.remotePath && size == other.size
            && Self.milliseconds(mtime) == Self.milliseconds(other.mtime)
    }

    private static func milliseconds(_ date: Date?) -> Int64? {
        // (A time from the server may be out of Int64's range: never trap on it.)
        date.map { Int64(exactly: ($0.timeIntervalSince1970 * 1000).rounded()) ?? .max }
    }
}
