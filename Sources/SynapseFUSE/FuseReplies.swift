import CFuse
import Foundation
import SynapseCore

/// Turns the core's reply values into libfuse structures.
enum FuseReplies {
    static func stat(_ a: FileAttributes, owner: Owner) -> stat {
        var st = Glibc.stat()
        st.st_ino = UInt(a.inode)
        let type: mode_t = switch a.kind {
        case .directory: S_IFDIR
        case .regular: S_IFREG
        case .symlink: S_IFLNK
        }
        st.st_mode = type | mode_t(a.permissions)
        st.st_nlink = UInt(a.linkCount)
        st.st_size = off_t(a.size)
        st.st_blocks = blkcnt_t((a.size + 511) / 512)
        // Tools size their reads by st_blksize: 1 MiB matches the largest FUSE read.
        st.st_blksize = 1 << 20
        st.st_uid = owner.uid
        st.st_gid = owner.gid
        let t = timespec(a.modified)
        st.st_mtim = t
        st.st_ctim = t
        st.st_atim = t
        return st
    }

    static func entry(_ e: Entry, owner: Owner) -> fuse_entry_param {
        var param = fuse_entry_param()
        param.ino = fuse_ino_t(e.inode)
        param.generation = 1
        param.attr = stat(e.attributes, owner: owner)
        param.attr_timeout = e.attributes.isVolatile ? 0 : e.timeout
        param.entry_timeout = e.timeout
        return param
    }

    /// Times from the server may be anything: clamped to 1970–9999 (and NaN to 1970), since
    /// converting an out-of-range Double to Int would trap.
    static func timespec(_ date: Date) -> Glibc.timespec {
        let raw = date.timeIntervalSince1970
        let t = raw.isFinite ? min(max(raw, 0), 253_402_300_799) : 0
        let seconds = t.rounded(.down)
        return Glibc.timespec(tv_sec: Int(seconds), tv_nsec: Int((t - seconds) * 1e9))
    }
}
