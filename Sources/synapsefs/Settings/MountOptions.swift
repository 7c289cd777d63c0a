import Foundation

/// `-o` options, as given on the command line or by mount(8) from an fstab line: each one is
/// handled by synapsefs, passed to libfuse, or ignored as a word meant for mount(8) and
/// systemd; anything else is refused by name (libfuse would refuse the whole list).
struct MountOptions: Equatable {
    /// For libfuse's mount.
    var fuse: [String] = []
    /// synapsefs settings given as options (`server=URL`, `cache_dir=DIR`, …), by option name.
    var settings: [String: String] = [:]
    var uid: UInt32?
    var gid: UInt32?
    var umask: UInt16?
    var readOnly = false
    var nonempty = false

    /// Options libfuse takes as they are (kernel mount flags and FUSE's own).
    static let passed: Set<String> = [
        "allow_other", "allow_root", "default_permissions", "auto_unmount", "rw", "suid", "nosuid", "dev", "nodev",
        "exec", "noexec", "async", "sync", "atime", "noatime", "diratime", "nodiratime", "relatime", "norelatime",
        "strictatime", "nostrictatime", "lazytime", "nolazytime", "dirsync",
    ]
    /// Words for mount(8), fstab and systemd, not for the filesystem.
    static let ignored: Set<String> = ["_netdev", "noauto", "auto", "nofail", "user", "users", "nouser", "owner", "group", "defaults", "nonempty_ok"]
    /// synapsefs settings that take a value, and what they mean.
    static let valued: [String: String] = [
        "server": "the server's base URL", "cache_dir": "the cache folder", "api_key_file": "a file holding the API key",
        "key_file": "a file holding the API key", "config": "the config file", "ca_file": "CA certificates to trust",
        "backend": "the kind of server", "cache_size": "the cache's size limit", "min_free_space": "free space the cache leaves",
        "connect_timeout": "seconds to connect", "idle_timeout": "seconds a transfer may stall", "log_level": "the log level",
        "log_file": "a log file", "on_event": "a command run when a task finishes or waits",
    ]
    /// synapsefs settings that are flags.
    static let flags: Set<String> = ["allow_delete", "allow_other_writes", "auto_approve"]

    static func parse(_ given: [String]) throws -> MountOptions {
        var options = MountOptions()
        for option in try given.flatMap(splitList) where !option.isEmpty {
            let (name, value) = split(option)
            switch name {
            case "uid": options.uid = try number(option, value, radix: 10)
            case "gid": options.gid = try number(option, value, radix: 10)
            case "umask": options.umask = try number(option, value, radix: 8).map { UInt16($0 & 0o777) }
            case "ro":
                options.readOnly = try flag(name, value)
                if options.readOnly { options.fuse.append("ro") }
            case "nonempty": options.nonempty = try flag(name, value)
            case "fsname": options.fuse.append(option)
            case "max_read", "subtype", "blksize":
                throw SettingsError("mount option \(name) is set by synapsefs itself; leave it out")
            default:
                if passed.contains(option) {
                    options.fuse.append(option)
                } else if ignored.contains(name) || name.hasPrefix("x-") || name.hasPrefix("comment") {
                    continue
                } else if valued[name] != nil {
                    guard let value, !value.isEmpty else { throw SettingsError("mount option \(name) needs a value: \(name)=\(valued[name]!)") }
                    options.settings[name == "key_file" ? "api_key_file" : name] = value
                } else if flags.contains(name) {
                    if try flag(name, value) { options.settings[name] = "1" } else { options.settings[name] = nil }
                } else {
                    throw SettingsError("unknown mount option \"\(option)\"; synapsefs takes uid=, gid=, umask=, ro, nonempty, "
                                        + (valued.keys.sorted().map { $0 + "=" } + flags.sorted()).joined(separator: ", ")
                                        + ", and FUSE's own: " + passed.sorted().joined(separator: ", "))
                }
            }
        }
        return options
    }

    /// A flag option: on when bare or `=1/yes/true/on`, off with `=0/no/false/off`.
    private static func flag(_ name: String, _ value: String?) throws -> Bool {
        guard let value else { return true }
        switch value.lowercased() {
        case "1", "yes", "true", "on": return true
        case "0", "no", "false", "off": return false
        default: throw SettingsError("mount option \(name)=\(value): a flag takes no value, or one of 1/0, yes/no, true/false")
        }
    }

    /// Splits `a,b="c,d",e` at the commas outside double quotes (as libmount does) and drops the
    /// quotes: `["a", "b=c,d", "e"]`.
    static func splitList(_ list: String) throws -> [String] {
        var out: [String] = []
        var current = ""
        var quoted = false
        for ch in list {
            switch ch {
            case "\"": quoted.toggle()
            case "," where !quoted:
                out.append(current)
                current = ""
            default: current.append(ch)
            }
        }
        guard !quoted else { throw SettingsError("mount options \(list): a quote is not closed") }
        out.append(current)
        return out
    }

    private static func split(_ option: String) -> (String, String?) {
        guard let eq = option.firstIndex(of: "=") else { return (option, nil) }
        return (String(option[..<eq]), String(option[option.index(after: eq)...]))
    }

    private static func number(_ option: String, _ value: String?, radix: Int) throws -> UInt32? {
        guard let value, let n = UInt32(value, radix: radix) else {
            throw SettingsError("mount option \(option): expected a\(radix == 8 ? "n octal" : "") number")
        }
        return n
    }
}
