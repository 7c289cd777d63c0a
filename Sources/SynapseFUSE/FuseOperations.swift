import CFuse
import Foundation
import Logging
import SynapseCore

/// The libfuse low-level callbacks. Each copies its arguments, calls the core and sends
/// exactly one reply. Closures capture nothing: the filesystem comes from the userdata.
enum FuseOperations {
    static func table() -> fuse_lowlevel_ops {
        var ops = fuse_lowlevel_ops()
        ops.`init` = { userdata, conn in
            guard let conn else { return }
            let mib: UInt32 = 1 << 20
            conn.pointee.max_read = mib
            conn.pointee.max_write = mib
            conn.pointee.max_readahead = mib
            // Always readdirplus: `ls -l` of thousands of tasks then needs no lookup per entry.
            conn.pointee.want &= ~UInt32(FUSE_CAP_READDIRPLUS_AUTO)
            _ = userdata
        }
        ops.lookup = { req, parent, name in
            let name = String(cString: name!)
            FuseOperations.reply(req, "lookup") { (fs) throws(FSError) in
                var param = FuseReplies.entry(try fs.lookup(parent: parent, name: name), owner: fs.owner)
                fuse_reply_entry(req, &param)
            }
        }
        ops.forget = { req, ino, nlookup in
            FuseOperations.adapter(req).filesystem.forget(ino, count: nlookup)
            fuse_reply_none(req)
        }
        ops.forget_multi = { req, count, forgets in
            let fs = FuseOperations.adapter(req).filesystem
            for i in 0..<count {
                fs.forget(forgets![i].ino, count: forgets![i].nlookup)
            }
            fuse_reply_none(req)
        }
        ops.getattr = { req, ino, _ in
            FuseOperations.reply(req, "getattr") { (fs) throws(FSError) in
                let attributes = try fs.getattr(ino)
                var st = FuseReplies.stat(attributes, owner: fs.owner)
                fuse_reply_attr(req, &st, attributes.isVolatile ? 0 : fs.attributeTimeout)
            }
        }
        ops.setattr = { req, ino, attr, toSet, fi in
            let size: Int64? = toSet & FUSE_SET_ATTR_SIZE != 0 ? Int64(attr!.pointee.st_size) : nil
            let handle = fi.map { $0.pointee.fh }
            FuseOperations.reply(req, "setattr") { (fs) throws(FSError) in
                let attributes = try fs.setattr(ino, size: size, handle: handle)
                var st = FuseReplies.stat(attributes, owner: fs.owner)
                fuse_reply_attr(req, &st, attributes.isVolatile ? 0 : fs.attributeTimeout)
            }
        }
        ops.readlink = { req, ino in
            FuseOperations.reply(req, "readlink") { (fs) throws(FSError) in
                _ = try fs.readlink(ino).withCString { fuse_reply_readlink(req, $0) }
            }
        }
        ops.mknod = { req, parent, name, _, _ in
            let name = String(cString: name!)
            FuseOperations.reply(req, "mknod") { (fs) throws(FSError) in
                throw FSError(errno: EPERM, "special files are not supported (\(name) in \(parent))")
            }
        }
        // Links have no counterpart on the server: refused, not "not implemented".
        ops.symlink = { req, _, _, name in
            let name = String(cString: name!)
            FuseOperations.reply(req, "symlink") { (_) throws(FSError) in
                throw FSError(errno: EPERM, "symbolic links are not supported (\(name)): copy the file instead")
            }
        }
        ops.link = { req, _, _, name in
            let name = String(cString: name!)
            FuseOperations.reply(req, "link") { (_) throws(FSError) in
                throw FSError(errno: EPERM, "hard links are not supported (\(name)): copy the file instead")
            }
        }
        ops.mkdir = { req, parent, name, _ in
            let name = String(cString: name!)
            FuseOperations.reply(req, "mkdir") { (fs) throws(FSError) in
                var param = FuseReplies.entry(try fs.mkdir(parent: parent, name: name), owner: fs.owner)
                fuse_reply_entry(req, &param)
            }
        }
        ops.unlink = { req, parent, name in
            let name = String(cString: name!)
            FuseOperations.reply(req, "unlink") { (fs) throws(FSError) in
                try fs.unlink(parent: parent, name: name)
                fuse_reply_err(req, 0)
            }
        }
        ops.rmdir = { req, parent, name in
            let name = String(cString: name!)
            FuseOperations.reply(req, "rmdir") { (fs) throws(FSError) in
                try fs.rmdir(parent: parent, name: name)
                fuse_reply_err(req, 0)
            }
        }
        ops.rename = { req, parent, name, newParent, newName, flags in
            let name = String(cString: name!)
            let newName = String(cString: newName!)
            FuseOperations.reply(req, "rename") { (fs) throws(FSError) in
                guard flags == 0 else { throw FSError(errno: EINVAL, "rename flags are not supported") }
                try fs.rename(parent: parent, name: name, newParent: newParent, newName: newName)
                fuse_reply_err(req, 0)
            }
        }
        ops.create = { req, parent, name, _, fi in
            let name = String(cString: name!)
            let flags = fi!.pointee.flags
            FuseOperations.reply(req, "create") { (fs) throws(FSError) in
                let (entry, opened) = try fs.create(parent: parent, name: name, exclusive: flags & O_EXCL != 0,
                                                    appending: flags & O_APPEND != 0)
                fi!.pointee.fh = opened.handle
                fi!.pointee.direct_io = opened.directIO ? 1 : 0
                fi!.pointee.keep_cache = opened.keepCache ? 1 : 0
                var param = FuseReplies.entry(entry, owner: fs.owner)
                if fuse_reply_create(req, &param, fi) != 0 { fs.release(opened.handle) }
            }
        }
        ops.open = { req, ino, fi in
            let flags = fi!.pointee.flags
            FuseOperations.reply(req, "open") { (fs) throws(FSError) in
                let opened = try fs.open(ino, writing: flags & O_ACCMODE != O_RDONLY, truncating: flags & O_TRUNC != 0,
                                         appending: flags & O_APPEND != 0)
                fi!.pointee.fh = opened.handle
                fi!.pointee.direct_io = opened.directIO ? 1 : 0
                fi!.pointee.keep_cache = opened.keepCache ? 1 : 0
                if fuse_reply_open(req, fi) != 0 { fs.release(opened.handle) }
            }
        }
        ops.read = { req, _, size, offset, fi in
            let fh = fi!.pointee.fh
            FuseOperations.reply(req, "read") { (fs) throws(FSError) in
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
                defer { buffer.deallocate() }
                let count = try fs.read(fh, at: Int64(offset), into: buffer)
                fuse_reply_buf(req, buffer.baseAddress, count)
            }
        }
        ops.write = { req, _, buf, size, offset, fi in
            let fh = fi!.pointee.fh
            FuseOperations.reply(req, "write") { (fs) throws(FSError) in
                let count = try fs.write(fh, at: Int64(offset), UnsafeRawBufferPointer(start: buf, count: size))
                fuse_reply_write(req, count)
            }
        }
        ops.flush = { req, _, fi in
            let fh = fi!.pointee.fh
            FuseOperations.reply(req, "flush") { (fs) throws(FSError) in
                try fs.flush(fh)
                fuse_reply_err(req, 0)
            }
        }
        ops.fsync = { req, _, _, fi in
            let fh = fi!.pointee.fh
            FuseOperations.reply(req, "fsync") { (fs) throws(FSError) in
                try fs.fsync(fh)
                fuse_reply_err(req, 0)
            }
        }
        ops.release = { req, _, fi in
            let adapter = FuseOperations.adapter(req)
            adapter.pollWaiters.released(fi!.pointee.fh)
            adapter.filesystem.release(fi!.pointee.fh)
            fuse_reply_err(req, 0)
        }
        ops.opendir = { req, ino, fi in
            FuseOperations.reply(req, "opendir") { (fs) throws(FSError) in
                fi!.pointee.fh = try fs.opendir(ino)
                // Listings change on the server: never reuse the kernel's cached pages.
                fi!.pointee.cache_readdir = 0
                if fuse_reply_open(req, fi) != 0 { fs.releasedir(fi!.pointee.fh) }
            }
        }
        ops.readdir = { req, _, size, offset, fi in
            let fh = fi!.pointee.fh
            FuseOperations.reply(req, "readdir") { (fs) throws(FSError) in try DirectoryReply.send(req, fs: fs, handle: fh, size: size, offset: offset, plus: false) }
        }
        ops.readdirplus = { req, _, size, offset, fi in
            let fh = fi!.pointee.fh
            FuseOperations.reply(req, "readdirplus") { (fs) throws(FSError) in try DirectoryReply.send(req, fs: fs, handle: fh, size: size, offset: offset, plus: true) }
        }
        ops.releasedir = { req, _, fi in
            FuseOperations.adapter(req).filesystem.releasedir(fi!.pointee.fh)
            fuse_reply_err(req, 0)
        }
        ops.poll = { req, _, fi, ph in
            let fh = fi!.pointee.fh
            FuseOperations.reply(req, "poll") { (fs) throws(FSError) in
                let ready: Bool, taskId: String?
                do throws(FSError) { (ready, taskId) = try fs.pollReadable(fh) } catch {
                    if let ph { fuse_pollhandle_destroy(ph) }
                    throw error
                }
                if let ph {
                    if !ready, let taskId {
                        let waiters = FuseOperations.adapter(req).pollWaiters
                        waiters.wait(ph, file: fh, forGrowthOf: taskId)
                        // Growth between the check and the registration must still wake it.
                        if (try? fs.pollReadable(fh).ready) == true { waiters.grew(taskId) }
                    } else {
                        fuse_pollhandle_destroy(ph)
                    }
                }
                fuse_reply_poll(req, ready ? UInt32(POLLIN | POLLRDNORM) : 0)
            }
        }
        ops.statfs = { req, _ in
            var st = statvfs()
            st.f_bsize = 1 << 20
            st.f_frsize = 4096
            st.f_namemax = 255
            fuse_reply_statfs(req, &st)
        }
        return ops
    }

    static func adapter(_ req: fuse_req_t?) -> FuseAdapter {
        Unmanaged<FuseAdapter>.fromOpaque(fuse_req_userdata(req)!).takeUnretainedValue()
    }

    /// Runs `body` as the cancellable operation `name` (the kernel's interrupt of `req` cancels
    /// it); a thrown `FSError` becomes the one reply, and is logged here, once, at its level.
    static func reply(_ req: fuse_req_t?, _ name: StaticString, _ body: (SynapseFilesystem) throws(FSError) -> Void) {
        let adapter = adapter(req)
        let (number, cancellation) = adapter.operations.begin()
        defer { adapter.operations.end(number) }
        InFlightOperations.cancelOnInterrupt(req, number: number)
        do {
            try Cancellation.run(cancellation) { () throws(FSError) in try body(adapter.filesystem) }
        } catch {
            adapter.logger.log(level: error.level, "\(name) failed: \(error.message)",
                               metadata: ["errno": "\(error.errno)", "source": "\(error.source.rawValue)"])
            fuse_reply_err(req, error.errno)
        }
    }
}
