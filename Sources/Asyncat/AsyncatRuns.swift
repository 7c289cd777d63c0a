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
            if s.runs[conversationId].map({ !$0.isFinished }) ?? false {
                throw .busy("conversation \(conversationId) is running; wait, answer what it asks, or `echo cancel > ctl`")
            }
            s.runs[taskId] = run
            s.runs[conversationId] = run
            s.interrupted.remove(conversationId)
            s.readers[ObjectIdentifier(run)] = run
        }
        let thread = Thread { [self] in
            Cancellation.run(run.cancellation) { read(run, conversationId: conversationId, body: body) }
            _ = run.refused(.interrupted("the mount is stopping: prompt for \(taskId) not confirmed"))
            state.withLock { _ = $0.readers.removeValue(forKey: ObjectIdentifier(run)) }
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

    func liveEntries(_ taskId: String) -> [TranscriptEntry] { run(of: taskId)?.progress.withLock { $0.liveEntries } ?? [] }

    /// The question was answered: `entry` (what the user said) is shown, and the run goes on.
    func answered(_ taskId: String, entry: TranscriptEntry) {
        run(of: taskId)?.progress.withLock { $0.answered(entry) }
        queue.add([.entry(taskId: taskId, entry)])
    }

    /// Cancel: the run's stream is closed (the server stops the run).
    func cancel(_ taskId: String) -> Bool {
        guard let run = run(of: taskId) else { return false }
        state.withLock { $0.interrupted.insert(taskId) }
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
        let inFlight = runs.filter { !$0.isFinished }
        if !inFlight.isEmpty {
            logger.warning("unmounting while \(inFlight.count) run(s) are in flight; waiting up to \(Int(Self.unmountWait)) s for them (Asyncat stops a run whose stream closes)")
        }
        let deadline = Date().addingTimeInterval(Self.unmountWait)
        for run in inFlight where !run.waitUntilFinished(within: max(0, deadline.timeIntervalSinceNow)) {
            logger.warning("closing the run of \(run.taskId): it did not end in time")
            run.cancellation.cancel()
        }
        for run in runs { run.cancellation.cancel() }
        for run in runs { run.waitUntilFinished() }
    }

    /// Reads the run to its `done`, then saves the conversation; a stream that ends before
    /// it fails the task (there is no resume).
    private func read(_ run: Run, conversationId: String, body: Data) {
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
        if !heard, let failure, run.refused(failure) { return }
        let log = run.progress.withLock { $0 }
        let reply: String
        if log.done {
            reply = log.failure.map { "Error: " + $0 } ?? log.answer ?? ""
        } else if run.cancellation.isCancelled, wasInterrupted(run.taskId) {
            reply = "(cancelled)"
            queue.add([.changed(taskId: run.taskId)])
        } else {
            let why = failure?.description ?? "the server closed it before the run was done"
            logger.warning("run stream lost", metadata: ["task": "\(run.taskId)", "error": "\(why)"])
            let text = "the run's stream was lost before the run was done (\(why)); Asyncat cannot resume a run: send the prompt again"
            queue.add([.entry(taskId: run.taskId, TranscriptEntry(id: log.runId + "-lost", time: Int64(Date().timeIntervalSince1970 * 1000),
                                                                  speaker: .error, text: text)),
                       .changed(taskId: run.taskId)])
            reply = "Error: " + text
        }
        run.finish()
        // Saved as the web client saves it, so the conversation is listed with its reply.
        do throws(RemoteError) {
            try saving(conversationId, run.prompt, TranscriptEntry(id: log.answerId, time: Int64(Date().timeIntervalSince1970 * 1000), speaker: .result,
                                                       text: reply), log.sessionId)
        } catch {
            logger.warning("conversation not saved after its run", metadata: ["task": "\(run.taskId)", "error": "\(error)"])
            queue.add([.notice(title: "conversation \(conversationId) not saved", text: error.description, isError: false)])
        }
        queue.add([.changed(taskId: run.taskId)])
    }
}
