import Foundation

/// `uploads/`: files written here are spooled on disk and uploaded into the task when their
/// writer closes them; the folder lists what is uploaded and what is still pending.
extension SynapseFilesystem {
    /// The folder of the task's workspace that holds what `taskUpload` archived.
    static let uploadedFolder = "upload_documents"

    /// Uploaded files (from the workspace listing) and spooled ones; a spooled name wins.
    func uploadNames(of taskId: String) -> [String] {
        let onServer = uploadedFiles(of: taskId)
        var names = Set(onServer.keys)
        for entry in spool.entries(of: taskId) {
            // An uploaded record has done its job once the server lists the file.
            if entry.phase == .uploaded, onServer[entry.name] != nil, spool.removeIfDone(entry.id) { continue }
            names.insert(entry.name)
        }
        return names.sorted()
    }

    func uploadedFiles(of taskId: String) -> [String: WorkspaceTree.File] {
        guard let tree = try? workspace(of: taskId), let children = tree.children(of: Self.uploadedFolder) else { return [:] }
        var files: [String: WorkspaceTree.File] = [:]
        for (name, node) in children { if case .file(let file) = node { files[name] = file } }
        return files
    }

    func uploadAttributes(taskId: String, name: String, inode: UInt64) throws(FSError) -> FileAttributes {
        if let entry = spool.entry(taskId, named: name) {
            return FileAttributes(inode: inode, kind: .regular, permissions: entry.phase == .uploaded ? 0o444 : 0o644,
                                  size: spool.size(of: entry.id), modified: entry.createdAt)
        }
        guard let file = uploadedFiles(of: taskId)[name] else { throw .notFound(name) }
        return FileAttributes(inode: inode, kind: .regular, permissions: 0o444, size: file.size ?? 0, modified: file.mtime ?? mountedAt)
    }

    func openUpload(taskId: String, name: String, writing: Bool, truncating: Bool) throws(FSError) -> OpenedFile {
        if writing || truncating {
            // The server's copy cannot be edited, and the seed does not say that uploading a
            // name again replaces it: an uploaded file is read-only, like its mode says.
            guard let found = spool.entry(taskId, named: name),
                  let entry = spool.openForWriting(found.id, temporary: UploadSpool.isTemporary(name)) else {
                throw .readOnly("\(name) is already uploaded; uploaded files cannot be changed")
            }
            let id = entry.id
            let fd = Glibc.open(spool.dataURL(id).path, (writing ? O_RDWR : O_RDONLY) | O_CLOEXEC | (truncating ? O_TRUNC : 0))
            guard fd >= 0 else {
                spool.writerReleased(id)
                throw .disk("spool file of \(name): \(String(cString: strerror(errno)))")
            }
            if truncating {
                spool.contentChanged(id)
                uploader.resized(id, to: 0)
            }
            return OpenedFile(handle: handles.insert(.upload(UploadHandle(fd: fd, entryId: id, dirty: truncating))), directIO: false, keepCache: false)
        }
        if let entry = spool.entry(taskId, named: name) {
            let fd = Glibc.open(spool.dataURL(entry.id).path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw .disk("spool file of \(name): \(String(cString: strerror(errno)))") }
            return OpenedFile(handle: handles.insert(.scratch(ScratchHandle(fd: fd))), directIO: true, keepCache: false)
        }
        guard let file = uploadedFiles(of: taskId)[name] else { throw .notFound(name) }
        try Self.checkListedSize(of: file)
        let (reader, _) = try cache.openReader(for: cachedIdentity(of: file, taskId: taskId))
        return OpenedFile(handle: handles.insert(.workspace(reader)), directIO: file.size == nil, keepCache: false)
    }

    func createUpload(taskId: String, name: String) throws(FSError) -> OpenedFile {
        guard remote.capabilities.uploads else { throw .readOnly("this server takes no files: uploads/ is read-only") }
        let created = try spool.create(taskId: taskId, name: name)
        guard let entry = spool.openForWriting(created.id, temporary: UploadSpool.isTemporary(name)) else { throw .notFound(name) }
        let fd = Glibc.open(spool.dataURL(entry.id).path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else {
            spool.writerReleased(entry.id)
            throw .disk("spool file of \(name): \(String(cString: strerror(errno)))")
        }
        // Not dirty: a close before any write (the shell's `> file` closes its first descriptor
        // before writing through the dup) must not upload an empty file and call it done. A
        // file closed without a write (`touch`) is queued when its last handle is released.
        return OpenedFile(handle: handles.insert(.upload(UploadHandle(fd: fd, entryId: entry.id, dirty: false))),
                          directIO: false, keepCache: false)
    }

    /// Truncation of a pending upload (an uploaded file cannot change).
    func truncateUpload(taskId: String, name: String, to size: Int64, handle: UInt64?) throws(FSError) {
        guard let entry = spool.entry(taskId, named: name), entry.phase != .uploaded else {
            throw .readOnly("\(name) is already uploaded; uploaded files cannot be changed")
        }
        try Syscall.check(Glibc.truncate(spool.dataURL(entry.id).path, off_t(size)), "truncating \(name)")
        spool.contentChanged(entry.id)
        uploader.resized(entry.id, to: size)
        if let handle, case .upload(let upload) = try handles.get(handle) { upload.dirty.store(true, ordering: .relaxed) }
    }

    /// Close and fsync: a final name is uploaded now and the outcome returned; a temporary
    /// name stays local until it is renamed.
    func flushUpload(_ handle: UploadHandle) throws(FSError) {
        guard handle.dirty.exchange(false, ordering: .relaxed) else { return }
        guard let entry = spool.entry(id: handle.entryId), entry.phase != .held else { return }
        try uploader.uploadNow(entry.id)
    }

    func unlinkUpload(taskId: String, name: String) throws(FSError) {
        if let entry = spool.entry(taskId, named: name), entry.phase != .uploaded {
            uploader.abandonLive(entry.id)
            spool.remove(entry.id)
            return
        }
        guard uploadedFiles(of: taskId)[name] != nil || spool.entry(taskId, named: name) != nil else { throw .notFound(name) }
        // (a local copy of an uploaded file goes once the server lists it)
        throw .readOnly("\(name) is already uploaded; remove it on the server")
    }

    /// rsync and editors write a temporary name, then rename it: the rename releases the upload.
    func renameUpload(taskId: String, from: String, to: String) throws(FSError) {
        guard let entry = spool.entry(taskId, named: from), entry.phase != .uploaded else {
            throw uploadedFiles(of: taskId)[from] != nil ? .readOnly("\(from) is already uploaded") : .notFound(from)
        }
        let replaced = spool.entry(taskId, named: to)
        if replaced?.phase == .uploaded || (replaced == nil && uploadedFiles(of: taskId)[to] != nil) {
            throw .readOnly("\(to) is already uploaded; uploaded files cannot be replaced")
        }
        if let replaced, replaced.id != entry.id {
            uploader.abandonLive(replaced.id)
            spool.remove(replaced.id)
        }
        uploader.abandonLive(entry.id)
        spool.update(entry.id) { e in
            e.name = to
            // A final name releases a held file, and gives a failed one a fresh try.
            if e.phase == .held || e.phase == .failed, !UploadSpool.isTemporary(to) {
                e.phase = .pending
                e.nextAttemptAt = nil
            }
        }
        // An upload of it in flight carries the old name: it must not count as done.
        spool.contentChanged(entry.id)
        inodes.rename(.upload(taskId, from), to: .upload(taskId, to))
        uploader.wakeUp()
    }

    func uploadsStatus() -> [[String: Any]] {
        spool.all.filter { $0.phase != .uploaded || $0.attachment != nil }.map { entry in
            let state = entry.attachment != nil ? "attached to the next prompt" : entry.phase.rawValue
            var item: [String: Any] = ["task": entry.taskId, "name": entry.name, "state": state,
                                       "bytes": spool.size(of: entry.id), "attempts": entry.attempts]
            item["reason"] = entry.reason
            item["nextAttemptAt"] = entry.nextAttemptAt.flatMap { $0 == .distantFuture ? nil : GeneratedFiles.iso8601($0) }
            return item
        }
    }
}
