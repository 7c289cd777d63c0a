import CFuse
import FuseShim
import Foundation
import Logging
import SynapseCore

/// Owns one libfuse session: mounts the filesystem, serves it on a multi-threaded loop and
/// unmounts cleanly on SIGINT, SIGTERM, SIGHUP or `fusermount3 -u`.
public final class FuseAdapter: Sendable {
    public let filesystem: SynapseFilesystem
    let logger: Logger
    let pollWaiters = PollWaiters()
    let operations = InFlightOperations()
    /// Worker threads: reads may wait on downloads, so there are more than cores.
    static let maxThreads: UInt32 = 32

    public init(filesystem: SynapseFilesystem, logger: Logger) {
        self.filesystem = filesystem
        self.logger = logger
        filesystem.onLogGrowth { [pollWaiters] taskId in pollWaiters.grew(taskId) }
    }

    public struct MountError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Signals that stop the mount: blocked in every thread but the one running the loop.
    public static let stopSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    /// Two malloc arenas, not one per busy thread: with 32 FUSE threads each keeping its
    /// freed 1 MiB buffers, the default let the daemon's RSS grow by ~17 MiB for nothing.
    /// Call before any thread starts.
    public static func limitMallocArenas() {
        _ = sfs_malloc_arena_max(2)
    }

    /// Blocks the stop signals in the calling thread and every thread it starts from now on.
    /// Call first thing, so helper threads never take a signal meant for the loop.
    public static func blockStopSignals() {
        var set = sigset_t()
        sigemptyset(&set)
        for s in stopSignals { sigaddset(&set, s) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Mounts at `mountpoint` and serves until unmounted; `onMounted` runs once the mount is live.
    public func run(mountpoint: String, options: [String], onMounted: () -> Void) throws(MountError) {
        var args = fuse_args()
        defer { fuse_opt_free_args(&args) }
        let mountOptions = ["fsname=synapsefs", "subtype=synapsefs", "max_read=\(1 << 20)"] + options
        for arg in ["synapsefs", "-o", mountOptions.joined(separator: ",")] {
            guard fuse_opt_add_arg(&args, arg) == 0 else { throw MountError(description: "out of memory building FUSE arguments") }
        }
        var ops = FuseOperations.table()
        let userdata = Unmanaged.passRetained(self)
        defer { userdata.release() }
        guard let session = sfs_session_new(&args, &ops, userdata.toOpaque()) else {
            throw MountError(description: "libfuse refused the mount options \(mountOptions.joined(separator: ","))")
        }
        defer { fuse_session_destroy(session) }
        // libfuse installs handlers only where the current one is the default.
        for s in Self.stopSignals { signal(s, SIG_DFL) }
        guard fuse_set_signal_handlers(session) == 0 else { throw MountError(description: "cannot install signal handlers") }
        defer { fuse_remove_signal_handlers(session) }
        guard fuse_session_mount(session, mountpoint) == 0 else {
            throw MountError(description: "cannot mount on \(mountpoint) (is /dev/fuse available and the folder empty and not mounted?)")
        }
        KernelReadahead.raise(mountpoint: mountpoint, kilobytes: 1 << 10, logger: logger)
        onMounted()
        var set = sigset_t()
        sigemptyset(&set)
        for s in Self.stopSignals { sigaddset(&set, s) }
        let watcher = ShutdownWatcher(session: session, operations: operations)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        let rc = sfs_session_loop_mt(session, Self.maxThreads)
        pthread_sigmask(SIG_BLOCK, &set, nil)
        watcher.stop()
        pollWaiters.close()
        fuse_session_unmount(session)
        logger.info("unmounted \(mountpoint)")
        if rc < 0 { logger.warning("FUSE loop ended with error \(-rc)") }
    }
}
