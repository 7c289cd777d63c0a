import Foundation

/// The attributes of one node, in filesystem terms; the FUSE layer turns them into `stat`.
public struct FileAttributes: Sendable, Equatable {
    public enum Kind: Sendable { case directory, regular, symlink }

    public var inode: UInt64
    public var kind: Kind
    public var permissions: UInt16
    public var size: Int64
    public var modified: Date
    public var linkCount: UInt32
    /// Content that changes between calls (generated files): the kernel must not cache the size.
    public var isVolatile = false

    public init(inode: UInt64, kind: Kind, permissions: UInt16, size: Int64, modified: Date, linkCount: UInt32 = 1) {
        self.inode = inode
        self.kind = kind
        self.permissions = permissions
        self.size = size
        self.modified = modified
        self.linkCount = linkCount
    }
}

/// A directory entry the kernel may cache, with how long it may trust it.
public struct Entry: Sendable, Equatable {
    public var attributes: FileAttributes
    public var timeout: Double

    public var inode: UInt64 { attributes.inode }
}

/// One line of a directory listing. `.` and `..` carry no kernel reference.
public struct DirectoryEntry: Sendable {
    public var name: String
    public var key: NodeKey
    public var attributes: FileAttributes
    public var isDotEntry: Bool { name == "." || name == ".." }
}

/// What `open` decided for a file.
public struct OpenedFile: Sendable, Equatable {
    public var handle: UInt64
    /// Reads bypass the page cache and may end before `st_size` (generated and unknown-size files).
    public var directIO: Bool
    /// The page cache from an earlier open is still valid.
    public var keepCache: Bool
}
