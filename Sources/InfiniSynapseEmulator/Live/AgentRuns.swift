import Crypto
import Foundation
import SynapseEmulatorKit
import Logging
import Synchronization

/// The scripted agent: one run per task at a time, driven by the directives in its prompt,
/// deterministic so tests can rely on what it says and writes.
final class AgentRuns: Sendable {
    private struct Run {
        var task: Task<Void, Never>
        /// Set while the agent waits for an `askResponse`.
        var answers: AsyncStream<String>.Continuation?
    }

    private let store: TaskStore
    private let hub: EventHub
    private let faults: Faults
    private let logger: Logger
    private let runs = Mutex<[String: Run]>([:])

    init(store: TaskStore, hub: EventHub, faults: Faults, logger: Logger) {
        self.store = store
        self.hub = hub
        self.faults = faults
        self.logger = logger
    }

    /// Starts the agent on `prompt` unless it is already working on this task.
    func start(taskId: String, prompt: String) {
        runs.withLock { runs in
            if let existing = runs[taskId], !existing.task.isCancelled, runs[taskId]?.answers == nil { return }
            runs[taskId]?.task.cancel()
            let task = Task { [self] in
                await self.converse(taskId: taskId, prompt: prompt, directives: Directives(prompt: prompt))
                self.runs.withLock { if $0[taskId]?.answers == nil { $0[taskId] = nil } }
            }
            runs[taskId] = Run(task: task, answers: nil)
        }
    }

    /// Hands `text` to a run waiting on a question; false when none waits.
    func answer(taskId: String, text: String) -> Bool {
        guard let continuation = runs.withLock({ $0[taskId]?.answers }) else { return false }
        continuation.yield(text)
        return true
    }

    func isRunning(_ taskId: String) -> Bool {
        runs.withLock { $0[taskId] != nil }
    }

    func cancel(taskId: String) {
        let run = runs.withLock { $0.removeValue(forKey: taskId) }
        run?.answers?.finish()
        run?.task.cancel()
        setStatus(taskId, "cancelled")
    }

    // MARK: The conversation

    private func converse(taskId: String, prompt: String, directives: Directives) async {
        do {
            setStatus(taskId, "running")
            if directives.fail {
                hub.publish(.notification(type: "error", title: "Task failed", message: "The model request failed (emulated)."), taskId: taskId)
                append(taskId, EmulatedMessage(ts: 0, type: "ask", ask: "api_req_failed", text: "API request failed (emulated)"))
                setStatus(taskId, "failed")
                return
            }
            if directives.retract { try await retractADraft(taskId: taskId, delay: directives.delayMilliseconds) }
            try await stream(taskId: taskId, words: directives.forever ? Int.max : directives.words, delay: directives.delayMilliseconds)
            if let command = directives.approve {
                if store.task(taskId)?.autoApprovesCommands == true {
                    say(taskId, "Running `\(command)` (auto-approved).")
                } else {
                    let answer = try await ask(taskId: taskId, kind: "command", text: command)
                    say(taskId, AutoApproval.isApproval(answer) ? "Ran `\(command)`." : "Did not run `\(command)`: \(answer)")
                }
            }
            try writeArtifacts(taskId: taskId, prompt: prompt, files: directives.files)
            if directives.ask {
                let answer = try await ask(taskId: taskId, kind: "followup", text: "Which region should the report focus on?")
                say(taskId, "Understood: focusing on \(answer).")
            }
            if let name = directives.upload {
                let result = try await ask(taskId: taskId, kind: "upload_file_to_sandbox", text: name)
                say(taskId, try describeUpload(taskId: taskId, name: name, answer: result))
            }
            append(taskId, EmulatedMessage(ts: 0, type: "say", say: "completion_result",
                                           text: "Done: report.md and data/summary.csv are in the workspace."))
            setStatus(taskId, "completed")
        } catch {
            logger.debug("agent run for \(taskId) ended: \(error)")
        }
    }

    /// Streams a reply as `message.partial` events (the text so far, or only what is new, as
    /// `partialsAs` says), then finalises it with `message.update` (the message exists).
    private func stream(taskId: String, words: Int, delay: Int) async throws {
        let ts = nextTimestamp(taskId)
        var text = ""
        var count = 0
        let increments = faults.current.partialsAs == "increments"
        defer {
            // Finished or cancelled mid-reply: what was said stays, finalised by `message.update`.
            if !text.isEmpty {
                let final = EmulatedMessage(ts: ts, type: "say", say: "text", text: text, partial: false)
                store(taskId, final)
                hub.publish(.message("update", taskId: taskId, final), taskId: taskId)
            }
        }
        while count < words {
            try Task.checkCancellation()
            let step = min(5, words - count)
            var new = ""
            for i in 0..<step { new += (count + i == 0 ? "" : " ") + Directives.vocabulary[(count + i) % Directives.vocabulary.count] }
            text += new
            count += step
            // The transcript holds the message as it grows, as a poll of a real server shows it.
            store(taskId, EmulatedMessage(ts: ts, type: "say", say: "text", text: text, partial: true))
            let shown = EmulatedMessage(ts: ts, type: "say", say: "text", text: increments ? new : text, partial: true)
            hub.publish(.message("partial", taskId: taskId, shown), taskId: taskId)
            if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) } else { await Task.yield() }
        }
    }

    /// A draft the agent starts typing and takes back (`message.remove`): it is never part of
    /// the transcript.
    private func retractADraft(taskId: String, delay: Int) async throws {
        let ts = nextTimestamp(taskId)
        for text in ["Let me", "Let me think about"] {
            hub.publish(.message("partial", taskId: taskId, EmulatedMessage(ts: ts, type: "say", say: "text", text: text, partial: true)), taskId: taskId)
            if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
        }
        hub.publish(.removed(taskId: taskId, ts: [ts]), taskId: taskId)
    }

    private func ask(taskId: String, kind: String, text: String) async throws -> String {
        let (answers, continuation) = AsyncStream<String>.makeStream()
        runs.withLock { $0[taskId]?.answers = continuation }
        defer { runs.withLock { $0[taskId]?.answers = nil } }
        append(taskId, EmulatedMessage(ts: 0, type: "ask", ask: kind, text: text))
        setStatus(taskId, "waiting")
        for await answer in answers {
            setStatus(taskId, "running")
            return answer
        }
        throw CancellationError()
    }

    private func writeArtifacts(taskId: String, prompt: String, files: [Directives.FileRequest]) throws {
        let dir = store.workspaceDirectory(of: taskId)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("data"), withIntermediateDirectories: true)
        let quoted = prompt.split(separator: "\n", omittingEmptySubsequences: false).map { "> " + $0 }.joined(separator: "\n")
        try Data("# Report\n\nThe request:\n\n\(quoted)\n\nThe answer is in data/summary.csv.\n".utf8).write(to: dir.appendingPathComponent("report.md"))
        try Data("metric,value\nwords,\(prompt.split(separator: " ").count)\nbytes,\(prompt.utf8.count)\n".utf8)
            .write(to: dir.appendingPathComponent("data/summary.csv"))
        for file in files {
            let parts = file.path.split(separator: "/").map(String.init)
            guard !parts.isEmpty, !parts.contains(".."), !parts.contains(".") else { continue }
            let url = parts.reduce(dir) { $0.appendingPathComponent($1) }
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try DeterministicBytes.write(size: file.size, seed: file.path, to: url)
        }
    }

    /// The agent's report on a file the client uploaded to the sandbox: size and sha256.
    private func describeUpload(taskId: String, name: String, answer: String) throws -> String {
        guard let file = UploadStore.sandboxFile(named: name, taskId: taskId, store: store),
              let handle = try? FileHandle(forReadingFrom: file) else {
            return "I did not receive \(name) (answer was: \(answer))."
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        var size = 0
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
            size += chunk.count
        }
        let hex = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        return "Received \(name): \(size) bytes, sha256 \(hex)."
    }

    // MARK: Transcript

    /// Records what the user sent (`task` for a new task, `user_feedback` for an answer).
    func userSaid(_ taskId: String, kind: String, text: String) {
        append(taskId, EmulatedMessage(ts: 0, type: "say", say: kind, text: text))
    }

    private func say(_ taskId: String, _ text: String) {
        append(taskId, EmulatedMessage(ts: 0, type: "say", say: "text", text: text))
    }

    /// Appends a final message (ts 0 means "now") and publishes `message.add`.
    private func append(_ taskId: String, _ message: EmulatedMessage) {
        var message = message
        if message.ts == 0 { message.ts = nextTimestamp(taskId) }
        store(taskId, message)
        hub.publish(.message("add", taskId: taskId, message), taskId: taskId)
    }

    /// Saves a message in the transcript, replacing one with the same ts.
    private func store(_ taskId: String, _ message: EmulatedMessage) {
        _ = try? store.update(taskId) { task in
            if let i = task.messages.lastIndex(where: { $0.ts == message.ts }) { task.messages[i] = message } else { task.messages.append(message) }
        }
    }

    /// Records the task's status; a change is announced with `state.ready` (seed §2.1).
    private func setStatus(_ taskId: String, _ status: String) {
        var changed = false
        _ = try? store.update(taskId) { task in
            changed = task.status != status
            task.status = status
        }
        if changed { hub.publish(.stateReady(taskId), taskId: taskId) }
    }

    private func nextTimestamp(_ taskId: String) -> Int64 {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let last = store.task(taskId)?.messages.last?.ts ?? 0
        return max(now, last + 1)
    }

}
