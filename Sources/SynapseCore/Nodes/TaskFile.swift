import Foundation

/// A file of a task folder the mount writes (info.json, status, messages.json, stream.log)
/// or acts on (prompt.txt, ctl).
struct TaskFile: Node {
    let fs: SynapseFilesystem
    let taskId: String
    let kind: TaskFileKind
    var key: NodeKey { .taskFile(taskId, kind) }
    var parent: NodeKey { .task(taskId) }

    func attributes(inode: UInt64) throws(FSError) -> FileAttributes {
        if kind == .streamLog {
            // Served from memory after the first use: `less +F` asks every few milliseconds.
            return fs.generatedAttributes(inode, size: Int(try fs.streamLog(of: taskId).length), permissions: 0o444, modified: Date())
        }
        // The last transcript known serves a stat (an open renders afresh, with direct I/O).
        let size = try fs.renderings.value(for: key) { () throws(FSError) -> Data in try fs.generatedContent(kind, taskId: taskId, fresh: false) }.count
        return fs.generatedAttributes(inode, size: size, permissions: kind.isWritable ? 0o644 : 0o444,
                                      modified: fs.catalog.knownTask(id: taskId)?.updatedAt ?? fs.mountedAt)
    }

    func open(_ mode: OpenMode) throws(FSError) -> OpenedFile {
        if kind.isWritable && mode.writing { return fs.openWriter(kind, taskId: taskId, appending: mode.appending) }
        guard !mode.writing, !mode.truncating else { throw readOnly }
        if kind == .streamLog {
            let log = try fs.streamLogCaughtUp(of: taskId)
            fs.logs.readerOpened(taskId)
            return OpenedFile(handle: fs.handles.insert(.log(LogReader(log: log))), directIO: true, keepCache: false)
        }
        return fs.openGenerated(try fs.generatedContent(kind, taskId: taskId), for: key)
    }

    /// prompt.txt and ctl take truncation (an editor saving in place); the rest are the mount's.
    func truncate(to size: Int64, handle: UInt64?) throws(FSError) {
        guard kind.isWritable else { throw readOnly }
        if let handle, case .writer(_, _, let buffer) = try fs.handles.get(handle) { buffer.truncate(to: size) }
    }
}
