import Foundation

/// Gathers the small pieces a transfer delivers (libcurl hands over 16 KiB at a time) into
/// larger writes, so the cache takes one write, and its readers one wake-up, per 256 KiB
/// instead of sixteen. Gathered bytes go out at once when `isAwaited` says a reader waits for
/// exactly them, else after at most `maxDelay` once more bytes arrive; the rest at `flush()`,
/// which the transfer calls when it ends, however it ends. Used by one thread at a time.
final class ChunkCoalescer {
    typealias Write = (_ bytes: UnsafeRawBufferPointer, _ offset: Int64) -> Bool
    typealias Awaited = (_ held: Range<Int64>) -> Bool

    private let buffer: UnsafeMutableRawBufferPointer
    private let maxDelay: UInt64
    private let write: Write
    private let isAwaited: Awaited
    private var start: Int64 = 0
    private var count = 0
    private var firstHeldAt: UInt64 = 0

    init(capacity: Int = 256 << 10, maxDelayMilliseconds: UInt64 = 2, isAwaited: @escaping Awaited = { _ in false },
         write: @escaping Write) {
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
        maxDelay = maxDelayMilliseconds * 1_000_000
        self.isAwaited = isAwaited
        self.write = write
    }

    deinit { buffer.deallocate() }

    /// Takes `bytes` that belong at `offset`; false when a write failed.
    func add(_ bytes: UnsafeRawBufferPointer, at offset: Int64) -> Bool {
        if count > 0, offset != start + Int64(count), !flush() { return false }
        var done = 0
        while done < bytes.count {
            if count == 0 {
                start = offset + Int64(done)
                firstHeldAt = DispatchTime.now().uptimeNanoseconds
            }
            let n = min(bytes.count - done, buffer.count - count)
            (buffer.baseAddress! + count).copyMemory(from: bytes.baseAddress! + done, byteCount: n)
            count += n
            done += n
            if count == buffer.count, !flush() { return false }
        }
        guard count > 0 else { return true }
        if DispatchTime.now().uptimeNanoseconds - firstHeldAt > maxDelay || isAwaited(start..<(start + Int64(count))) {
            return flush()
        }
        return true
    }

    /// Writes out what is gathered; false when the write failed.
    @discardableResult
    func flush() -> Bool {
        guard count > 0 else { return true }
        let held = count
        count = 0
        return write(UnsafeRawBufferPointer(rebasing: buffer[0..<held]), start)
    }
}
