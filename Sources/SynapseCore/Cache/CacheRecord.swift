import Foundation

/// Says that `<key>.data` holds the whole file for this fingerprint. It is written only
/// after the data is complete and synced, so its presence is the proof of completeness.
struct CacheRecord: Codable, Equatable {
    var taskId: String
    var remotePath: String
    /// The listing's size and mtime the bytes belong to (nil when the listing had none).
    var listedSize: Int64?
    var listedMtime: Date?
    /// The bytes actually stored.
    var size: Int64

    func matches(_ file: CachedFileIdentity) -> Bool {
        taskId == file.taskId && remotePath == file.remotePath
            && listedSize == file.size && listedMtime == file.mtime
    }
}

/// Which remote file, in which version, a cache item stands for.
public struct CachedFileIdentity: Sendable, Hashable {
    public var taskId: String
    public var remotePath: String
    public var size: Int64?
    public var mtime: Date?

    public init(taskId: String, remotePath: String, size: Int64?, mtime: Date?) {
        self.taskId = taskId
        self.remotePath = remotePath
        self.size = size
        self.mtime = mtime
    }

    var key: String { CacheDirectory.key(taskId, remotePath) }
}
