import Foundation
import SynapseCore

/// One stream of Synapse's (`data: {type, …}`: a chat turn, or an orchestration run's start or
/// resume) in the core's words, with what the client keeps of it (the run's id, a pause's
/// input fields). `done`, or the end of the stream, ends it.
///
/// A chat turn: status, thinking, thoughts, tools and their results are the agent's messages;
/// `response` (the whole answer, no deltas) the result; `error` a failure (the `response`
/// after it says the same). An orchestration: its steps and their agents' messages (tagged
/// `orch_step_id`) are the agent's messages, each step's own `final` among them; a pause
/// (`human_input_required`) is a question; only the run's `final` (intent `orchestration`) is
/// the result, and `orchestration_error` the failure.
struct SynapseStreamLog: Sendable {
    let runId: String
    private(set) var done = false
    /// The stream said how it ends: an answer, a pause for a human, or a failure.
    private(set) var answered = false
    /// The orchestration run's id, once the stream names it.
    private(set) var orchestrationRun: String?
    /// What a pause asks for (`fields`' names), when the stream paused.
    private(set) var inputFields: [String]?
    /// The agent that answers a chat (its `session` event), for info.json.
    private(set) var agent: String?
    private var failed = false
    private var count = 0

    static let maxText = 256 << 10

    /// The question a paused run asks.
    static let pause = Question(kind: "input", isPlain: true)

    init(runId: String) { self.runId = runId }

    mutating func take(_ event: [String: Any], taskId: String) -> [FeedEvent] {
        func entry(_ speaker: Speaker, _ text: String, id: String? = nil) -> [FeedEvent] {
            count += 1
            // What one event may put in the record (and memory): a server's text is bounded.
            let text = text.utf8.count > Self.maxText ? String(text.prefix(Self.maxText)) + "\n[cut at \(Self.maxText) characters]" : text
            let entry = TranscriptEntry(id: id ?? "\(runId)-\(count)", time: Int64((Date().timeIntervalSince1970 * 1000).rounded()),
                                        speaker: speaker, text: text)
            return [.entry(taskId: taskId, entry)]
        }
        let type = event["type"] as? String ?? ""
        // A step's agent speaks in the same words as a chat's, tagged with the step.
        let step = (event["step_name"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? event["orch_step_id"] as? String
        func kind(_ word: String) -> Speaker { .agentSays(step.map { "\(word), step \($0)" } ?? word) }
        // The run's id, from the events that name the run (not from what a step's agent says).
        if ["orchestration_start", "human_input_required", "orchestration_complete"].contains(type), let run = event["run_id"] as? String, !run.isEmpty {
            orchestrationRun = String(run.prefix(200))
        }
        switch type {
        case "session":
            agent = event["agent_id"] as? String
            return []
        case "status": return (event["message"] as? String).map { entry(kind("status"), $0) } ?? []
        case "thinking": return (event["message"] as? String).map { entry(kind("thinking"), $0) } ?? []
        case "llm_thought": return (event["thought"] as? String).map { entry(kind("thought"), $0) } ?? []
        case "tool_execution":
            return entry(kind("tool"), "\(event["tool_name"] as? String ?? "tool") \(Self.compact(event["args"] ?? [:]))")
        case "tool_result":
            return entry(kind("tool result"), "\(event["tool_name"] as? String ?? "tool"): \(String(describing: event["preview"] ?? "").prefix(4000))")
        case "response":
            answered = true
            return entry(failed ? .error : .result, event["content"] as? String ?? "", id: "\(runId)-response")
        case "error" where step != nil:
            // A step's agent failing does not end the run: the engine says whether the run fails.
            return entry(kind("error"), event["message"] as? String ?? event["error"] as? String ?? "the agent failed")
        case "error":
            failed = true
            return entry(.error, event["message"] as? String ?? "the agent failed")
        case "orchestration_start":
            return entry(.agentSays("orchestration"), "run \(orchestrationRun ?? "?") of \(event["orchestration_name"] as? String ?? event["orchestration_id"] as? String ?? "the orchestration") started")
        case "step_start":
            return entry(.agentSays("step"), "step \(step ?? "?") started" + ((event["step_type"] as? String).map { " (\($0))" } ?? ""))
        case "step_complete":
            let seconds = (event["duration_seconds"] as? Double).map { String(format: " in %.1f s", $0) } ?? ""
            return entry(.agentSays("step"), "step \(step ?? "?") done\(seconds)")
        case "final" where (event["intent"] as? String) != "orchestration" && step != nil:
            return entry(kind("answer"), Self.text(event["response"] ?? event["content"]))
        case "final":
            answered = true
            let data = event["data"] as? [String: Any]
            let status = data?["status"] as? String ?? "completed"
            let text = Self.text(event["response"] ?? event["content"]).isEmpty ? "the run \(status)" : Self.text(event["response"] ?? event["content"])
            return entry(status == "completed" ? .result : .error, text, id: "\(runId)-final")
        case "orchestration_complete":
            return entry(.agentSays("orchestration"), "run \(orchestrationRun ?? "?") \(event["status"] as? String ?? "ended")")
        case "orchestration_error":
            answered = true
            failed = true
            return entry(.error, "the run failed: \(Self.text(event["error"]))")
        case "human_input_required":
            answered = true
            inputFields = (event["fields"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            var text = event["prompt"] as? String ?? "the run waits for your answer"
            if let context = event["agent_context"] as? String, !context.isEmpty { text += "\n\n" + context }
            if let fields = inputFields, fields.count > 1 {
                text += "\n\nAnswer with a JSON object holding \(fields.joined(separator: ", ")) in prompt.txt."
            }
            return entry(.agentAsks(Self.pause), text)
        case "done":
            done = true
            return [.changed(taskId: taskId)]
        default:
            // What a step type of the engine's adds (routing, conditions, warnings), as it says it.
            guard step != nil || type.hasPrefix("step_") || type.hasSuffix("_decision") else { return [] }
            var rest = event
            rest["type"] = nil
            return entry(kind(type.isEmpty ? "event" : type), String(Self.compact(rest).prefix(4000)))
        }
    }

    private static func text(_ value: Any?) -> String {
        switch value {
        case nil, is NSNull: ""
        case let string as String: string
        default: compact(value!)
        }
    }

    private static func compact(_ value: Any) -> String {
        (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes]))
            .map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
    }
}
