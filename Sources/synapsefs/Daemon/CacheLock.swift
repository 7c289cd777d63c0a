import Foundation

/// One running synapsefs per cache folder: an exclusive `flock` on `CACHE/lock`, held for the
/// daemon's life (the kernel lets go when the process ends, also after kill -9). The file
/// names the holder, so a second mount can say who has it.
final class CacheLock {
    private let fd: Int32

    /// Takes the lock, or throws naming the process that holds it.
    init(cacheRoot: URL, mountpoint: String) throws {
        let path = cacheRoot.appendingPathComponent("lock").path
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw SettingsError("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard Self.take(fd) else {
            let holder = Self.holder(fd)
            close(fd)
            throw SettingsError("the cache folder \(cacheRoot.path) is in use by another synapsefs (\(holder.isEmpty ? "unknown" : holder)); "
                                + "give this mount its own with --cache-dir DIR")
        }
        let holder = "pid \(getpid()), mounted on \(mountpoint)\n"
        ftruncate(fd, 0)
        _ = holder.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    /// Takes the lock; a holder whose mount is already gone (a daemon finishing after an
    /// unmount) is waited for, up to 10 s.
    private static func take(_ fd: Int32) -> Bool {
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return true }
        guard let mountpoint = holder(fd).components(separatedBy: "mounted on ").last?.trimmingCharacters(in: .whitespacesAndNewlines),
              Mountpoint.mount(at: mountpoint)?.type != "fuse.synapsefs" else { return false }
        for _ in 0..<100 {
            usleep(100_000)
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return true }
        }
        return false
    }

    private static func holder(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = pread(fd, &buffer, buffer.count, 0)
        return String(decoding: buffer.prefix(max(0, n)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Lets go (the mount ended, or only checking).
    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
