import CFuse
import Foundation
import Synchronization
import SynapseCore

/// The operations being served, each with its cancellation, by number. The kernel's
/// interrupt of a request (its caller was killed) cancels that one; stopping the mount
/// cancels them all, so no worker holds the unmount behind a request to a stalled server.
final class InFlightOperations: Sendable {
    private struct State {
        var next: UInt64 = 1
        var running: [UInt64: Cancellation] = [:]
        var stopping = false
    }
    private let state = Mutex(State())

    /// Registers an operation; one begun after the mount started stopping is cancelled at once.
    func begin() -> (number: UInt64, cancellation: Cancellation) {
        let cancellation = Cancellation()
        let number = state.withLock { s in
            defer { s.next += 1 }
            s.running[s.next] = cancellation
            if s.stopping { cancellation.cancel() }
            return s.next
        }
        return (number, cancellation)
    }

    func end(_ number: UInt64) {
        _ = state.withLock { $0.running.removeValue(forKey: number) }
    }

    func cancel(_ number: UInt64) {
        state.withLock { $0.running[number] }?.cancel()
    }

    func cancelAll() {
        let all = state.withLock { s in
            s.stopping = true
            return Array(s.running.values)
        }
        all.forEach { $0.cancel() }
    }

    /// Arranges for the kernel's interrupt of `req` to cancel operation `number`. The number,
    /// not a pointer, is libfuse's data: its callback may run after the reply.
    static func cancelOnInterrupt(_ req: fuse_req_t?, number: UInt64) {
        fuse_req_interrupt_func(req, { req, data in
            FuseOperations.adapter(req).operations.cancel(UInt64(UInt(bitPattern: data)))
        }, UnsafeMutableRawPointer(bitPattern: UInt(number)))
    }
}

/// Watches a session from the moment it serves until `stop()`: once libfuse marks it exited
/// (a stop signal, an unmount), every operation in flight is cancelled, and so is every one
/// that starts later.
final class ShutdownWatcher: @unchecked Sendable {
    private let session: OpaquePointer
    private let operations: InFlightOperations
    private let done = DispatchSemaphore(value: 0)
    private let stopped = Atomic<Bool>(false)

    init(session: OpaquePointer, operations: InFlightOperations) {
        self.session = session
        self.operations = operations
        let thread = Thread { [self] in
            while !stopped.load(ordering: .relaxed) {
                if fuse_session_exited(self.session) != 0 {
                    self.operations.cancelAll()
                    break
                }
                usleep(100_000)
            }
            done.signal()
        }
        thread.name = "shutdown-watcher"
        thread.start()
    }

    /// Ends the watcher and waits until its thread is gone.
    func stop() {
        stopped.store(true, ordering: .relaxed)
        done.wait()
    }
}
