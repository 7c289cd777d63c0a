import Foundation
import Logging
import Synchronization

/// Sends spooled files to the server: at the writer's close or fsync, and from a background
/// worker that retries failures with backoff (also those left by an earlier run).
public final class Uploader: Sendable {
    static let firstRetry = 1.0
    static let maxRetry = 300.0

    let spool: UploadSpool
    private let remote: any AgentBackend
    private let details: TaskDetails
    private let notices: TaskNotices
    private let health: ServerHealth
    private let isDraft: @Sendable (String) -> Bool
    private let logger: Logger
    private let wake = NSCondition()
    /// Uploads running while their file is written, by spool entry.
    private let live = Mutex<[String: LiveUpload]>([:])
    /// The question for a file each task's upload answered (by its entry id): one question is
    /// answered once, so a second file dropped meanwhile is stored with the task.
    private let answeredQuestions = Mutex<[String: String]>([:])

    init(spool: UploadSpool, remote: any AgentBackend, details: TaskDetails, notices: TaskNotices, health: ServerHealth,
         isDraft: @escaping @Sendable (String) -> Bool, logger: Logger) {
        self.spool = spool
        self.remote = remote
        self.details = details
        self.notices = notices
        self.health = health
        self.isDraft = isDraft
        self.logger = logger
    }

    /// Uploads the entry now and reports the outcome (for close() and fsync()). An upload of
    /// the same entry already in flight is waited for first: this one carries newer bytes.
    func uploadNow(_ id: String) throws(FSError) {
        let running = live.withLock { $0.removeValue(forKey: id) }
        let claimed: Int?
        do throws(FSError) { claimed = try spool.claimWaiting(id) } catch {
            // Interrupted while another upload of it ran: the last release queues it.
            running?.abandon()
            throw error
        }
        guard let revision = claimed, let entry = spool.entry(id: id) else {
            running?.abandon()
            return
        }
        var outcome = running?.finish(size: spool.size(of: id))
        // A 404 may mean the server lacks that upload route: the whole file, which can be
        // sent again, lets the client try the older one.
        if case .failure(let error)? = outcome, error.errno == ENOENT { outcome = nil }
        try perform(entry, revision: revision, liveOutcome: outcome)
    }

    // MARK: Uploading while the file is written

    /// A writer stored `count` bytes at `offset` of the entry's spool file. A final name
    /// written from its first byte starts uploading at once.
    func wrote(_ id: String, at offset: Int64, count: Int) {
        if let running = live.withLock({ $0[id] }) {
            running.wrote(at: offset, count: count)
            return
        }
        guard offset == 0, let entry = spool.entry(id: id), entry.phase == .writing, !UploadSpool.isTemporary(entry.name),
              let started = LiveUpload(entryId: id, spoolFile: spool.dataURL(id), send: { [self] stream throws(RemoteError) in
                  try remote.upload(.stream(stream), as: entry.name, taskId: entry.taskId, answering: questionToAnswer(entry.taskId))
              }) else { return }
        started.wrote(at: offset, count: count)
        let raced = live.withLock { running in
            if running[id] != nil { return true }
            running[id] = started
            return false
        }
        if raced { started.abandon() }
    }

    /// The entry's file was truncated or extended.
    func resized(_ id: String, to size: Int64) {
        live.withLock { $0[id] }?.resized(to: size)
    }

    /// The entry was renamed or removed: what is being sent no longer stands for it.
    func abandonLive(_ id: String) {
        live.withLock { $0.removeValue(forKey: id) }?.abandon()
    }

    /// One round of the uploads worker: waits up to a second for work, then uploads what is
    /// pending and retries what failed once its backoff is over.
    func uploadDue() {
        // A tenth of a second at a time, so stopping is not kept waiting.
        let cancellation = Cancellation.current
        wake.lock()
        for _ in 0..<10 where cancellation?.isCancelled != true {
            if wake.wait(until: Date().addingTimeInterval(0.1)) { break }
        }
        wake.unlock()
        for (entry, revision) in spool.claimDue() {
            // Stopping: what is left stays queued for the next run.
            guard Cancellation.current?.isCancelled != true else { spool.interruptUpload(entry.id); continue }
            // No caller to reply to: the worker's failure is logged here, a file not delivered
            // at least as a warning.
            do { try perform(entry, revision: revision) } catch {
                logger.log(level: error.errno == EINTR ? error.level : max(error.level, .warning), "\(error.message)")
            }
        }
    }

    func wakeUp() {
        wake.lock()
        wake.signal()
        wake.unlock()
    }

    /// Uploads the claimed entry, or takes the outcome of the upload that ran while it was
    /// written, and records success or failure (kept, retried with backoff, close() fails).
    private func perform(_ entry: UploadSpool.Entry, revision: Int, liveOutcome: Result<UploadOutcome, RemoteError>? = nil) throws(FSError) {
        let outcome: UploadOutcome
        do throws(RemoteError) {
            if let liveOutcome {
                outcome = try liveOutcome.get()
            } else {
                outcome = try remote.upload(.file(spool.dataURL(entry.id)), as: entry.name, taskId: entry.taskId,
                                            answering: questionToAnswer(entry.taskId))
            }
        } catch .interrupted(let what) {
            // The caller gave up (or the mount is stopping): not a failure of the upload.
            spool.interruptUpload(entry.id)
            wakeUp()
            throw FSError(errno: EINTR, "upload of \(entry.name) interrupted (\(what)); it is queued again")
        } catch {
            // The spool is now the only copy: make it durable before reporting the failure.
            // (On success the server has the bytes, so the happy path skips this fsync.)
            let fd = open(spool.dataURL(entry.id).path, O_RDONLY | O_CLOEXEC)
            if fd >= 0 { _ = Glibc.fsync(fd); close(fd) }
            health.record(error)
            let attempts = entry.attempts + 1
            let delay = min(Self.maxRetry, Self.firstRetry * pow(2, Double(attempts - 1)))
            // A refusal (too large, a bad name) would be refused again: kept, not retried.
            let refused: Bool = switch error {
            case .refused, .invalidRequest, .tooLarge, .tooMany: true
            default: false
            }
            spool.failUpload(entry.id, reason: error.description, attempts: attempts,
                             nextAttempt: refused ? .distantFuture : Date().addingTimeInterval(delay))
            notices.add(refused ? "upload of \(entry.name) refused (\(error)); not retried: delete or rename it"
                                : "upload of \(entry.name) failed (\(error)); retrying in \(Int(delay)) s", taskId: entry.taskId)
            throw error.fsError.withMessage("upload of \(entry.name) to \(entry.taskId) failed: \(error); "
                                                + (refused ? "not retried" : "retrying in \(Int(delay)) s"),
                                            errno: [EACCES, EFBIG, ENOSPC].contains(error.errno) ? error.errno : EIO)
        }
        health.recordSuccess()
        let (attachment, role): (String?, String) = switch outcome {
        case .stored: (nil, "a file of the task")
        case .answeredAgent: (nil, "the answer to the agent's question")
        case .attachedToNextPrompt(let reference): (reference, "an attachment of the next prompt")
        }
        spool.finishUpload(entry.id, revision: revision, attachment: attachment)
        details.invalidate(entry.taskId)
        logger.info("uploaded", metadata: ["task": "\(entry.taskId)", "file": "\(entry.name)", "as": "\(role)"])
    }

    /// The agent's question for a file, while it waits on one that no other upload of this
    /// mount answered; the caller's upload then answers it (and no other will).
    private func questionToAnswer(_ taskId: String) -> PendingQuestion? {
        guard !isDraft(taskId), let question = (try? remote.transcript(taskId: taskId))?.pendingQuestion,
              question.question.wantsFile else { return nil }
        return answeredQuestions.withLock { answered in
            guard answered[taskId] != question.entryId else { return nil }
            answered[taskId] = question.entryId
            return question
        }
    }
}
