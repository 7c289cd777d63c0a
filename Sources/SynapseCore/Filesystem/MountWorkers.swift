import Foundation

/// The mount's background work, owned in one place: the backend's feed, the uploads worker
/// (pending files, retries with backoff), the log follower (tasks driven elsewhere, logs the
/// server said changed) and the cache's record writer. `stop()` ends them all, in order, and
/// waits for each: nothing runs after unmount.
public final class MountWorkers: Sendable {
    private let filesystem: SynapseFilesystem
    private let uploads: PeriodicWorker
    private let follower: PeriodicWorker

    fileprivate init(_ filesystem: SynapseFilesystem) {
        self.filesystem = filesystem
        // The feed first, before anything can send a prompt: no early event is lost.
        filesystem.events.start(onEvent: { [weak filesystem] in filesystem?.handle($0) },
                                reconnected: { [weak filesystem] in filesystem?.eventStreamReconnected(after: $0) })
        // Uploads left pending or failed by an earlier run are retried from now on.
        uploads = PeriodicWorker.start(name: "uploads", interval: 0) { [uploader = filesystem.uploader] in uploader.uploadDue() }
        follower = PeriodicWorker.start(name: "log-follower", interval: 1) { [weak filesystem] in filesystem?.followLogs() }
    }

    /// Stops every worker (a transfer in flight is cancelled: an upload is queued again) and
    /// writes the cache records still queued, so the next mount finds every byte fetched.
    public func stop() {
        follower.stop()
        uploads.stop()
        filesystem.events.stop()
        filesystem.remote.stop()
        filesystem.cache.waitForRecords()
    }
}

extension SynapseFilesystem {
    /// Starts the background work; whoever starts it stops it.
    public func startWorkers() -> MountWorkers { MountWorkers(self) }
}
