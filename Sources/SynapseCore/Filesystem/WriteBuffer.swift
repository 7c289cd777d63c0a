import Foundation
import Synchronization

/// What a writer of prompt.txt or ctl has written so far, in memory (bounded), sent on flush.
final class WriteBuffer: Sendable {
    private struct State {
        var data = Data()
        /// Written since the last flush: an open that writes nothing sends nothing.
        var dirty = false
        var tooLarge = false
    }

    let limit: Int
    /// Opened with O_APPEND: every write goes to the end of what this handle wrote.
    let appending: Bool
    private let state = Mutex(State())

    init(limit: Int, appending: Bool) {
        self.limit = limit
        self.appending = appending
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(FSError) -> Int {
        try state.withLock { (s: inout State) throws(FSError) -> Int in
            let start = appending ? s.data.count : Int(offset)
            guard start + bytes.count <= limit else {
                s.tooLarge = true
                throw FSError(errno: EFBIG, "more than \(limit) bytes written")
            }
            if s.data.count < start { s.data.append(Data(count: start - s.data.count)) }
            let end = start + bytes.count
            if s.data.count < end { s.data.append(Data(count: end - s.data.count)) }
            s.data.replaceSubrange(start..<end, with: bytes)
            s.dirty = true
            return bytes.count
        }
    }

    func truncate(to size: Int64) {
        state.withLock { s in
            let size = Int(max(0, size))
            if size < s.data.count { s.data.removeSubrange(size...) } else { s.data.append(Data(count: size - s.data.count)) }
            if size > 0 { s.dirty = true }
        }
    }

    /// The content to act on once, or nil when nothing new was written. A writer that went
    /// past the limit gets EFBIG here too: a cut-off prompt is never sent.
    func takeForFlush() throws(FSError) -> Data? {
        try state.withLock { (s: inout State) throws(FSError) -> Data? in
            guard s.dirty || s.tooLarge else { return nil }
            s.dirty = false
            if s.tooLarge {
                s.tooLarge = false
                throw FSError(errno: EFBIG, "more than \(limit) bytes written")
            }
            return s.data
        }
    }

    var size: Int64 { state.withLock { Int64($0.data.count) } }
}
