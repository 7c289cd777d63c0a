import Foundation
import SynapseCore
import SynapseHTTP

/// One run's SSE (`data: {type, data}`) in the core's words: what the agent thinks, the tools
/// it runs and their results, its plan, the answer as it streams (`delta`) and whole
/// (`answer`), its questions (`ask_user`, `permission_request`: the run waits on them), errors.
/// `done` is the only end: a stream that closes before it is a run lost.
struct AsyncatRunLog: Sendable {
    /// Entries of this run are named apart from every other run's.
    let runId: String
    private(set) var sessionId: String?
    private(set) var answer: String?
    private(set) var failure: String?
    private(set) var done = false
    /// What the run waits on: the request to answer, and its kind (`ask_user`, `permission`).
    private(set) var pending: (id: String, kind: String)?
    /// The user cancelled it (the stream's end then is a cancel, not a loss).
    var cancelRequested = false
    private var streamed: [String: String] = [:]
    private var count = 0
    /// What the run said, whole, in order (the server keeps none of it but the answer):
    /// the transcript shows it while the run goes on, so its state (a question) is known.
    private var said: [TranscriptEntry] = []

    /// Entries kept of a run, at most (the oldest go first).
    static let keptEntries = 1000

    /// Results longer than this are cut in stream.log (a tool may return a whole file).
    static let resultLimit = 4000
    /// A streamed text is kept up to this many bytes (a server streaming forever stays bounded).
    static let streamedLimit = 1 << 20

    /// The reply a finished run saves: its answer, or its failure as the server words one.
    var reply: String { failure.map { "Error: " + $0 } ?? answer ?? "" }

    init(runId: String) { self.runId = runId }

    var answerId: String { runId + "-answer" }
    private var reasoningId: String { runId + "-reasoning" }

    /// What the run has said so far that is still growing.
    var liveEntries: [TranscriptEntry] {
        guard !done else { return [] }
        let growing = [reasoningId, answerId].filter { id in !said.contains { $0.id == id } }.compactMap { id in
            streamed[id].map { entry(id, id == answerId ? .agent : .agentSays("reasoning"), $0, final: false) }
        }
        return said + growing
    }

    /// The events one SSE event makes.
    mutating func take(_ type: String, _ data: [String: Any], taskId: String) -> [FeedEvent] {
        // Anything the run does after a question says it no longer waits (answered, or timed out).
        if pending != nil, !["ask_user", "permission_request", "usage_update", "skills_loaded"].contains(type) { pending = nil }
        func said(_ speaker: Speaker, _ text: String) -> [FeedEvent] {
            count += 1
            return [.entry(taskId: taskId, keep(entry("\(runId)-\(count)", speaker, text, final: true)))]
        }
        switch type {
        case "session_start":
            sessionId = data["sessionId"] as? String
            return []
        case "thinking":
            return (data["thought"] as? String).map { said(.agentSays("thinking"), $0) } ?? []
        case "delta", "reasoning_delta":
            let id = type == "delta" ? answerId : reasoningId
            guard streamed[id, default: ""].utf8.count < Self.streamedLimit else { return [] }
            streamed[id, default: ""] += data["content"] as? String ?? ""
            return [.partial(taskId: taskId, entry(id, type == "delta" ? .agent : .agentSays("reasoning"), streamed[id] ?? "", final: false))]
        case "tool_start":
            let tool = data["tool"] as? String ?? "tool"
            return said(.agentSays("tool"), tool + " " + Self.compact(data["args"]))
        case "tool_result":
            let tool = data["tool"] as? String ?? "tool"
            return said(.agentSays("tool result"), tool + ": " + Self.compact(data["result"]))
        case "plan_update":
            let steps = (data["plan"] as? [[String: Any]] ?? []).map { "[\($0["status"] as? String ?? "")] \($0["content"] as? String ?? "")" }
            return said(.agentSays("plan"), steps.joined(separator: "\n"))
        case "ask_user":
            guard let id = data["requestId"] as? String else { return [] }
            pending = (id, "ask_user")
            var text = data["question"] as? String ?? ""
            if let choices = data["choices"] as? [Any], !choices.isEmpty { text += "\nchoices: " + choices.map { "\($0)" }.joined(separator: ", ") }
            return said(.agentAsks(Question(kind: "ask_user", isPlain: true)), text + "\n(answer by writing prompt.txt)")
        case "permission_request":
            guard let id = data["requestId"] as? String else { return [] }
            pending = (id, "permission")
            let tool = data["tool"] as? String ?? data["toolName"] as? String ?? "a tool"
            let what = data["description"] as? String ?? Self.compact(data["args"])
            return said(.agentAsks(Question(kind: "permission")), "\(tool) wants to run: \(what)\n(`echo allow > ctl` or `echo deny > ctl`)")
        case "answer":
            answer = data["answer"] as? String ?? ""
            return [.entry(taskId: taskId, keep(entry(answerId, .result, answer ?? "", final: true)))]
        case "error":
            failure = data["message"] as? String ?? "the run failed"
            // Shown under the reply's id, as it is saved: read back, it is the same entry.
            return [.entry(taskId: taskId, keep(entry(answerId, .error, reply, final: true)))]
        case "done":
            done = true
            var events: [FeedEvent] = []
            if answer == nil, failure == nil {
                answer = data["answer"] as? String ?? streamed[answerId] ?? ""
                events.append(.entry(taskId: taskId, entry(answerId, .result, answer ?? "", final: true)))
            }
            if let reasoning = streamed[reasoningId] {
                events.append(.entry(taskId: taskId, entry(reasoningId, .agentSays("reasoning"), reasoning, final: true)))
            }
            return events + [.changed(taskId: taskId)]
        default:
            // skills_loaded, usage_update, checkpoint, …: nothing the folders show.
            return []
        }
    }

    /// The question was answered (or the permission decided) with `entry`: the run goes on.
    mutating func answered(_ requestId: String, with entry: TranscriptEntry) {
        if pending?.id == requestId { pending = nil }
        _ = keep(entry)
    }

    private mutating func keep(_ entry: TranscriptEntry) -> TranscriptEntry {
        said.append(entry)
        if said.count > Self.keptEntries { said.removeFirst(said.count - Self.keptEntries) }
        return entry
    }

    private func entry(_ id: String, _ speaker: Speaker, _ text: String, final: Bool) -> TranscriptEntry {
        TranscriptEntry(id: id, time: Int64((Date().timeIntervalSince1970 * 1000).rounded()), speaker: speaker, text: text, isFinal: final)
    }

    /// A value as one short line of JSON.
    static func compact(_ value: Any?) -> String {
        guard let value else { return "" }
        if let text = value as? String { return String(text.prefix(resultLimit)) }
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])) ?? Data()
        let text = String(decoding: data, as: UTF8.self)
        return text.count > resultLimit ? String(text.prefix(resultLimit)) + "…" : text
    }
}
