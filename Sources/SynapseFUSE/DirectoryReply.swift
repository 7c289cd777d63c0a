import CFuse
import Foundation
import SynapseCore

/// Packs directory entries into one readdir(plus) reply buffer.
enum DirectoryReply {
    static func send(_ req: fuse_req_t?, fs: SynapseFilesystem, handle: UInt64, size: Int, offset: off_t, plus: Bool) throws(FSError) {
        let entries = try fs.readdir(handle, from: Int(offset))
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(size, 1))
        defer { buffer.deallocate() }
        var used = 0
        for (index, entry) in zip(entries.indices, entries) {
            let next = off_t(index + 1)
            let added: Int = entry.name.withCString { name in
                if plus {
                    // Measure first: a reference is counted only for an entry that fits.
                    let needed = fuse_add_direntry_plus(req, nil, 0, name, nil, next)
                    guard used + needed <= size else { return 0 }
                    var param: fuse_entry_param
                    if entry.isDotEntry {
                        param = fuse_entry_param()
                        param.attr = FuseReplies.stat(entry.attributes, owner: fs.owner)
                    } else {
                        param = FuseReplies.entry(fs.acceptPlusEntry(entry), owner: fs.owner)
                    }
                    return fuse_add_direntry_plus(req, buffer + used, size - used, name, &param, next)
                }
                var st = FuseReplies.stat(entry.attributes, owner: fs.owner)
                let needed = fuse_add_direntry(req, nil, 0, name, &st, next)
                guard used + needed <= size else { return 0 }
                return fuse_add_direntry(req, buffer + used, size - used, name, &st, next)
            }
            if added == 0 { break }
            used += added
        }
        fuse_reply_buf(req, buffer, used)
    }
}
