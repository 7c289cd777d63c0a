import Foundation

/// The checks a mountpoint passes before anything is mounted on it, each refusal saying what
/// to do: a dead mount left by a killed daemon, a folder that is already a mount point, a
/// folder that is not empty (unless `-o nonempty`).
enum Mountpoint {
    struct Mounted {
        var path: String
        var type: String
        var source: String
        /// FUSE's `user_id=` super option: who mounted it (nil for other filesystems).
        var userId: UInt32?
    }

    /// Whether `path` is a FUSE mount whose daemon is gone. (An open reaches the daemon; a
    /// stat may be answered from the kernel's cache for a second.)
    static func isDead(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { close(fd) }
        return fd < 0 && errno == ENOTCONN
    }

    static func check(_ path: String, allowNonEmpty: Bool) throws {
        // systemd's automount (x-systemd.automount) puts autofs there and runs this mount on
        // first access: it is the mount's place, and touching it would wait on ourselves.
        if mount(at: path)?.type == "autofs" { return }
        if isDead(path) {
            throw SettingsError("\(path) holds a dead FUSE mount (its daemon is gone: \"Transport endpoint is not connected\"); clear it with: synapsefs unmount \(path)")
        }
        var st = stat()
        if stat(path, &st) != 0 {
            switch errno {
            case ENOTCONN:
                throw SettingsError("\(path) holds a dead FUSE mount (its daemon is gone: \"Transport endpoint is not connected\"); clear it with: synapsefs unmount \(path)")
            case ENOENT:
                throw SettingsError("mountpoint \(path) does not exist; create it with: mkdir -p \(path)")
            default:
                throw SettingsError("cannot use mountpoint \(path): \(String(cString: strerror(errno)))")
            }
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { throw SettingsError("mountpoint \(path) is not a folder") }
        if let mounted = mount(at: path) {
            throw SettingsError("\(path) is already a mount point (\(mounted.type) from \(mounted.source)); unmount it first (synapsefs unmount \(path)) or choose another folder")
        }
        if !allowNonEmpty, let entries = try? FileManager.default.contentsOfDirectory(atPath: path), !entries.isEmpty {
            throw SettingsError("mountpoint \(path) is not empty (\(entries.count) \(entries.count == 1 ? "entry" : "entries")); mount on an empty folder, or pass -o nonempty to hide what it holds")
        }
    }

    /// The mount whose mount point is `path`, from /proc/self/mountinfo (the last one wins:
    /// mounts stack).
    static func mount(at path: String) -> Mounted? {
        all().last { $0.path == path }
    }

    /// Every mount, from /proc/self/mountinfo (mount point, type, source).
    static func all() -> [Mounted] {
        guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            guard let dash = fields.firstIndex(of: "-"), fields.count > dash + 2, fields.count > 4 else { return nil }
            let superOptions = fields.count > dash + 3 ? fields[dash + 3].split(separator: ",") : []
            let userId = superOptions.first { $0.hasPrefix("user_id=") }.flatMap { UInt32($0.dropFirst("user_id=".count)) }
            return Mounted(path: unescape(String(fields[4])), type: String(fields[dash + 1]), source: unescape(String(fields[dash + 2])),
                           userId: userId)
        }
    }

    /// The synapsefs mounts of this machine: the caller's own (root sees every one).
    static func synapsefs() -> [Mounted] {
        let uid = getuid()
        return all().filter { $0.type == "fuse.synapsefs" && (uid == 0 || $0.userId == nil || $0.userId == uid) }
    }

    /// mountinfo writes space, tab, newline and backslash as `\040`-style octal escapes.
    static func unescape(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var out = [UInt8]()
        var bytes = Array(field.utf8)[...]
        while let b = bytes.popFirst() {
            if b == UInt8(ascii: "\\"), bytes.count >= 3, let code = UInt8(String(decoding: bytes.prefix(3), as: UTF8.self), radix: 8) {
                out.append(code)
                bytes = bytes.dropFirst(3)
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
