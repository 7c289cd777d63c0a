import Foundation
import Synchronization

/// What an open file or directory handle reads from; decided once, at open.
enum OpenHandle: Sendable {
    /// Text produced at open (info.json, status, messages.json, stream.log, status.json).
    case generated(Data)
    /// A workspace file, read through the cache.
    case workspace(CacheReader)
    /// A directory listing taken at opendir, so offsets stay stable while it is read.
    case directory([DirectoryEntry])
    /// A writer of prompt.txt or ctl: what it writes is acted on at flush.
    case writer(TaskFileKind, taskId: String, WriteBuffer)
    /// An editor's scratch file, a real file in the state directory.
    case scratch(ScratchHandle)
    /// A file in uploads/ opened for writing: its spool file, uploaded at close.
    case upload(UploadHandle)
    /// stream.log: read from its file up to the current end.
    case log(LogReader)
}

/// One reader of a task's stream.log: how far it has read, for poll().
public final class LogReader: Sendable {
    let log: TranscriptLog
    private let readEnd = Atomic<Int64>(0)

    init(log: TranscriptLog) { self.log = log }

    func readUpTo(_ end: Int64) {
        _ = readEnd.max(end, ordering: .relaxed)
    }

    /// New bytes beyond what this reader has read.
    var hasUnread: Bool { log.length > readEnd.load(ordering: .relaxed) }
    public var taskId: String { log.taskId }
}

/// The spool file of an upload being written, and whether it changed since the last flush.
final class UploadHandle: Sendable {
    let file: ScratchHandle
    let entryId: String
    let dirty: Atomic<Bool>

    init(fd: Int32, entryId: String, dirty: Bool) {
        file = ScratchHandle(fd: fd)
        self.entryId = entryId
        self.dirty = Atomic(dirty)
    }
}

/// Owns the descriptor of an open scratch file.
final class ScratchHandle: Sendable {
    let fd: Int32
    init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }
}

/// Open handles by number; numbers are not reused while the mount lives.
final class HandleTable: Sendable {
    private struct State {
        var handles: [UInt64: OpenHandle] = [:]
        var next: UInt64 = 1
    }
    private let state = Mutex(State())

    func insert(_ handle: OpenHandle) -> UInt64 {
        state.withLock { s in
            let fh = s.next
            s.next += 1
            s.handles[fh] = handle
            return fh
        }
    }

    func get(_ fh: UInt64) throws(FSError) -> OpenHandle {
        guard let handle = state.withLock({ $0.handles[fh] }) else { throw .badHandle(fh) }
        return handle
    }

    func remove(_ fh: UInt64) {
        _ = state.withLock { $0.handles.removeValue(forKey: fh) }
    }

    var count: Int { state.withLock { $0.handles.count } }
}
