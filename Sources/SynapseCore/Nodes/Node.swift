import Foundation

/// How a file is opened.
struct OpenMode {
    var writing: Bool
    var truncating: Bool
    var appending: Bool
}

/// One kind of node of the mount: what it holds, how it looks, how it opens, and what
/// changing it does. Each kind is its own small type, named for the domain;
/// `SynapseFilesystem.node(for:)` is the one place a key becomes one. What a kind does not
/// override it refuses as a read-only node would.
protocol Node {
    var key: NodeKey { get }
    /// The folder holding it (the root holds itself).
    var parent: NodeKey { get }
    /// Why it cannot be changed (what its refusals say).
    var readOnly: FSError { get }
    /// Its attributes as its owner sees them (the mount narrows them for others, read-only
    /// mounts and the umask).
    func attributes(inode: UInt64) throws(FSError) -> FileAttributes
    // Folders:
    func child(named name: String) throws(FSError) -> NodeKey
    func children() throws(FSError) -> [(name: String, key: NodeKey)]
    func create(named name: String, exclusive: Bool, appending: Bool) throws(FSError) -> (NodeKey, OpenedFile)
    func makeFolder(named name: String) throws(FSError) -> NodeKey
    func remove(named name: String) throws(FSError)
    func removeFolder(named name: String) throws(FSError)
    /// Renames `name` in this folder to `newName` in `target`.
    func rename(_ name: String, to newName: String, in target: any Node) throws(FSError)
    // Files:
    func open(_ mode: OpenMode) throws(FSError) -> OpenedFile
    func truncate(to size: Int64, handle: UInt64?) throws(FSError)
}

extension Node {
    var isFolder: Bool { (try? children()) != nil }

    /// Why this node cannot be changed.
    var readOnly: FSError { .readOnly("this part of the mount is read-only") }

    func child(named name: String) throws(FSError) -> NodeKey { throw .notDirectory(name) }
    func children() throws(FSError) -> [(name: String, key: NodeKey)] { throw .notDirectory("\(key)") }
    func create(named name: String, exclusive: Bool, appending: Bool) throws(FSError) -> (NodeKey, OpenedFile) { throw readOnly }
    func makeFolder(named name: String) throws(FSError) -> NodeKey { throw readOnly }
    func remove(named name: String) throws(FSError) { throw readOnly }
    func removeFolder(named name: String) throws(FSError) { throw readOnly }
    func rename(_ name: String, to newName: String, in target: any Node) throws(FSError) { throw readOnly }
    func open(_ mode: OpenMode) throws(FSError) -> OpenedFile { throw .isDirectory("\(key)") }
    func truncate(to size: Int64, handle: UInt64?) throws(FSError) { throw readOnly }
}

/// A folder of the mount that only holds what the mount puts there.
protocol FixedFolder: Node {
    var fs: SynapseFilesystem { get }
    var permissions: UInt16 { get }
}

extension FixedFolder {
    var permissions: UInt16 { 0o555 }
    func attributes(inode: UInt64) throws(FSError) -> FileAttributes { fs.folderAttributes(inode, permissions: permissions) }
    func truncate(to size: Int64, handle: UInt64?) throws(FSError) { throw .isDirectory("\(key)") }
}
