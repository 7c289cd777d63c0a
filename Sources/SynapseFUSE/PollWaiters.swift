import CFuse
import Foundation
import Synchronization

/// poll() callers waiting for a task's stream.log to grow. Wake-ups go out from a queue of
/// their own, never from inside a request handler.
final class PollWaiters: Sendable {
    private struct Handle: @unchecked Sendable { let pointer: OpaquePointer }

    private let waiting = Mutex<[String: [Handle]]>([:])
    private let queue = DispatchQueue(label: "synapsefs.poll")

    func wait(_ handle: OpaquePointer, forGrowthOf taskId: String) {
        waiting.withLock { $0[taskId, default: []].append(Handle(pointer: handle)) }
    }

    func grew(_ taskId: String) {
        guard let handles = waiting.withLock({ $0.removeValue(forKey: taskId) }), !handles.isEmpty else { return }
        queue.async {
            for handle in handles {
                // ENOENT/EBADF/ENODEV during unmount are expected and harmless.
                _ = fuse_lowlevel_notify_poll(handle.pointer)
                fuse_pollhandle_destroy(handle.pointer)
            }
        }
    }
}
