import Foundation

/// An upload that runs while its spool file is still being written: it sends the file's
/// bytes in order as the writer adds them and ends when the writer closes the file, so a
/// `cp` into `uploads/` costs about the time of the slower of the two, not their sum.
/// A write over bytes already sent, a write past a hole, a truncate below what was sent, or a
/// transfer that fails before the writer is done abandons it; the file is then uploaded whole
/// at close, as if it had never started.
final class LiveUpload: UploadStream, @unchecked Sendable {
    let entryId: String
    private let fd: Int32

    // Guards everything below; never held across I/O.
    private let condition = NSCondition()
    /// `[0, written)` is written without holes.
    private var written: Int64 = 0
    /// `[0, sent)` is handed to the transfer (or being read for it).
    private var sent: Int64 = 0
    /// The file's final size, once its writer closed it.
    private var end: Int64?
    private var abandoned = false
    private var outcome: Result<UploadOutcome, RemoteError>?
    /// The transfer failed before the writer was done (say, timed out while the writer
    /// paused): that says nothing about the file, which then goes whole at close.
    private var failedWhileWriting = false

    /// Starts uploading `spoolFile` with `send` (which calls the remote with this stream) on
    /// its own thread; nil when the file cannot be opened.
    init?(entryId: String, spoolFile: URL, send: @escaping @Sendable (LiveUpload) throws(RemoteError) -> UploadOutcome) {
        self.entryId = entryId
        fd = Glibc.open(spoolFile.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        let thread = Thread { [self] in
            let result: Result<UploadOutcome, RemoteError>
            do throws(RemoteError) { result = .success(try send(self)) } catch { result = .failure(error) }
            condition.lock()
            outcome = result
            if case .failure = result, end == nil { failedWhileWriting = true }
            condition.broadcast()
            condition.unlock()
        }
        thread.name = "live-upload"
        thread.start()
    }

    deinit { Glibc.close(fd) }

    /// The writer stored `count` bytes at `offset`.
    func wrote(at offset: Int64, count: Int) {
        locked {
            if offset < sent || offset > written { abandoned = true }
            written = max(written, offset + Int64(count))
        }
    }

    /// The file was truncated or extended to `size` (an extension reads as zeros: content too).
    func resized(to size: Int64) {
        locked {
            if size < sent { abandoned = true }
            written = size
        }
    }

    /// Gives up: the transfer is aborted and the file will be uploaded whole.
    func abandon() { locked { abandoned = true } }

    /// The writer closed the file at `size`: waits for the transfer and returns where it went
    /// or why it failed; nil when it was abandoned (the file must then be uploaded whole).
    /// A cancelled operation stops waiting: the transfer is abandoned and the outcome is
    /// `interrupted`.
    func finish(size: Int64) -> Result<UploadOutcome, RemoteError>? {
        let cancellation = Cancellation.current
        condition.lock()
        defer { condition.unlock() }
        if size != written { abandoned = true }
        end = size
        condition.broadcast()
        while outcome == nil {
            if cancellation?.isCancelled == true {
                abandoned = true
                condition.broadcast()
                return .failure(.interrupted("the upload of a file closed while it was sent"))
            }
            _ = condition.wait(until: Date().addingTimeInterval(0.1))
        }
        return abandoned || failedWhileWriting ? nil : outcome
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        condition.lock()
        while !abandoned, sent >= written, end == nil { condition.wait() }
        if abandoned {
            condition.unlock()
            return nil
        }
        let start = sent
        let count = Int(min(Int64(buffer.count), (end.map { min($0, written) } ?? written) - start))
        // Reserved before reading: a write into these bytes from now on abandons the upload.
        sent += Int64(count)
        condition.unlock()
        guard count > 0 else { return 0 }
        // Bytes counted as written are on disk: reading fewer means the file changed under us.
        guard PositionalIO.read(fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]), at: start) == count else {
            abandon()
            return nil
        }
        return count
    }

    private func locked(_ body: () -> Void) {
        condition.lock()
        body()
        condition.broadcast()
        condition.unlock()
    }
}
