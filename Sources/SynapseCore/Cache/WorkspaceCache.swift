import Foundation
import Logging
import Synchronization

/// Workspace files on disk: `<key>.data` plus `<key>.json` for complete items, `<key>.partial`
/// while downloading. One download per file feeds all its readers.
public final class WorkspaceCache: Sendable {
    private let directory: CacheDirectory
    private let remote: any TaskRemote
    private let logger: Logger
    private let downloads = Mutex<[String: FileDownload]>([:])
    let budget: CacheBudget

    public init(directory: CacheDirectory, remote: any TaskRemote, limit: Int64, freeSpaceFloor: Int64, logger: Logger) {
        self.directory = directory
        self.remote = remote
        self.logger = logger
        budget = CacheBudget(objects: directory.objects, limit: limit, freeSpaceFloor: freeSpaceFloor)
    }

    /// The size of the complete cached copy of `file`, if there is one for its fingerprint.
    public func cachedSize(of file: CachedFileIdentity) -> Int64? {
        completeRecord(for: file)?.size
    }

    /// A reader for `file`: the complete cached copy, or the download that is filling it.
    /// Nothing is fetched until the first read.
    public func openReader(for file: CachedFileIdentity) -> CacheReader {
        CacheReader(cache: self, file: file)
    }

    /// The complete copy's descriptor and size, or the running download (started if needed).
    func source(for file: CachedFileIdentity) throws(FSError) -> CacheReader.Source {
        let key = file.key
        return try downloads.withLock { (running: inout [String: FileDownload]) throws(FSError) -> CacheReader.Source in
            if let download = running[key], download.isRunning { return .downloading(download) }
            if let record = completeRecord(for: file) {
                let fd = open(dataURL(key).path, O_RDONLY | O_CLOEXEC)
                if fd >= 0 { return .complete(fd: fd, size: record.size) }
            }
            discard(key)
            budget.removed(key)
            let fd = open(partialURL(key).path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw FSError(errno: EIO, "cannot create cache file: \(String(cString: strerror(errno)))") }
            let download = FileDownload(fd: fd)
            running[key] = download
            let thread = Thread { [self] in self.run(download, of: file) }
            thread.name = "download"
            thread.start()
            return .downloading(download)
        }
    }

    private func run(_ download: FileDownload, of file: CachedFileIdentity) {
        let key = file.key
        var writeError: Int32 = 0
        let outcome: FileDownload.Phase
        do {
            let result = try remote.download(taskId: file.taskId, path: file.remotePath, offset: 0) { chunk in
                guard writeAll(download.fd, chunk) else {
                    writeError = errno
                    return false
                }
                download.advance(by: Int64(chunk.count))
                return true
            }
            if writeError != 0 { throw FSError(errno: EIO, "writing the cache failed: \(String(cString: strerror(writeError)))") }
            let expected = result.totalSize ?? file.size
            if let expected, expected != result.bytesWritten {
                throw FSError(errno: EIO, "download of \(file.remotePath) ended after \(result.bytesWritten) of \(expected) bytes")
            }
            try publish(download, key: key, file: file, size: result.bytesWritten)
            outcome = .complete(size: result.bytesWritten)
        } catch let error as RemoteError {
            outcome = .failed(writeError != 0
                ? FSError(errno: EIO, "writing the cache failed: \(String(cString: strerror(writeError)))")
                : error.fsError)
        } catch let error as FSError {
            outcome = .failed(error)
        } catch {
            outcome = .failed(FSError(errno: EIO, "\(error)"))
        }
        if case .failed(let error) = outcome {
            logger.warning("download failed", metadata: ["task": "\(file.taskId)", "path": "\(file.remotePath)", "error": "\(error.message)"])
            unlink(partialURL(key).path)
        }
        downloads.withLock { running in
            if running[key] === download { running[key] = nil }
            download.finish(outcome)
        }
    }

    /// Makes the partial file the complete item: data synced and renamed before the record exists.
    private func publish(_ download: FileDownload, key: String, file: CachedFileIdentity, size: Int64) throws {
        guard fsync(download.fd) == 0, rename(partialURL(key).path, dataURL(key).path) == 0 else {
            throw FSError(errno: EIO, "cannot store downloaded file: \(String(cString: strerror(errno)))")
        }
        let record = CacheRecord(taskId: file.taskId, remotePath: file.remotePath,
                                 listedSize: file.size, listedMtime: file.mtime, size: size)
        try writeAtomically(try CacheCoding.encoder.encode(record), to: recordURL(key))
        budget.added(key, size: size)
    }

    private func completeRecord(for file: CachedFileIdentity) -> CacheRecord? {
        let key = file.key
        guard let data = try? Data(contentsOf: recordURL(key)),
              let record = try? CacheCoding.decoder.decode(CacheRecord.self, from: data),
              record.matches(file) else { return nil }
        var st = stat()
        guard stat(dataURL(key).path, &st) == 0, Int64(st.st_size) == record.size else { return nil }
        return record
    }

    private func discard(_ key: String) {
        unlink(recordURL(key).path)
        unlink(dataURL(key).path)
    }

    private func dataURL(_ key: String) -> URL { directory.objects.appendingPathComponent(key + ".data") }
    private func recordURL(_ key: String) -> URL { directory.objects.appendingPathComponent(key + ".json") }
    private func partialURL(_ key: String) -> URL { directory.objects.appendingPathComponent(key + ".partial") }
}

private func writeAll(_ fd: Int32, _ chunk: UnsafeRawBufferPointer) -> Bool {
    var done = 0
    while done < chunk.count {
        let n = write(fd, chunk.baseAddress! + done, chunk.count - done)
        if n < 0 {
            if errno == EINTR { continue }
            return false
        }
        done += n
    }
    return true
}
