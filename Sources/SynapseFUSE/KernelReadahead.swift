import Foundation
import Logging

/// The kernel caps FUSE read-ahead at its 128 KiB default, so page-cache reads reach the
/// daemon as 128–256 KiB requests. Raising the mount's bdi read-ahead to 1 MiB makes them
/// 1 MiB (matching max_read), which doubles sequential throughput. Best effort: it needs
/// write access to sysfs (root).
enum KernelReadahead {
    static func raise(mountpoint: String, kilobytes: Int, logger: Logger) {
        // Read the device from mountinfo: a stat of the mountpoint would wait on our own loop.
        guard let device = device(of: mountpoint) else {
            logger.debug("read-ahead unchanged: \(mountpoint) not found in /proc/self/mountinfo")
            return
        }
        let path = "/sys/class/bdi/\(device)/read_ahead_kb"
        do {
            try "\(kilobytes)\n".write(toFile: path, atomically: false, encoding: .utf8)
            logger.debug("read-ahead of \(device) set to \(kilobytes) KiB")
        } catch {
            logger.debug("read-ahead unchanged (\(path) not writable): \(error.localizedDescription)")
        }
    }

    /// `major:minor` of the newest synapsefs mount on `mountpoint`.
    static func device(of mountpoint: String) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        var found: String?
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 8, let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count,
                  fields[dash + 1].hasPrefix("fuse.synapsefs"),
                  unescape(String(fields[4])) == mountpoint else { continue }
            found = String(fields[2])
        }
        return found
    }

    /// mountinfo escapes space, tab, newline and backslash as three octal digits (`\040`).
    static func unescape(_ s: String) -> String {
        let bytes = Array(s.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\\"), i + 3 < bytes.count,
               let code = UInt8(String(decoding: bytes[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                out.append(code)
                i += 4
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
