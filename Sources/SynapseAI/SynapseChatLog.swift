import Foundation
import SynapseCore

/// One chat turn's SSE (`data: {type, …}`) in the core's words: status, thinking, thoughts,
/// tools and their results as the agent's messages; `response` (the whole answer, no deltas)
/// as the result; `error` as a failure (the `response` after it says the same). `done`, or the
/// end of the stream, ends the turn.
struct SynapseChatLog: Sendable {
    let runId: String
    private(set) var done = false
    private(set) var answered = false
    private var failed = false
    private var count = 0
    private(set) var said: [TranscriptEntry] = []

    init(runId: String) { self.runId = runId }

    mutating func take(_ event: [String: Any], taskId: String) -> [FeedEvent] {
        func entry(_ speaker: Speaker, _ text: String, id: String? = nil) -> [FeedEvent] {
            count += 1
            let entry = TranscriptEntry(id: id ?? "\(runId)-\(count)", time: Int64((Date().timeIntervalSince1970 * 1000).rounded()),
                                        speaker: speaker, text: text)
            said.append(entry)
            return [.entry(taskId: taskId, entry)]
        }
        switch event["type"] as? String {
        case "status": return (event["message"] as? String).map { entry(.agentSays("status"), $0) } ?? []
        case "thinking": return (event["message"] as? String).map { entry(.agentSays("thinking"), $0) } ?? []
        case "llm_thought": return (event["thought"] as? String).map { entry(.agentSays("thought"), $0) } ?? []
        case "tool_execution":
            let args = (try? JSONSerialization.data(withJSONObject: event["args"] ?? [:], options: [.sortedKeys, .fragmentsAllowed]))
                .map { String(decoding: $0, as: UTF8.self) } ?? ""
            return entry(.agentSays("tool"), "\(event["tool_name"] as? String ?? "tool") \(args)")
        case "tool_result":
            return entry(.agentSays("tool result"), "\(event["tool_name"] as? String ?? "tool"): \(String(describing: event["preview"] ?? "").prefix(4000))")
        case "response":
            answered = true
            return entry(failed ? .error : .result, event["content"] as? String ?? "", id: "\(runId)-response")
        case "error":
            failed = true
            return entry(.error, event["message"] as? String ?? "the agent failed")
        case "done":
            done = true
            return [.changed(taskId: taskId)]
        default:
            // session (its id is the mount's), and what a later server adds.
            return []
        }
    }
}
