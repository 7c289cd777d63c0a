import Foundation
import Synchronization
import SynapseEmulatorKit

/// The scripted agent's runs, one per conversation at a time. A run's output is a list of
/// JSON lines (chunks) that any number of readers follow from any index: the POST that
/// started it, a resume after a dropped connection. A run goes on when its readers go away,
/// and ends with `stream_end`; a new prompt or an interrupt ends the running one first.
final class SageRuns: Sendable {
    final class Run: Sendable {
        let sessionId: String
        let chunks = Mutex<[String]>([])
        let finished = Atomic<Bool>(false)
        let cancelled = Atomic<Bool>(false)

        init(sessionId: String) { self.sessionId = sessionId }

        func append(_ line: String) { chunks.withLock { $0.append(line) } }

        /// The chunks from `index` on, and whether the run is over (then no more will come).
        func chunks(from index: Int) -> ([String], Bool) {
            let over = finished.load(ordering: .acquiring)
            return (chunks.withLock { Array($0.dropFirst(index)) }, over)
        }
    }

    private let store: SageStore
    private let runs = Mutex<[String: Run]>([:])

    init(store: SageStore) { self.store = store }

    func run(_ sessionId: String) -> Run? { runs.withLock { $0[sessionId] } }

    /// The conversations running now.
    var active: [String] { runs.withLock { $0.values.filter { !$0.finished.load(ordering: .acquiring) }.map(\.sessionId) } }

    /// Starts the agent on `prompt` in the conversation (made if new), ending a running one.
    /// The user's message keeps the id the client gave it (the seed's optional `message_id`).
    func start(sessionId: String, agentId: String, prompt: String, messageId: String? = nil) async -> Run {
        await interrupt(sessionId)
        let now = Date().timeIntervalSince1970
        var conversation = store.conversation(sessionId)
            ?? SageStore.Conversation(sessionId: sessionId, agentId: agentId, title: String(prompt.trimmingCharacters(in: .whitespacesAndNewlines).prefix(40)), createdAt: now, updatedAt: now, messages: [])
        conversation.messages.append(SageStore.Message(messageId: messageId ?? "msg_" + UUID().uuidString.prefix(8).lowercased(), role: "user",
                                                       content: prompt, type: nil, createdAt: now))
        conversation.updatedAt = now
        store.save(conversation)
        let run = Run(sessionId: sessionId)
        runs.withLock { $0[sessionId] = run }
        let agentName = store.agent(conversation.agentId)?.name ?? conversation.agentId
        Thread { [store] in Self.script(run, prompt: prompt, agentName: agentName, store: store) }.start()
        return run
    }

    /// Ends the conversation's run, keeping what it said so far.
    /// Waits (asleep, not holding a thread) for the run's last words to be kept.
    @discardableResult
    func interrupt(_ sessionId: String) async -> Bool {
        guard let run = runs.withLock({ $0[sessionId] }), !run.finished.load(ordering: .acquiring) else { return false }
        run.cancelled.store(true, ordering: .releasing)
        while !run.finished.load(ordering: .acquiring) { try? await Task.sleep(for: .milliseconds(5)) }
        return true
    }

    func interruptAll() async {
        for id in runs.withLock({ Array($0.keys) }) { await interrupt(id) }
    }

    /// The scripted reply: words as deltas of one assistant message, then `stream_end`.
    private static func script(_ run: Run, prompt: String, agentName: String, store: SageStore) {
        let directives = Directives(prompt: prompt)
        let messageId = "msg_" + UUID().uuidString.prefix(8).lowercased()
        var text = ""
        var count = 0
        func chunk(_ object: [String: Any]) {
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            run.append(String(decoding: data, as: UTF8.self))
            count += 1
        }
        while directives.forever || count < directives.words, !run.cancelled.load(ordering: .acquiring) {
            let word = Directives.vocabularyWord(count) + " "
            text += word
            chunk(["role": "assistant", "content": word, "message_id": messageId, "type": "do_subtask_result",
                   "agent_name": agentName, "session_id": run.sessionId])
            Thread.sleep(forTimeInterval: Double(directives.delayMilliseconds) / 1000)
        }
        if directives.fail, !run.cancelled.load(ordering: .acquiring) {
            chunk(["role": "assistant", "content": "The agent failed.", "message_id": "err_" + messageId, "type": "error",
                   "session_id": run.sessionId])
        }
        if var conversation = store.conversation(run.sessionId) {
            let now = Date().timeIntervalSince1970
            conversation.messages.append(SageStore.Message(messageId: messageId, role: "assistant", content: text,
                                                           type: "do_subtask_result", createdAt: now))
            conversation.updatedAt = now
            conversation.streamIndex += count + 1
            store.save(conversation)
        }
        chunk(["type": "stream_end", "session_id": run.sessionId, "total_stream_count": count + 1])
        run.finished.store(true, ordering: .releasing)
    }
}
