import Foundation

/// A task's folder: its generated files, prompt.txt and ctl, `workspace/`, `uploads/`, and
/// the scratch files editors leave beside what they save (kept local). A run of an
/// orchestration is a task whose folder is in the orchestration's `runs/`.
struct TaskFolder: Node {
    let fs: SynapseFilesystem
    let id: String
    var key: NodeKey { .task(id) }
    var parent: NodeKey { orchestration.map { .runs($0) } ?? .tasks }

    private var orchestration: String? { fs.catalog.knownTask(id: id)?.orchestration }

    /// The files the task has: `agent` only where a task chooses its agent (a run's steps name theirs).
    private var files: [TaskFileKind] {
        TaskFileKind.allCases.filter { $0 != .agent || (fs.remote.capabilities.agentChoice && orchestration == nil) }
    }

    func attributes(inode: UInt64) throws(FSError) -> FileAttributes {
        let task = fs.catalog.knownTask(id: id)
        return fs.folderAttributes(inode, modified: task?.updatedAt ?? task?.createdAt, permissions: 0o755)
    }

    /// Whether the task has `workspace/` and `uploads/` (a server without files: neither).
    private var hasFiles: Bool { fs.remote.capabilities.files }

    func child(named name: String) throws(FSError) -> NodeKey {
        if name == "workspace" || name == "uploads" {
            guard hasFiles else { throw .notFound(name) }
            return name == "workspace" ? .workspace(id, "") : .uploads(id)
        }
        if let kind = TaskFileKind(rawValue: name), files.contains(kind) { return .taskFile(id, kind) }
        guard fs.scratch.exists(name, taskId: id) else { throw .notFound(name) }
        return .scratch(id, name)
    }

    func children() throws(FSError) -> [(name: String, key: NodeKey)] {
        files.map { ($0.rawValue, .taskFile(id, $0)) }
            + (hasFiles ? [("workspace", .workspace(id, "")), ("uploads", .uploads(id))] : [])
            + fs.scratch.names(of: id).map { ($0, .scratch(id, $0)) }
    }

    /// prompt.txt and ctl are written; any other new name is an editor's scratch file.
    func create(named name: String, exclusive: Bool, appending: Bool) throws(FSError) -> (NodeKey, OpenedFile) {
        if let kind = TaskFileKind(rawValue: name), files.contains(kind) {
            guard kind.isWritable else { throw .readOnly("\(name) is written by the mount") }
            return (.taskFile(id, kind), fs.openWriter(kind, taskId: id, appending: appending))
        }
        if name == "workspace" || name == "uploads" { throw FSError(errno: EEXIST, "\(name) exists") }
        let fd = try fs.scratch.open(name, taskId: id, flags: O_RDWR | O_CREAT | (exclusive ? O_EXCL : 0) | (appending ? O_APPEND : 0))
        return (.scratch(id, name), fs.openScratch(fd))
    }

    func makeFolder(named name: String) throws(FSError) -> NodeKey {
        throw FSError(errno: EPERM, "a task folder holds only its own files")
    }

    func remove(named name: String) throws(FSError) {
        if TaskFileKind(rawValue: name).map(files.contains) == true || name == "workspace" || name == "uploads" {
            throw FSError(errno: EPERM, "\(name) is part of the task and cannot be removed")
        }
        try fs.scratch.remove(name, taskId: id)
    }

    func removeFolder(named name: String) throws(FSError) { throw readOnly }

    /// As editors save: a scratch file renamed over prompt.txt is sent as the prompt (over ctl,
    /// run); prompt.txt renamed away leaves a scratch copy; scratch files rename freely.
    func rename(_ name: String, to newName: String, in target: any Node) throws(FSError) {
        guard case .task(let targetId) = target.key else { throw readOnly }
        guard targetId == id else { throw FSError(errno: EXDEV, "files cannot move between task folders") }
        // Names of task files this folder does not have are scratch names here.
        let kind = { (name: String) in TaskFileKind(rawValue: name).flatMap { files.contains($0) ? $0 : nil } }
        switch (kind(name), kind(newName)) {
        case (nil, .some(let kind)) where kind.isWritable:
            guard let content = fs.scratch.read(name, taskId: id) else { throw .notFound(name) }
            switch kind {
            case .prompt: try fs.sendPrompt(content, taskId: id)
            case .agent: try fs.actions.chooseAgent(content, taskId: id, among: fs.agents)
            default: try fs.actions.run(command: content, taskId: id)
            }
            try fs.scratch.remove(name, taskId: id)
            fs.inodes.rename(.scratch(id, name), to: .taskFile(id, kind))
        case (.some(let kind), nil) where (kind == .prompt || kind == .agent) && newName != "workspace" && newName != "uploads":
            // An editor's backup (`prompt.txt~`): a scratch copy of what the file reads.
            try fs.scratch.write(try fs.generatedContent(kind, taskId: id), as: newName, taskId: id)
            fs.inodes.rename(.taskFile(id, kind), to: .scratch(id, newName))
        case (nil, nil) where ![name, newName].contains("workspace") && ![name, newName].contains("uploads"):
            try fs.scratch.rename(name, to: newName, taskId: id)
            fs.inodes.rename(.scratch(id, name), to: .scratch(id, newName))
        default:
            throw FSError(errno: EPERM, "\(name) cannot be renamed to \(newName) in a task folder")
        }
    }

    func truncate(to size: Int64, handle: UInt64?) throws(FSError) { throw .isDirectory("\(key)") }
}

/// An editor's scratch file in a task folder (`.prompt.txt.swp`, `4913`, `prompt.txt~`): a
/// real file in the state directory, never sent.
struct ScratchFile: Node {
    let fs: SynapseFilesystem
    let taskId: String
    let name: String
    var key: NodeKey { .scratch(taskId, name) }
    var parent: NodeKey { .task(taskId) }

    func attributes(inode: UInt64) throws(FSError) -> FileAttributes {
        guard let size = fs.scratch.size(name, taskId: taskId) else { throw .notFound(name) }
        return FileAttributes(inode: inode, kind: .regular, permissions: 0o644, size: size, modified: Date())
    }

    func open(_ mode: OpenMode) throws(FSError) -> OpenedFile {
        let flags = (mode.writing ? O_RDWR : O_RDONLY) | (mode.truncating ? O_TRUNC : 0) | (mode.appending ? O_APPEND : 0)
        return fs.openScratch(try fs.scratch.open(name, taskId: taskId, flags: flags))
    }

    func truncate(to size: Int64, handle: UInt64?) throws(FSError) {
        try Syscall.check(Glibc.truncate(fs.scratch.url(name, taskId: taskId).path, off_t(size)), "truncating a scratch file")
    }
}
