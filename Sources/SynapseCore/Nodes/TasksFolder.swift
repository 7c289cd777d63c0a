import Foundation

/// `tasks/`: a folder per task of the account, `by-name/`, and drafts made with mkdir.
struct TasksFolder: FixedFolder {
    let fs: SynapseFilesystem
    var key: NodeKey { .tasks }
    var parent: NodeKey { .root }
    var permissions: UInt16 { 0o755 }

    func child(named name: String) throws(FSError) -> NodeKey {
        if name == TaskCatalog.byNameFolder { return .byName }
        return .task(try fs.catalog.task(inFolder: name).id)
    }

    func children() throws(FSError) -> [(name: String, key: NodeKey)] {
        [(TaskCatalog.byNameFolder, .byName)] + (try fs.catalog.listing().folders.map { ($0.name, .task($0.task.id)) })
    }

    func create(named name: String, exclusive: Bool, appending: Bool) throws(FSError) -> (NodeKey, OpenedFile) {
        throw FSError(errno: EPERM, "tasks/ holds task folders: make one with mkdir")
    }

    /// A draft: a new task id, the folder keeps its name.
    func makeFolder(named name: String) throws(FSError) -> NodeKey {
        let task = try fs.catalog.createDraft(named: name)
        fs.logger.info("draft created", metadata: ["folder": "\(name)", "task": "\(task.id)"])
        return .task(task.id)
    }

    /// Task folders are never removed by rmdir or rm -r: `echo delete > ctl` deletes a task.
    func removeFolder(named name: String) throws(FSError) {
        throw FSError(errno: EPERM, "rmdir of task folder \(name) refused: use `echo delete > ctl` (needs --allow-delete)")
            .logged(at: .notice)
    }

    func rename(_ name: String, to newName: String, in target: any Node) throws(FSError) {
        throw FSError(errno: EPERM, "task folders cannot be renamed")
    }
}

/// `tasks/by-name/`: a link per task, named for humans.
struct ByNameFolder: FixedFolder {
    let fs: SynapseFilesystem
    var key: NodeKey { .byName }
    var parent: NodeKey { .tasks }

    func child(named name: String) throws(FSError) -> NodeKey {
        _ = try fs.catalog.folder(named: name)
        return .byNameLink(name)
    }

    func children() throws(FSError) -> [(name: String, key: NodeKey)] {
        try fs.catalog.listing().names.map { ($0, .byNameLink($0)) }
    }
}

/// `tasks/by-name/NAME -> ../FOLDER`.
struct ByNameLink: Node {
    let fs: SynapseFilesystem
    let name: String
    var key: NodeKey { .byNameLink(name) }
    var parent: NodeKey { .byName }

    var target: String {
        get throws(FSError) { "../" + (try fs.catalog.folder(named: name)) }
    }

    func attributes(inode: UInt64) throws(FSError) -> FileAttributes {
        FileAttributes(inode: inode, kind: .symlink, permissions: 0o777, size: Int64(try target.utf8.count), modified: fs.mountedAt)
    }

    func open(_ mode: OpenMode) throws(FSError) -> OpenedFile {
        throw FSError(errno: ELOOP, "a by-name link is followed by the kernel, not opened")
    }
}
