import Foundation
import Logging
import Synchronization
import SynapseCore
import SynapseHTTP

/// The runs this mount holds a stream of, each read on a thread of its own: the ones its
/// prompts started (the answer to `POST /api/web-stream` is the run's JSON lines) and the
/// ones started elsewhere that it follows. What they say is summed into events, queued for the
/// feed. A dropped stream resumes from the last chunk read, so nothing is missed or shown
/// twice. `stop()` ends every reader and waits for it: no reader outlives the mount.
///
/// Lock order: a run's acceptance before the queue's lock; `state` and a run's `progress` are
/// each taken alone. None is held across a request or while waiting for a reader.
final class SageRunStreams: Sendable {
    /// Reads a run's stream, from the prompt's request (`prompt` set) or from the chunk
    /// `lastIndex` on, handing `lines` (the JSON values of each piece; empty for a heartbeat)
    /// until it returns false (a normal return) or the stream ends or fails.
    typealias Reading = @Sendable (_ taskId: String, _ prompt: Data?, _ lastIndex: Int,
                                   _ lines: ([[UInt8]]) -> Bool) throws(RemoteError) -> Void
    /// The conversation's stored messages that are final (the prompt of a run started elsewhere).
    typealias Stored = @Sendable (_ taskId: String) throws(RemoteError) -> [TranscriptEntry]

    /// Resumes tried one after another before a run's stream counts as lost.
    static let maxResumes = 6
    /// How long a prompt's close() waits for the run's first words; after it, a request the
    /// server has not refused counts as taken (a run may think long before it says anything).
    static let acceptWait = 5.0
    /// Runs started elsewhere followed at once, at most.
    static let maxFollowed = 32
    /// Events queued for the feed, at most: past it, streaming updates are dropped (the
    /// entries' final text still comes).
    static let maxQueued = 100_000

    private struct State {
        var runs: [String: Run] = [:]
        /// Conversations the server says run, by `active_sessions`.
        var activeElsewhere: Set<String> = []
        /// Conversations this mount interrupted, until their next prompt.
        var interrupted: Set<String> = []
        /// Every reader whose thread runs (a run replaced in `runs` may still be finishing).
        var readers: [ObjectIdentifier: Run] = [:]
        var stopped = false
    }

    private let reading: Reading
    private let stored: Stored
    private let logger: Logger
    private let state = Mutex(State())
    private let queue = FeedEventQueue(limit: maxQueued)

    init(logger: Logger, reading: @escaping Reading, stored: @escaping Stored) {
        self.logger = logger
        self.reading = reading
        self.stored = stored
    }

    // MARK: What the client asks

    /// Starts a run with the prompt's request, returning once the server answered with its
    /// first words or `acceptWait` passed without a refusal; a refusal is the send's error.
    /// `prompt` is shown in stream.log first, once the server took it.
    func start(taskId: String, request body: Data, prompt: TranscriptEntry) throws(RemoteError) {
        let run = Run(taskId: taskId, prompt: prompt, progress: SageRunSum())
        try state.withLock { (s) throws(RemoteError) in
            guard !s.stopped else { throw .interrupted("the mount is stopping: prompt for \(taskId) not sent") }
            if s.runs[taskId].map({ !$0.isFinished }) ?? false || s.activeElsewhere.contains(taskId) {
                throw .busy("conversation \(taskId) is running; a prompt would interrupt it (wait, or `echo cancel > ctl`)")
            }
            s.runs[taskId] = run
            s.interrupted.remove(taskId)
            // Registered with the check of `stopped`: a stop from now on waits for this reader.
            s.readers[ObjectIdentifier(run)] = run
        }
        spawn(run, prompt: body)
        try run.waitUntilAccepted(within: Self.acceptWait, enqueue: enqueue)
    }

    /// Follows a run started elsewhere (from its first chunk), unless one is held already.
    func follow(_ taskId: String) {
        let run = Run(taskId: taskId, prompt: nil, progress: SageRunSum())
        let started = state.withLock { s -> Bool in
            guard !s.stopped, s.runs[taskId]?.isFinished ?? true,
                  s.runs.values.count(where: { !$0.isFinished }) < Self.maxFollowed else { return false }
            s.runs[taskId] = run
            // A run started elsewhere after a cancel here: the conversation runs again.
            s.interrupted.remove(taskId)
            s.readers[ObjectIdentifier(run)] = run
            return true
        }
        if started { spawn(run, prompt: nil) }
    }

    /// Whether the conversation runs, as far as this mount knows.
    func isRunning(_ taskId: String) -> Bool {
        state.withLock { s in s.runs[taskId].map { !$0.isFinished } ?? false || s.activeElsewhere.contains(taskId) }
    }

    /// What the conversation's run held by this mount has said so far (empty: none runs).
    func liveEntries(_ taskId: String) -> [TranscriptEntry] {
        guard let run = state.withLock({ $0.runs[taskId] }), !run.isFinished else { return [] }
        return run.progress.withLock { $0.liveEntries }
    }

    func wasInterrupted(_ taskId: String) -> Bool { state.withLock { $0.interrupted.contains(taskId) } }

    func interrupted(_ taskId: String) { _ = state.withLock { $0.interrupted.insert(taskId) } }

    /// The server's list of running conversations: new ones are followed, and every one that
    /// started or ended is fetched again.
    func activeSessions(_ active: Set<String>) {
        let (started, ended) = state.withLock { s in
            defer { s.activeElsewhere = active }
            return (active.subtracting(s.activeElsewhere), s.activeElsewhere.subtracting(active))
        }
        for taskId in started.sorted() { follow(taskId) }
        for taskId in started.union(ended).sorted() { enqueue([.changed(taskId: taskId)]) }
    }

    /// The list is no longer watched: what it said may be stale now.
    func forgetActiveSessions() {
        state.withLock { $0.activeElsewhere = [] }
    }

    /// The queued events, waiting up to `seconds` for one.
    func takeEvents(waitingUpTo seconds: Double) -> [FeedEvent] {
        queue.take(waitingUpTo: seconds)
    }

    /// Ends every reader (their requests are cancelled) and waits for them.
    func stop() {
        let runs = state.withLock { s in
            s.stopped = true
            return Array(s.readers.values)
        }
        for run in runs { run.cancellation.cancel() }
        for run in runs { run.waitUntilFinished() }
    }

    // MARK: Reading

    /// Starts the reader of a run registered in `readers`.
    private func spawn(_ run: Run, prompt: Data?) {
        let thread = Thread { [self] in
            Cancellation.run(run.cancellation) { read(run, prompt: prompt) }
            // A sender still waiting (the mount stopped under it) learns the prompt may not have gone.
            _ = run.refused(.interrupted("the mount is stopping: prompt for \(run.taskId) not confirmed"))
            state.withLock { _ = $0.readers.removeValue(forKey: ObjectIdentifier(run)) }
            run.readerDone()
        }
        thread.name = "sage-run"
        thread.start()
    }

    /// Reads the run to its `stream_end`, resuming after each drop from the chunk it reached.
    private func read(_ run: Run, prompt: Data?) {
        var prompt = prompt
        var failures = 0
        // A run started elsewhere: its prompt, stored already, comes before what it says.
        if run.prompt == nil, let entries = try? stored(run.taskId) {
            enqueue(entries.map { .entry(taskId: run.taskId, $0) })
        }
        while !run.cancellation.isCancelled {
            // Values read: a stream of heartbeats alone is alive, but no progress.
            var heard = false
            var failure: RemoteError?
            do {
                try reading(run.taskId, prompt, run.progress.withLock { $0.chunksRead }) { lines in
                    run.accepted(enqueue: enqueue)
                    for line in lines {
                        heard = true
                        let (events, ended) = run.progress.withLock { sum in (sum.take(line, taskId: run.taskId), sum.ended) }
                        // Over before its last events are handed on: whoever they make look
                        // at the conversation finds it no longer running.
                        if ended { run.finish() }
                        enqueue(events)
                        if ended { return false }
                    }
                    return true
                }
            } catch {
                failure = error
            }
            let (ended, chunksRead) = run.progress.withLock { ($0.ended, $0.chunksRead) }
            if ended || run.cancellation.isCancelled { return }
            if prompt != nil, !heard, let failure {
                // The prompt's own request failed before the run said anything: the send fails,
                // or, when its sender stopped waiting, the task does, saying why.
                if run.refused(failure) { return }
                if !failure.isConnectivity {
                    lost(run, why: failure.description)
                    return
                }
            }
            prompt = nil
            failures = heard ? 1 : failures + 1
            let why = failure?.description ?? "the server closed it before the run ended"
            if run.prompt == nil, case .notFound? = failure { return }
            guard failures <= Self.maxResumes else {
                lost(run, why: why)
                return
            }
            logger.info("run stream dropped; resuming", metadata: ["task": "\(run.taskId)", "from": "\(chunksRead)", "why": "\(why)"])
            // A stream that was flowing is resumed at once; one that cannot be reached, with backoff.
            guard pause(run, seconds: heard ? 0.05 : min(8, 0.25 * Double(1 << failures))) else { return }
        }
    }

    /// A stream that could not be resumed: the task fails, saying why, in stream.log.
    private func lost(_ run: Run, why: String) {
        logger.warning("run stream lost", metadata: ["task": "\(run.taskId)", "error": "\(why)"])
        let entry = TranscriptEntry(id: "stream-lost-\(UUID().uuidString.prefix(8))", time: Int64(Date().timeIntervalSince1970 * 1000),
                                    speaker: .error, text: "the run's stream was lost and could not be resumed: \(why)")
        enqueue([.entry(taskId: run.taskId, entry), .changed(taskId: run.taskId)])
    }

    /// Sleeps, unless the run is cancelled first (then false).
    private func pause(_ run: Run, seconds: Double) -> Bool {
        let until = Date().addingTimeInterval(seconds)
        while Date() < until {
            if run.cancellation.isCancelled { return false }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return !run.cancellation.isCancelled
    }

    private func enqueue(_ new: [FeedEvent]) {
        queue.add(new)
    }
}

extension SageRunStreams {
    /// One run's reader, with what it has summed so far.
    typealias Run = HeldRun<SageRunSum>
}
