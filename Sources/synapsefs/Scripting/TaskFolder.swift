import Foundation

/// A task folder of a running synapsefs mount, found from what a script names: a path to the
/// folder (`~/synapse/tasks/q3`, a `by-name` link, a run's `orchestrations/O/runs/R`), or a task id or folder name in a mount
/// (`--mount MNT`, or the only synapsefs mount of the machine).
struct TaskFolder {
    let path: String
    let mountpoint: String

    /// The mount a script means: the one named, or the only one there is.
    static func mount(_ named: String?) throws -> String {
        let mounts = Mountpoint.synapsefs().map(\.path)
        if let named {
            let path = URL(fileURLWithPath: named).standardizedFileURL.path
            guard mounts.contains(path) else { throw ScriptFailure(exit: .notFound, message: "\(path) is not a synapsefs mount") }
            return path
        }
        switch mounts.count {
        case 0: throw ScriptFailure(exit: .notFound, message: "no synapsefs mount on this machine; mount one with: synapsefs mount DIR")
        case 1: return mounts[0]
        default: throw ScriptFailure(exit: .notFound, message: "several synapsefs mounts (\(mounts.joined(separator: ", "))): pick one with --mount")
        }
    }

    static func find(_ reference: String, mount named: String?) throws -> TaskFolder {
        if reference.contains("/") || reference == "." || reference == ".." {
            let resolved = URL(fileURLWithPath: reference).resolvingSymlinksInPath().standardizedFileURL.path
            guard let mount = Mountpoint.synapsefs().map(\.path).filter({ resolved.hasPrefix($0 + "/") }).max(by: { $0.count < $1.count }),
                  isTaskFolder(resolved.dropFirst(mount.count + 1).split(separator: "/", omittingEmptySubsequences: false)) else {
                throw ScriptFailure(exit: .notFound, message: "\(reference) is not a task folder of a synapsefs mount (MOUNT/tasks/TASK or MOUNT/orchestrations/ORCH/runs/RUN)")
            }
            return try TaskFolder(path: resolved, mountpoint: mount).checked(reference)
        }
        let mount = try mount(named)
        for candidate in ["\(mount)/tasks/\(reference)", "\(mount)/tasks/by-name/\(reference)"] {
            var st = stat()
            if stat(candidate, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
                return TaskFolder(path: URL(fileURLWithPath: candidate).resolvingSymlinksInPath().path, mountpoint: mount)
            }
        }
        throw ScriptFailure(exit: .notFound, message: "no task \"\(reference)\" in \(mount) (a folder name, a task id, or a name in tasks/by-name/)")
    }

    /// `tasks/TASK`, or a run's `orchestrations/ORCH/runs/RUN`, below a mount.
    private static func isTaskFolder(_ parts: [Substring]) -> Bool {
        switch parts.count {
        case 2: parts[0] == "tasks" && !parts[1].isEmpty
        case 4: parts[0] == "orchestrations" && parts[2] == "runs" && !parts[1].isEmpty && !parts[3].isEmpty
        default: false
        }
    }

    private func checked(_ reference: String) throws -> TaskFolder {
        guard FileManager.default.fileExists(atPath: path + "/info.json") else {
            throw ScriptFailure(exit: .notFound, message: "no task at \(reference)")
        }
        return self
    }

    var info: [String: Any] {
        (try? Data(contentsOf: URL(fileURLWithPath: path + "/info.json"))).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
    }

    var id: String { info["id"] as? String ?? URL(fileURLWithPath: path).lastPathComponent }

    /// The status word, and what a waiting task asks.
    func status() throws -> (word: String, question: String?) {
        guard let text = try? String(contentsOfFile: path + "/status", encoding: .utf8) else {
            throw ScriptFailure(exit: ScriptExit.from(errno: errno), message: "cannot read \(path)/status: \(String(cString: strerror(errno)))")
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return (String(lines.first ?? ""), lines.count > 1 && !lines[1].isEmpty ? String(lines[1]) : nil)
    }

    /// stream.log's length now (to read only what comes after).
    var logLength: Int64 {
        var st = stat()
        return stat(path + "/stream.log", &st) == 0 ? Int64(st.st_size) : 0
    }

    /// The text of the newest notice stream.log got after `offset` (why a prompt was not
    /// sent, say); only that part of the log is read.
    func notice(after offset: Int64) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path + "/stream.log") else { return nil }
        defer { try? handle.close() }
        try? handle.seek(toOffset: UInt64(max(0, offset)))
        guard let data = try? handle.read(upToCount: 1 << 20), let text = String(data: data, encoding: .utf8),
              let header = text.range(of: "] notice\n", options: .backwards) else { return nil }
        return text[header.upperBound...].split(separator: "\n\n").first.map(String.init)
    }

    /// Writes `data` to a file of the folder as `cat > file` would, and returns close()'s
    /// errno (0 for none): the mount acts at close and says how it went there.
    static func write(_ data: Data, to path: String) -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return errno }
        var written = 0
        while written < data.count {
            let n = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, data.count - written) }
            if n < 0 {
                let code = errno
                close(fd)
                return code
            }
            written += n
        }
        return close(fd) == 0 ? 0 : errno
    }
}
