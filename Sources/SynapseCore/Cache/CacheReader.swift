import Foundation
import Synchronization

/// Reads one workspace file for one open handle, through the file's shared cache item.
/// A fetch that fails after the open fails the reads that needed its bytes; a read that
/// fails leaves the handle failed, so every later read of it fails the same way. The next
/// open starts afresh.
public final class CacheReader: Sendable {
    private struct State {
        var readAhead = ReadAhead()
        var failure: FSError?
    }

    private let cache: WorkspaceCache
    private let item: CacheItem
    private let state = Mutex(State())
    private let failuresBefore: Int
    private let closed = Atomic<Bool>(false)

    init(cache: WorkspaceCache, item: CacheItem, failuresBefore: Int) {
        self.cache = cache
        self.item = item
        self.failuresBefore = failuresBefore
    }

    /// The handle was released: the item loses a reader (the last one out records what
    /// arrived). Once; on the releasing thread, never from a deinit.
    func close() {
        guard !closed.exchange(true, ordering: .relaxed) else { return }
        cache.releaseReader(item)
    }

    /// Reads up to `buffer.count` bytes at `offset`; fewer only at the end of the file.
    public func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(FSError) -> Int {
        let readAhead = try state.withLock { (s: inout State) throws(FSError) -> Int64 in
            if let failure = s.failure { throw failure }
            return s.readAhead.observe(offset: offset, length: Int64(buffer.count))
        }
        do {
            let (count, startedReadAhead) = try item.read(at: offset, into: buffer, readAhead: readAhead,
                                                         ranged: !cache.ignoresRange, failuresBefore: failuresBefore,
                                                         waitLimit: cache.readWaitLimit)
            if startedReadAhead { state.withLock { $0.readAhead.grow() } }
            return count
        } catch {
            // An interrupted read says nothing about the file: the handle stays usable.
            if error.errno != EINTR { state.withLock { $0.failure = error } }
            throw error
        }
    }
}
