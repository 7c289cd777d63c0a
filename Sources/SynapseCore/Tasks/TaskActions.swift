import Foundation
import Logging

/// What writing to a task folder does: prompts go to the agent, ctl commands act on the task.
public final class TaskActions: Sendable {
    public static let maxPromptBytes = 1 << 20

    let remote: any AgentBackend
    let catalog: TaskCatalog
    let details: TaskDetails
    let notices: TaskNotices
    let health: ServerHealth
    let spool: UploadSpool
    let allowDelete: Bool
    let logger: Logger

    init(remote: any AgentBackend, catalog: TaskCatalog, details: TaskDetails, notices: TaskNotices, health: ServerHealth,
         spool: UploadSpool, allowDelete: Bool, logger: Logger) {
        self.spool = spool
        self.remote = remote
        self.catalog = catalog
        self.details = details
        self.notices = notices
        self.health = health
        self.allowDelete = allowDelete
        self.logger = logger
    }

    /// Sends `bytes` as the task's next prompt: the first of a draft starts the task.
    /// Sent at most once: a failure is reported and noted, never retried behind the user's back.
    func sendPrompt(_ bytes: Data, taskId: String) throws(FSError) {
        guard bytes.count <= Self.maxPromptBytes else {
            throw refused(EFBIG, "prompt not sent: it is \(bytes.count) bytes, the limit is \(Self.maxPromptBytes)", taskId)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw refused(EINVAL, "prompt not sent: it is not valid UTF-8", taskId)
        }
        guard !text.allSatisfy(\.isWhitespace) else {
            throw refused(EINVAL, "prompt not sent: it holds only whitespace", taskId)
        }
        let record = catalog.local.record(for: taskId)
        let isDraft = record?.isDraft ?? false
        // Uploads that wait to be named in the next prompt go with it, and wait no more once it is sent.
        let attached = spool.attachments(of: taskId)
        do {
            let sent = try remote.send(Prompt(taskId: taskId, text: text, startsTask: isDraft, attachments: attached.compactMap(\.attachment),
                                              orchestration: isDraft ? record?.orchestration : nil, agent: isDraft ? record?.agent : nil))
            if !sent.attachmentsKept { spool.attachmentsSent(attached.map(\.id)) }
        } catch {
            health.record(error)
            notices.add("prompt not sent: \(error)", taskId: taskId)
            throw error.fsError.withMessage("prompt for \(taskId) not sent: \(error)", errno: Self.sendErrno(error))
        }
        health.recordSuccess()
        catalog.local.promptSent(text, taskId: taskId)
        details.invalidate(taskId)
        if isDraft { catalog.invalidate() }
        logger.info("prompt sent", metadata: ["task": "\(taskId)", "as": "\(isDraft ? "first prompt" : "next prompt")", "bytes": "\(bytes.count)"])
    }

    /// What close() of prompt.txt says when a send failed: EACCES for a rejected key,
    /// ETIMEDOUT when the server could not be reached (nothing was taken), EINVAL for a prompt
    /// the task cannot take (a run that has ended), else EIO.
    static func sendErrno(_ error: RemoteError) -> Int32 {
        switch error {
        case .rejectedKey: EACCES
        case .unreachable, .timedOut: ETIMEDOUT
        case .interrupted: EINTR
        case .busy: EBUSY
        case .invalidRequest: EINVAL
        default: EIO
        }
    }

    /// What a failed cancel or delete says: EACCES for a rejected key, EINTR when the caller
    /// gave up, else EIO.
    static func controlErrno(_ error: RemoteError) -> Int32 {
        switch error {
        case .rejectedKey: EACCES
        case .interrupted: EINTR
        default: EIO
        }
    }

    /// Runs one ctl command: `cancel`, `refresh` or `delete`.
    func run(command bytes: Data, taskId: String) throws(FSError) {
        let command = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        switch command {
        case "cancel":
            guard remote.capabilities.cancel else { throw FSError(errno: ENOTSUP, "this server cannot cancel a task") }
            do { try remote.control(.cancel, taskId: taskId) } catch {
                health.record(error)
                throw error.fsError.withMessage("cancel of \(taskId) failed: \(error)", errno: Self.controlErrno(error))
            }
            details.invalidate(taskId)
            notices.add("cancel requested", taskId: taskId)
        case "allow", "deny":
            guard remote.capabilities.permissions else {
                throw FSError(errno: ENOTSUP, "this server does not ask permission to run tools: nothing to \(command)")
            }
            do { try remote.control(command == "allow" ? .allow : .deny, taskId: taskId) } catch {
                health.record(error)
                // Refused: nothing waits for a decision now.
                let errno = if case .refused = error { EINVAL } else { Self.controlErrno(error) }
                throw error.fsError.withMessage("\(command) for \(taskId) failed: \(error)", errno: errno)
            }
            details.invalidate(taskId)
            notices.add("\(command) sent", taskId: taskId)
        case "refresh":
            details.invalidate(taskId)
            catalog.invalidate()
        case "delete":
            guard allowDelete else {
                throw FSError(errno: EPERM, "refused to delete task \(taskId): deleting tasks needs --allow-delete", level: .warning)
            }
            if catalog.local.record(for: taskId)?.isDraft != true {
                guard remote.capabilities.delete else { throw FSError(errno: ENOTSUP, "this server cannot delete a task") }
                do { try remote.control(.delete, taskId: taskId) } catch {
                    health.record(error)
                    throw error.fsError.withMessage("delete of \(taskId) failed: \(error)", errno: Self.controlErrno(error))
                }
            }
            catalog.local.forget(taskId)
            catalog.invalidate()
            catalog.localTasksChanged()
            logger.notice("deleted task \(taskId)")
        default:
            throw FSError(errno: EINVAL, "unknown ctl command \(command.debugDescription): use cancel, refresh, delete, allow or deny")
        }
    }

    /// Chooses the agent a draft's first prompt goes to: an agent's id or name (any case), as
    /// `agents/` lists them; an empty file goes back to the server's default. Refused once the
    /// task has started (the server keeps a session's agent).
    func chooseAgent(_ bytes: Data, taskId: String, among agents: ServerDirectory<AgentSummary>) throws(FSError) {
        let wanted = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard catalog.local.record(for: taskId)?.isDraft == true else {
            throw refused(EPERM, "agent not changed: it is chosen before the first prompt, and this task has started", taskId)
        }
        var chosen: String?
        if !wanted.isEmpty {
            let listed = try agents.current().items
            guard let agent = listed.first(where: { $0.id == wanted }) ?? listed.first(where: { $0.name.lowercased() == wanted.lowercased() }) else {
                throw refused(EINVAL, "agent not changed: no agent is called \(wanted.debugDescription) (see agents/)", taskId)
            }
            chosen = agent.id
        }
        guard catalog.local.choose(agent: chosen, for: taskId) else {
            throw refused(EPERM, "agent not changed: it is chosen before the first prompt, and this task has started", taskId)
        }
        logger.info("agent chosen", metadata: ["task": "\(taskId)", "agent": "\(chosen ?? "the server's default")"])
    }

    private func refused(_ errno: Int32, _ message: String, _ taskId: String) -> FSError {
        notices.add(message, taskId: taskId)
        return FSError(errno: errno, "\(message) (task \(taskId))")
    }
}
