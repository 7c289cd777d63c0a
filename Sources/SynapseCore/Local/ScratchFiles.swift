import Foundation

/// Editor scratch files made in task folders, kept in the state directory and never sent.
struct ScratchFiles: Sendable {
    let root: URL

    init(stateDirectory: URL) {
        root = stateDirectory.appendingPathComponent("scratch", isDirectory: true)
    }

    func directory(of taskId: String) -> URL { root.appendingPathComponent(CacheDirectory.key(taskId), isDirectory: true) }

    /// The kernel hands us single, valid path components: names are safe inside the task's folder.
    func url(_ name: String, taskId: String) -> URL { directory(of: taskId).appendingPathComponent(name) }

    func names(of taskId: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory(of: taskId).path)) ?? []).sorted()
    }

    func exists(_ name: String, taskId: String) -> Bool { FileManager.default.fileExists(atPath: url(name, taskId: taskId).path) }

    func size(_ name: String, taskId: String) -> Int64? {
        var st = stat()
        return stat(url(name, taskId: taskId).path, &st) == 0 ? Int64(st.st_size) : nil
    }

    func open(_ name: String, taskId: String, flags: Int32) throws(FSError) -> Int32 {
        try? FileManager.default.createDirectory(at: directory(of: taskId), withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o700])
        return try Syscall.check(Glibc.open(url(name, taskId: taskId).path, flags | O_CLOEXEC, 0o600), "scratch file \(name)")
    }

    func remove(_ name: String, taskId: String) throws(FSError) {
        try Syscall.check(unlink(url(name, taskId: taskId).path), "removing scratch file \(name)")
    }

    func rename(_ from: String, to: String, taskId: String) throws(FSError) {
        try Syscall.check(Glibc.rename(url(from, taskId: taskId).path, url(to, taskId: taskId).path), "renaming scratch file \(from)")
    }

    func write(_ data: Data, as name: String, taskId: String) throws(FSError) {
        try? FileManager.default.createDirectory(at: directory(of: taskId), withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o700])
        do { try data.write(to: url(name, taskId: taskId)) } catch { throw .disk("writing scratch file \(name): \(error.localizedDescription)") }
    }

    func read(_ name: String, taskId: String) -> Data? { try? Data(contentsOf: url(name, taskId: taskId)) }
}
