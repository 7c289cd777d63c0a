import Foundation

/// Writing to the mount: prompts and commands in task folders, drafts in tasks/, editors'
/// scratch files. Everything else is read-only.
extension SynapseFilesystem {
    public func create(parent: UInt64, name: String, exclusive: Bool, appending: Bool) throws(FSError) -> (Entry, OpenedFile) {
        let (key, opened) = try node(for: try key(for: parent)).create(named: name, exclusive: exclusive, appending: appending)
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
        case .writer(.agent, let taskId, _):
            // The same: a whole agent name per write, its refusal seen by the shell (a line's
            // end written after the name changes nothing).
            let blank = bytes.allSatisfy { $0 == 0x0A || $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
            if !(offset > 0 && blank) { try actions.chooseAgent(Data(bytes), taskId: taskId, among: agents) }
            return bytes.count
        case .writer(_, _, let buffer):
            return try buffer.write(bytes, at: offset)
        case .scratch(let file):
            return try Syscall.check(pwrite(file.fd, bytes.baseAddress, bytes.count, off_t(offset)), "writing a scratch file")
        case .upload(let handle):
            let n = try Syscall.check(pwrite(handle.file.fd, bytes.baseAddress, bytes.count, off_t(offset)), "writing the upload spool")
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
        // Known to run (a transcript says so), not guessed: without one the prompt goes.
        if !remote.capabilities.promptWhileRunning, !isDraft(taskId), let transcript = details.transcriptIfAvailable(of: taskId),
           statusAndQuestion(of: taskId, transcript: transcript).status == .running {
            let message = "prompt not sent: the task is running and this server would interrupt the run; wait for it, or `echo cancel > ctl`"
            notices.add(message, taskId: taskId)
            throw FSError(errno: EBUSY, "\(message) (task \(taskId))")
        }
        if isDraft(taskId) { activity.observe(taskId, .draft) }
        try actions.sendPrompt(content, taskId: taskId)
        failures.clear(taskId)
        activity.observe(taskId, .running)
    }

    public func fsync(_ fh: UInt64) throws(FSError) {
        if case .scratch(let file) = try handles.get(fh) {
            try Syscall.check(Glibc.fsync(file.fd), "fsync of a scratch file")
            return
        }
        try flush(fh)
    }

    /// Truncation and mode or time changes. Writable files accept them (editors set modes);
    /// read-only ones refuse a size change.
    public func setattr(_ ino: UInt64, size: Int64?, handle: UInt64?) throws(FSError) -> FileAttributes {
        if let size { try node(for: try key(for: ino)).truncate(to: size, handle: handle) }
        return try getattr(ino)
    }

    public func mkdir(parent: UInt64, name: String) throws(FSError) -> Entry {
        let key = try node(for: try key(for: parent)).makeFolder(named: name)
        return Entry(attributes: try getattr(inodes.lookup(key)), timeout: configuration.kernelTimeout)
    }

    public func unlink(parent: UInt64, name: String) throws(FSError) {
        try node(for: try key(for: parent)).remove(named: name)
    }

    public func rmdir(parent: UInt64, name: String) throws(FSError) {
        try node(for: try key(for: parent)).removeFolder(named: name)
    }

    /// Renames within a folder of the mount (editors' saves in a task folder, uploads/); the
    /// folder decides what a rename means there.
    public func rename(parent: UInt64, name: String, newParent: UInt64, newName: String) throws(FSError) {
        try node(for: try key(for: parent)).rename(name, to: newName, in: node(for: try key(for: newParent)))
    }
}
