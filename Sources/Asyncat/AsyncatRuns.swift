import Foundation
import Logging
import Synchronization
import SynapseCore
import SynapseHTTP

/// The runs this mount holds: each `POST /api/ai/run` answer is read on a thread of its own
/// for the run's whole life (Asyncat stops a run whose client goes away, and cannot resume
/// one). What it says is queued for the feed; when it is done the conversation is saved, as
/// the web client does. A stream that closes before `done` fails the task, saying why.
/// `stop()` (unmount) waits a while for runs in flight, then closes them.
///
/// Lock order: a run's acceptance before the queue's lock; `state` and a run's `progress` are
/// each taken alone. None is held across a request or while waiting for a reader.
final class AsyncatRuns: Sendable {
    typealias Run = HeldRun<AsyncatRunLog>
    /// Reads a run's SSE, handing each event (type, data) until it returns false.
    typealias Reading = @Sendable (_ body: Data, _ onEvent: (String, [String: Any]) -> Bool) throws(RemoteError) -> Void
    /// Saves the conversation after a run: the prompt (when not saved yet) and the agent's reply.
    typealias Saving = @Sendable (_ conversationId: String, _ prompt: TranscriptEntry?, _ reply: TranscriptEntry,
                                  _ sessionId: String?) throws(RemoteError) -> Void

    static let acceptWait = 5.0
    static let maxQueued = 100_000
    /// How long an unmount waits for runs in flight before it closes them.
    static let unmountWait = 30.0

    private struct State {
        /// Runs by every id their task goes by (the draft's and the conversation's).
        var runs: [String: Run] = [:]
        var readers: [ObjectIdentifier: Run] = [:]
        var interrupted: Set<String> = []
        var stopped = false
    }

    private let reading: Reading
    private let saving: Saving
    private let logger: Logger
    private let state = Mutex(State())
    private let queue = FeedEventQueue(limit: maxQueued)

    init(logger: Logger, reading: @escaping Reading, saving: @escaping Saving) {
        self.logger = logger
        self.reading = reading
        self.saving = saving
    }

    /// Starts a run of `conversationId` (known to the mount as `taskId` until its first
    /// prompt returns), returning once the server answered or `acceptWait` passed.
    func start(taskId: String, conversationId: String, request body: Data, prompt: TranscriptEntry) throws(RemoteError) {
        let run = Run(taskId: taskId, prompt: prompt, progress: AsyncatRunLog(runId: "run-" + UUID().uuidString.prefix(8).lowercased()))
        try state.withLock { (s) throws(RemoteError) in
            guard !s.stopped else { throw .interrupted("the mount is stopping: prompt for \(taskId) not sent") }
            // Busy until the reader is done: its save of the reply comes after the run's end.
            if [taskId, conversationId].contains(where: { s.runs[$0].map { !$0.readerIsDone } ?? false }) {
                throw .busy("conversation \(conversationId) is running; wait, answer what it asks, or `echo cancel > ctl`")
            }
            s.runs[taskId] = run
            s.runs[conversationId] = run
            s.interrupted.remove(conversationId)
            s.readers[ObjectIdentifier(run)] = run
        }
        let thread = Thread { [self] in
            let reply = Cancellation.run(run.cancellation) { read(run, conversationId: conversationId, body: body) }
            // Saved outside the run's cancellation: a cancel or an unmount ends the stream, not the save.
            if let reply { save(run, conversationId: conversationId, reply: reply) }
            _ = run.refused(.interrupted("the mount is stopping: prompt for \(taskId) not confirmed"))
            state.withLock { s in
                s.readers.removeValue(forKey: ObjectIdentifier(run))
                for key in [taskId, conversationId] where s.runs[key] === run { s.runs.removeValue(forKey: key) }
            }
            run.readerDone()
        }
        thread.name = "asyncat-run"
        thread.start()
        try run.waitUntilAccepted(within: Self.acceptWait, enqueue: queue.add)
    }

    func run(of taskId: String) -> Run? {
        state.withLock { $0.runs[taskId] }.flatMap { $0.isFinished ? nil : $0 }
    }

    func isRunning(_ taskId: String) -> Bool { run(of: taskId) != nil }

    /// What the run waits on, if it waits.
    func pending(_ taskId: String) -> (id: String, kind: String)? { run(of: taskId)?.progress.withLock { $0.pending } }

    /// What the run held for the task has said so far, its prompt first.
    func liveEntries(_ taskId: String) -> [TranscriptEntry] {
        guard let run = run(of: taskId) else { return [] }
        return [run.prompt].compactMap { $0 } + run.progress.withLock { $0.liveEntries }
    }

    /// The question `requestId` was answered: `entry` (what the user said) is shown, and the run goes on.
    func answered(_ taskId: String, requestId: String, entry: TranscriptEntry) {
        guard let run = run(of: taskId) else { return }
        run.progress.withLock { $0.answered(requestId, with: entry) }
        queue.add([.entry(taskId: run.taskId, entry)])
    }

    /// Cancel: the run's stream is closed (the server stops the run); it is cancelled once its
    /// reader sees the stream end so (a run that ended first stays as it ended).
    func cancel(_ taskId: String) -> Bool {
        guard let run = run(of: taskId) else { return false }
        run.progress.withLock { $0.cancelRequested = true }
        run.cancellation.cancel()
        return true
    }

    func wasInterrupted(_ taskId: String) -> Bool { state.withLock { $0.interrupted.contains(taskId) } }

    func takeEvents(waitingUpTo seconds: Double) -> [FeedEvent] { queue.take(waitingUpTo: seconds) }

    /// Unmount: runs in flight are waited for (up to `unmountWait`), then closed.
    func stop() {
        let runs = state.withLock { s in
            s.stopped = true
            return Array(s.readers.values)
        }
        Run.stop(runs, waitingUpTo: Self.unmountWait, what: "run", why: "Asyncat stops a run whose stream closes") {
            logger.warning("\($0)")
        }
    }

    /// Reads the run to its `done`; the reply to save (nil: the prompt was refused, nothing to
    /// save). A stream that ends before `done` fails the task (there is no resume).
    private func read(_ run: Run, conversationId: String, body: Data) -> String? {
        var failure: RemoteError?
        var heard = false
        do {
            try reading(body) { type, data in
                heard = true
                run.accepted(enqueue: queue.add)
                let (events, done) = run.progress.withLock { log in (log.take(type, data, taskId: run.taskId), log.done) }
                if done { run.finish() }
                queue.add(events)
                return !done
            }
        } catch {
            failure = error
        }
        // An answer without a single event is no run: the sender hears so.
        if !heard, run.refused(failure ?? .malformed("run: the server answered without events")) { return nil }
        let log = run.progress.withLock { $0 }
        if log.done { return log.reply }
        if log.cancelRequested, run.cancellation.isCancelled {
            state.withLock { s in
                s.interrupted.insert(run.taskId)
                s.interrupted.insert(conversationId)
            }
            return "(cancelled)"
        }
        let why = failure?.description ?? "the server closed it before the run was done"
        logger.warning("run stream lost", metadata: ["task": "\(run.taskId)", "error": "\(why)"])
        // Shown under the reply's id, with the text saved: the saved reply reads back as the same entry.
        let text = "Error: the run's stream was lost before the run was done (\(why)); Asyncat cannot resume a run: send the prompt again"
        queue.add([.entry(taskId: run.taskId, TranscriptEntry(id: log.answerId, time: Int64(Date().timeIntervalSince1970 * 1000), speaker: .error, text: text))])
        return text
    }

    /// Saves the conversation as the web client does, so it is listed with its reply.
    private func save(_ run: Run, conversationId: String, reply: String) {
        let log = run.progress.withLock { $0 }
        run.finish()
        do throws(RemoteError) {
            try saving(conversationId, run.prompt, TranscriptEntry(id: log.answerId, time: Int64(Date().timeIntervalSince1970 * 1000),
                                                                   speaker: .result, text: reply), log.sessionId)
        } catch {
            logger.warning("conversation not saved after its run", metadata: ["task": "\(run.taskId)", "error": "\(error)"])
            queue.add([.notice(title: "conversation \(conversationId) not saved", text: error.description, isError: false)])
        }
        queue.add([.changed(taskId: run.taskId)])
    }

    /// A prompt whose send failed after its run began: the run is closed.
    func abandon(_ taskId: String) {
        run(of: taskId)?.cancellation.cancel()
    }
}
