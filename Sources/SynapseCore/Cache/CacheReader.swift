import Foundation
import Synchronization

/// Reads one workspace file for one open handle: from the complete cached copy, or from the
/// shared download as its bytes arrive. The source is chosen on the first read.
public final class CacheReader: Sendable {
    enum Source: @unchecked Sendable {
        case complete(fd: Int32, size: Int64)
        case downloading(FileDownload)
    }

    private let cache: WorkspaceCache
    private let file: CachedFileIdentity
    private let source = Mutex<Source?>(nil)

    init(cache: WorkspaceCache, file: CachedFileIdentity) {
        self.cache = cache
        self.file = file
        cache.budget.opened(file.key)
    }

    deinit {
        if case .complete(let fd, _)? = source.withLock({ $0 }) { close(fd) }
        cache.budget.closed(file.key)
    }

    /// Reads up to `buffer.count` bytes at `offset`; fewer only at the end of the file.
    public func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(FSError) -> Int {
        let current = try currentSource()
        let fd: Int32
        let available: Int64
        switch current {
        case .complete(let completeFD, let size):
            fd = completeFD
            available = size
        case .downloading(let download):
            fd = download.fd
            available = try download.waitUntilAvailable(offset + Int64(buffer.count))
        }
        let count = Int(max(0, min(Int64(buffer.count), available - offset)))
        guard count > 0 else { return 0 }
        var done = 0
        while done < count {
            let n = pread(fd, buffer.baseAddress! + done, count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw FSError(errno: EIO, "reading the cache failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// The source chosen at the first read. A download that failed stays this handle's
    /// source, so every later read of the handle fails too; the next open starts afresh.
    private func currentSource() throws(FSError) -> Source {
        if let known = source.withLock({ $0 }) { return known }
        return try replaceSource()
    }

    private func replaceSource() throws(FSError) -> Source {
        let fresh = try cache.source(for: file)
        return source.withLock { s in
            if case .complete(let fd, _)? = s { close(fd) }
            s = fresh
            return fresh
        }
    }
}
