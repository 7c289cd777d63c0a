import Foundation

/// `workspace/` and everything in it: the agent's files, listed by the server, read through
/// the cache, never written.
struct WorkspaceNode: Node {
    let fs: SynapseFilesystem
    let taskId: String
    /// The local (safe) path; "" is `workspace/` itself.
    let path: String
    var key: NodeKey { .workspace(taskId, path) }
    var parent: NodeKey {
        guard path.isEmpty else { return .workspace(taskId, WorkspaceTree.split(path).dir) }
        return fs.agents.lastKnown(where: { $0.workspaceId == taskId }).map { .agent($0.id) } ?? .task(taskId)
    }

    var readOnly: FSError { .readOnly("workspace files are the agent's; change them through the task") }

    func attributes(inode: UInt64) throws(FSError) -> FileAttributes {
        let tree = try fs.workspace(of: taskId)
        if tree.isDirectory(path) { return fs.folderAttributes(inode) }
        guard let file = tree.file(at: path) else { throw .notFound(path) }
        let size = file.size ?? fs.cache.completeSize(of: fs.cachedIdentity(of: file, taskId: taskId)) ?? 0
        return FileAttributes(inode: inode, kind: .regular, permissions: 0o444, size: size, modified: file.mtime ?? fs.mountedAt)
    }

    func child(named name: String) throws(FSError) -> NodeKey {
        let tree = try fs.workspace(of: taskId)
        guard tree.isDirectory(path) else { throw .notDirectory(name) }
        guard tree.child(named: name, of: path) != nil else { throw .notFound(name) }
        return .workspace(taskId, path.isEmpty ? name : path + "/" + name)
    }

    func children() throws(FSError) -> [(name: String, key: NodeKey)] {
        guard let children = try fs.workspace(of: taskId).children(of: path) else { throw .notDirectory(path) }
        return children.map { ($0.name, .workspace(taskId, path.isEmpty ? $0.name : path + "/" + $0.name)) }
    }

    func open(_ mode: OpenMode) throws(FSError) -> OpenedFile {
        guard !mode.writing, !mode.truncating else { throw readOnly }
        let tree = try fs.workspace(of: taskId)
        guard let file = tree.file(at: path) else { throw tree.isDirectory(path) ? .isDirectory(path) : .notFound(path) }
        let opened = try fs.openWorkspaceFile(file, taskId: taskId)
        fs.walkAhead.opened(path, in: tree, scope: fs.workspaceScope(of: taskId)) { fs.cachedIdentity(of: $0, taskId: taskId) }
        return opened
    }
}
