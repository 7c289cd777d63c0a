import CFuse
import Foundation
import Synchronization

/// poll() callers waiting for a task's stream.log to grow: one pollhandle per open file (a
/// new poll of it replaces the old handle, as libfuse's poll example keeps them), dropped when
/// the file is released. Wake-ups go out from a queue of their own, never from inside a
/// request handler.
final class PollWaiters: Sendable {
    private struct Waiter: @unchecked Sendable {
        let taskId: String
        let pointer: OpaquePointer
    }

    /// By file handle; nil once closed (the session is ending: no handle may outlive it).
    private let waiting = Mutex<[UInt64: Waiter]?>([:])
    private let queue = DispatchQueue(label: "synapsefs.poll")

    func wait(_ handle: OpaquePointer, file: UInt64, forGrowthOf taskId: String) {
        let waiter = Waiter(taskId: taskId, pointer: handle)
        let (stored, replaced) = waiting.withLock { waiting -> (Bool, Waiter?) in
            guard waiting != nil else { return (false, nil) }
            return (true, waiting!.updateValue(waiter, forKey: file))
        }
        if let replaced { destroy([replaced], notify: false) }
        if !stored { destroy([waiter], notify: false) }
    }

    func grew(_ taskId: String) {
        let woken = waiting.withLock { waiting -> [Waiter] in
            guard let matching = waiting?.filter({ $0.value.taskId == taskId }) else { return [] }
            for file in matching.keys { waiting?[file] = nil }
            return Array(matching.values)
        }
        destroy(woken, notify: true)
    }

    /// The file was released: its handle goes (no one waits on it any more).
    func released(_ file: UInt64) {
        if let waiter = waiting.withLock({ $0?.removeValue(forKey: file) }) { destroy([waiter], notify: false) }
    }

    /// The session is ending: every handle goes now, and wake-ups already queued are sent,
    /// before libfuse's session (which they use) is destroyed. Later calls do nothing.
    func close() {
        let left = waiting.withLock { waiting -> [Waiter] in
            defer { waiting = nil }
            return waiting.map { Array($0.values) } ?? []
        }
        destroy(left, notify: false)
        queue.sync {}
    }

    private func destroy(_ waiters: [Waiter], notify: Bool) {
        guard !waiters.isEmpty else { return }
        queue.async {
            for waiter in waiters {
                // ENOENT/EBADF/ENODEV during unmount are expected and harmless.
                if notify { _ = fuse_lowlevel_notify_poll(waiter.pointer) }
                fuse_pollhandle_destroy(waiter.pointer)
            }
        }
    }
}
