import Foundation

public struct FilesystemConfiguration: Sendable {
    /// Shown in `.synapsefs/status.json`.
    public var serverDescription: String
    public var cacheDirectory: CacheDirectory
    /// How long the task list is reused before it is fetched again.
    public var taskListTTL: Double = 10
    /// How long a task's messages and workspace listing are reused.
    public var taskDetailsTTL: Double = 2
    /// How long the kernel may cache entries and attributes.
    public var kernelTimeout: Double = 1
    /// The file cache's size limit (`--cache-size`), and the free space it always leaves.
    public var cacheLimit: Int64 = 10 << 30
    public var freeSpaceFloor: Int64 = 1 << 30
    /// The longest an operation waits on the network for what it needs (twice the idle
    /// timeout): a read for its bytes, an upload for one already running.
    public var operationTimeLimit: Double = 30
    /// Other users may write what the owner may (`--allow-other-writes`, with `-o allow_other`):
    /// send prompts, run ctl commands, upload, make drafts, all with the owner's API key.
    public var othersMayWrite = false
    /// `echo delete > ctl` deletes the task only when set (`--allow-delete`).
    public var allowDelete = false
    /// Who files and folders belong to (`--uid`, `--gid`; default: who mounted).
    public var owner = Owner(uid: getuid(), gid: getgid())
    /// Mode bits taken away from every file and folder (`--umask`).
    public var umask: UInt16 = 0
    /// Mounted read-only (`--read-only`, `-o ro`): nothing shows a write bit, the kernel refuses writes.
    public var readOnly = false
    /// Told when a task the mount saw in another state completes, fails or starts waiting
    /// (`--on-event`); called on the thread that noticed, so it must not block.
    public var taskChanged: (@Sendable (TaskChange) -> Void)?

    public init(serverDescription: String, cacheDirectory: CacheDirectory) {
        self.serverDescription = serverDescription
        self.cacheDirectory = cacheDirectory
    }
}

/// The owner every node of the mount shows.
public struct Owner: Sendable, Equatable {
    public var uid: UInt32
    public var gid: UInt32

    public init(uid: UInt32, gid: UInt32) {
        self.uid = uid
        self.gid = gid
    }
}
