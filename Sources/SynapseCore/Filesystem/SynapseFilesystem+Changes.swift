import Foundation

/// Writing to the mount: prompts and commands in task folders, drafts in tasks/, editors'
/// scratch files. Everything else is read-only.
extension SynapseFilesystem {
    public func create(parent: UInt64, name: String, exclusive: Bool, appending: Bool) throws(FSError) -> (Entry, OpenedFile) {
        let parentKey = try key(for: parent)
        if case .uploads(let id) = parentKey { return try createUpload(taskId: id, name: name) }
        guard case .task(let id) = parentKey else {
            if case .tasks = parentKey { throw FSError(errno: EPERM, "tasks/ holds task folders: make one with mkdir") }
            throw readOnlyError(parentKey)
        }
        let key: NodeKey
        let opened: OpenedFile
        if let kind = TaskFileKind(rawValue: name) {
            guard kind.isWritable else { throw .readOnly("\(name) is written by the mount") }
            key = .taskFile(id, kind)
            opened = openWriter(kind, taskId: id, appending: appending)
        } else if name == "workspace" || name == "uploads" {
            throw FSError(errno: EEXIST, "\(name) exists")
        } else {
            key = .scratch(id, name)
            let fd = try scratch.open(name, taskId: id, flags: O_RDWR | O_CREAT | (exclusive ? O_EXCL : 0) | (appending ? O_APPEND : 0))
            opened = OpenedFile(handle: handles.insert(.scratch(ScratchHandle(fd: fd))), directIO: true, keepCache: false)
        }
        let ino = inodes.lookup(key)
        return (Entry(attributes: try getattr(ino), timeout: configuration.kernelTimeout), opened)
    }

    public func write(_ fh: UInt64, at offset: Int64, _ bytes: UnsafeRawBufferPointer) throws(FSError) -> Int {
        switch try handles.get(fh) {
        case .writer(.ctl, let taskId, _):
            // Acted on at write(), a whole command per write (like sysfs): the shell reports a
            // refusal, which it would not from close().
            try actions.run(command: Data(bytes), taskId: taskId)
            return bytes.count
        case .writer(_, _, let buffer):
            return try buffer.write(bytes, at: offset)
        case .scratch(let file):
            let n = pwrite(file.fd, bytes.baseAddress, bytes.count, off_t(offset))
            guard n >= 0 else { throw FSError(errno: errno, "writing a scratch file") }
            return n
        case .upload(let handle):
            let n = pwrite(handle.file.fd, bytes.baseAddress, bytes.count, off_t(offset))
            guard n >= 0 else { throw FSError(errno: errno == ENOSPC ? ENOSPC : EIO, "writing the upload spool") }
            handle.dirty.store(true, ordering: .relaxed)
            spool.contentChanged(handle.entryId)
            uploader.wrote(handle.entryId, at: offset, count: n)
            return n
        default:
            throw FSError(errno: EBADF, "handle \(fh) is not open for writing")
        }
    }

    /// Called at every close(): a prompt is sent, a command run, and the outcome is what
    /// close() returns. Only what was written since the last flush is acted on.
    public func flush(_ fh: UInt64) throws(FSError) {
        let handle = try handles.get(fh)
        if case .upload(let upload) = handle { return try flushUpload(upload) }
        guard case .writer(let kind, let taskId, let buffer) = handle else { return }
        let content: Data
        do {
            guard let taken = try buffer.takeForFlush() else { return }
            content = taken
        } catch {
            if kind == .prompt { notices.add("prompt not sent: it is over \(buffer.limit) bytes", taskId: taskId) }
            throw error
        }
        switch kind {
        case .prompt: try sendPrompt(content, taskId: taskId)
        case .ctl: try actions.run(command: content, taskId: taskId)
        default: break
        }
    }

    /// Sends a prompt; once sent, an earlier error notification no longer decides the status.
    func sendPrompt(_ content: Data, taskId: String) throws(FSError) {
        if isDraft(taskId) { activity.observe(taskId, .draft) }
        try actions.sendPrompt(content, taskId: taskId)
        failures.clear(taskId)
        activity.observe(taskId, .running)
    }

    public func fsync(_ fh: UInt64) throws(FSError) {
        if case .scratch(let file) = try handles.get(fh) {
            guard Glibc.fsync(file.fd) == 0 else { throw FSError(errno: errno, "fsync of a scratch file") }
            return
        }
        try flush(fh)
    }

    /// Truncation and mode or time changes. Writable files accept them (editors set modes);
    /// read-only ones refuse a size change.
    public func setattr(_ ino: UInt64, size: Int64?, handle: UInt64?) throws(FSError) -> FileAttributes {
        let key = try key(for: ino)
        switch key {
        case .taskFile(_, let kind) where kind.isWritable:
            if let size, let handle, case .writer(_, _, let buffer) = try handles.get(handle) { buffer.truncate(to: size) }
        case .scratch(let id, let name):
            if let size, truncate(scratch.url(name, taskId: id).path, off_t(size)) != 0 {
                throw FSError(errno: errno, "truncating a scratch file")
            }
        case .upload(let id, let name):
            if let size {
                guard let entry = spool.entry(id, named: name), entry.phase != .uploaded else {
                    throw .readOnly("\(name) is already uploaded; uploaded files cannot be changed")
                }
                guard truncate(spool.dataURL(entry.id).path, off_t(size)) == 0 else { throw FSError(errno: EIO, "truncating \(name)") }
                spool.contentChanged(entry.id)
                uploader.resized(entry.id, to: size)
                if let handle, case .upload(let upload) = try handles.get(handle) { upload.dirty.store(true, ordering: .relaxed) }
            }
        case .task, .tasks, .uploads:
            if size != nil { throw .isDirectory("\(key)") }
        default:
            if size != nil { throw readOnlyError(key) }
        }
        return try getattr(ino)
    }

    public func mkdir(parent: UInt64, name: String) throws(FSError) -> Entry {
        let parentKey = try key(for: parent)
        switch parentKey {
        case .tasks:
            let task = try catalog.createDraft(named: name)
            logger.info("draft created", metadata: ["folder": "\(name)", "task": "\(task.id)"])
            let ino = inodes.lookup(.task(task.id))
            return Entry(attributes: try getattr(ino), timeout: configuration.kernelTimeout)
        case .task, .uploads:
            throw FSError(errno: EPERM, "a task folder holds only its own files; uploads/ is flat")
        default:
            throw readOnlyError(parentKey)
        }
    }

    public func unlink(parent: UInt64, name: String) throws(FSError) {
        let parentKey = try key(for: parent)
        if case .uploads(let id) = parentKey { return try unlinkUpload(taskId: id, name: name) }
        guard case .task(let id) = parentKey else { throw readOnlyError(parentKey) }
        if TaskFileKind(rawValue: name) != nil || name == "workspace" || name == "uploads" {
            throw FSError(errno: EPERM, "\(name) is part of the task and cannot be removed")
        }
        try scratch.remove(name, taskId: id)
    }

    /// Task folders are never removed by rmdir or rm -r: `echo delete > ctl` deletes a task.
    public func rmdir(parent: UInt64, name: String) throws(FSError) {
        let parentKey = try key(for: parent)
        if case .tasks = parentKey {
            logger.notice("rmdir of task folder \(name) refused: use `echo delete > ctl` (needs --allow-delete)")
            throw FSError(errno: EPERM, "task folders are not removed by rmdir; write delete to ctl")
        }
        throw readOnlyError(parentKey)
    }

    /// Renames inside one task folder, as editors save: a scratch file renamed over
    /// prompt.txt is sent as the prompt; prompt.txt renamed away leaves a scratch copy.
    public func rename(parent: UInt64, name: String, newParent: UInt64, newName: String) throws(FSError) {
        let from = try key(for: parent)
        let to = try key(for: newParent)
        if case .uploads(let id) = from, case .uploads(let targetID) = to {
            guard id == targetID else { throw FSError(errno: EXDEV, "files cannot move between tasks") }
            return try renameUpload(taskId: id, from: name, to: newName)
        }
        guard case .task(let id) = from, case .task(let targetID) = to else {
            if case .tasks = from { throw FSError(errno: EPERM, "task folders cannot be renamed") }
            throw readOnlyError(from)
        }
        guard id == targetID else { throw FSError(errno: EXDEV, "files cannot move between task folders") }
        let sourceKind = TaskFileKind(rawValue: name)
        let targetKind = TaskFileKind(rawValue: newName)
        switch (sourceKind, targetKind) {
        case (nil, .some(let kind)) where kind.isWritable:
            guard let content = scratch.read(name, taskId: id) else { throw .notFound(name) }
            if kind == .prompt { try sendPrompt(content, taskId: id) } else { try actions.run(command: content, taskId: id) }
            try scratch.remove(name, taskId: id)
            inodes.rename(.scratch(id, name), to: .taskFile(id, kind))
        case (.some(.prompt), nil) where newName != "workspace":
            try scratch.write(local.lastPrompt(of: id), as: newName, taskId: id)
            inodes.rename(.taskFile(id, .prompt), to: .scratch(id, newName))
        case (nil, nil) where ![name, newName].contains("workspace") && ![name, newName].contains("uploads"):
            try scratch.rename(name, to: newName, taskId: id)
            inodes.rename(.scratch(id, name), to: .scratch(id, newName))
        default:
            throw FSError(errno: EPERM, "\(name) cannot be renamed to \(newName) in a task folder")
        }
    }
}
