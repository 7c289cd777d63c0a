import Foundation

/// `uploads/`: files created here are spooled and uploaded into the task; it lists what is
/// uploaded and what is still pending.
struct UploadsFolder: Node {
    let fs: SynapseFilesystem
    let taskId: String
    var key: NodeKey { .uploads(taskId) }
    var parent: NodeKey { .task(taskId) }

    func attributes(inode: UInt64) throws(FSError) -> FileAttributes { fs.folderAttributes(inode, permissions: 0o755) }

    func child(named name: String) throws(FSError) -> NodeKey {
        guard fs.spool.entry(taskId, named: name) != nil || fs.uploadedFiles(of: taskId)[name] != nil else { throw .notFound(name) }
        return .upload(taskId, name)
    }

    func children() throws(FSError) -> [(name: String, key: NodeKey)] {
        fs.uploadNames(of: taskId).map { ($0, .upload(taskId, $0)) }
    }

    func create(named name: String, exclusive: Bool, appending: Bool) throws(FSError) -> (NodeKey, OpenedFile) {
        (.upload(taskId, name), try fs.createUpload(taskId: taskId, name: name))
    }

    func makeFolder(named name: String) throws(FSError) -> NodeKey { throw FSError(errno: EPERM, "uploads/ is flat") }

    func remove(named name: String) throws(FSError) { try fs.unlinkUpload(taskId: taskId, name: name) }

    func rename(_ name: String, to newName: String, in target: any Node) throws(FSError) {
        guard case .uploads(let targetId) = target.key else { throw readOnly }
        guard targetId == taskId else { throw FSError(errno: EXDEV, "files cannot move between tasks") }
        try fs.renameUpload(taskId: taskId, from: name, to: newName)
    }

    func truncate(to size: Int64, handle: UInt64?) throws(FSError) { throw .isDirectory("\(key)") }
}

/// A file in `uploads/`: pending in the spool, or already uploaded (then read-only).
struct UploadFile: Node {
    let fs: SynapseFilesystem
    let taskId: String
    let name: String
    var key: NodeKey { .upload(taskId, name) }
    var parent: NodeKey { .uploads(taskId) }

    func attributes(inode: UInt64) throws(FSError) -> FileAttributes { try fs.uploadAttributes(taskId: taskId, name: name, inode: inode) }

    func open(_ mode: OpenMode) throws(FSError) -> OpenedFile {
        try fs.openUpload(taskId: taskId, name: name, writing: mode.writing, truncating: mode.truncating)
    }

    func truncate(to size: Int64, handle: UInt64?) throws(FSError) { try fs.truncateUpload(taskId: taskId, name: name, to: size, handle: handle) }
}
