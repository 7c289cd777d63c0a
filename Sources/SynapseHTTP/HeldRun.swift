import Foundation
import Synchronization
import SynapseCore

/// One agent run a backend holds the stream of, read on a thread of its own: its
/// cancellation, what it has made of the stream so far (`progress`), whether the sender of
/// its prompt was answered, and its end. The prompt's sender waits (bounded) until the server
/// takes the prompt or refuses it; the prompt's entry is queued before anything the run says.
///
/// Lock order: `acceptance` before the queue's lock (`accepted` queues the prompt under it);
/// `progress` is taken alone.
public final class HeldRun<Progress: Sendable>: Sendable {
    enum Acceptance { case waiting, accepted, refused(RemoteError) }

    public let taskId: String
    /// The prompt that started it (nil: a run followed from elsewhere).
    public let prompt: TranscriptEntry?
    public let cancellation = Cancellation()
    /// What the reader has made of the stream (it adds, others read).
    public let progress: Mutex<Progress>
    private let acceptance = NSCondition()
    nonisolated(unsafe) private var accepting = Acceptance.waiting  // guarded by `acceptance`
    private let ended = Atomic<Bool>(false)
    private let readerEnded = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    public init(taskId: String, prompt: TranscriptEntry?, progress: Progress) {
        self.taskId = taskId
        self.prompt = prompt
        self.progress = Mutex(progress)
    }

    public var isFinished: Bool { ended.load(ordering: .acquiring) }

    /// Its reader's thread is done (what it does after the run's end, too).
    public var readerIsDone: Bool { readerEnded.load(ordering: .acquiring) }

    /// The server took the prompt: it is queued (once) before anything the run says.
    public func accepted(enqueue: ([FeedEvent]) -> Void) {
        acceptance.lock()
        defer { acceptance.unlock() }
        guard case .waiting = accepting else { return }
        accepting = .accepted
        if let prompt { enqueue([.entry(taskId: taskId, prompt)]) }
        acceptance.broadcast()
    }

    /// The prompt's request failed; true when its sender takes the failure (it still waits).
    public func refused(_ error: RemoteError) -> Bool {
        acceptance.lock()
        defer { acceptance.unlock() }
        guard case .waiting = accepting else { return false }
        accepting = .refused(error)
        // No longer running by the time its sender hears why.
        finish()
        acceptance.broadcast()
        return true
    }

    /// The sender's wait: until the server answers, `seconds` pass (then the prompt counts as
    /// taken), or the sender's own operation is cancelled.
    public func waitUntilAccepted(within seconds: Double, enqueue: ([FeedEvent]) -> Void) throws(RemoteError) {
        let deadline = Date().addingTimeInterval(seconds)
        acceptance.lock()
        while case .waiting = accepting, Date() < deadline, Cancellation.current?.isCancelled != true {
            _ = acceptance.wait(until: min(deadline, Date().addingTimeInterval(0.1)))
        }
        let outcome = accepting
        acceptance.unlock()
        switch outcome {
        case .refused(let error): throw error
        case .accepted: return
        case .waiting:
            if Cancellation.current?.isCancelled == true {
                // The caller gave up; the run, if the server took it, is still followed.
                throw .interrupted("prompt for \(taskId): the caller gave up waiting for the server")
            }
            accepted(enqueue: enqueue)
        }
    }

    /// The run is over, or no longer followed.
    public func finish() {
        ended.store(true, ordering: .releasing)
    }

    /// Its reader's thread is done.
    public func readerDone() {
        finish()
        readerEnded.store(true, ordering: .releasing)
        done.signal()
    }

    /// Waits for its reader's thread (any number of callers).
    public func waitUntilFinished() {
        done.wait()
        done.signal()
    }

    /// Unmount, for a server that loses a run whose stream closes: the readers still in flight
    /// are waited for, together, up to `seconds` (`warn` says so, naming each run by `what`),
    /// then every reader is closed and joined.
    public static func stop(_ readers: [HeldRun], waitingUpTo seconds: Double, what: String, why: String,
                            warn: (String) -> Void) {
        let inFlight = readers.filter { !$0.readerIsDone }
        if !inFlight.isEmpty {
            warn("unmounting while \(inFlight.count) \(what)(s) are in flight; waiting up to \(Int(seconds)) s for them (\(why))")
        }
        let deadline = Date().addingTimeInterval(seconds)
        for run in inFlight where !run.waitUntilFinished(within: max(0, deadline.timeIntervalSinceNow)) {
            warn("closing the \(what) of \(run.taskId): it did not end in time")
            run.cancellation.cancel()
        }
        for run in readers { run.cancellation.cancel() }
        for run in readers { run.waitUntilFinished() }
    }

    /// Waits up to `seconds` for its reader's thread; false when it still runs.
    public func waitUntilFinished(within seconds: Double) -> Bool {
        guard done.wait(timeout: .now() + seconds) == .success else { return false }
        done.signal()
        return true
    }
}
