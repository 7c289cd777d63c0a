import Foundation
import SynapseCore
import SynapseHTTP

/// One message of an InfiniSynapse task, as events and `getUiMessageById` carry it (Cline's
/// words: `say` or `ask`), and what it is in the core's words.
public struct UIMessage: Sendable, Equatable {
    /// Identifies the message within its task (and is its time, in ms).
    public var ts: Int64
    public var type: String
    public var say: String?
    public var ask: String?
    public var text: String?
    public var reasoning: String?
    public var partial: Bool?

    public init(ts: Int64, type: String, say: String? = nil, ask: String? = nil, text: String? = nil,
                reasoning: String? = nil, partial: Bool? = nil) {
        self.ts = ts
        self.type = type
        self.say = say
        self.ask = ask
        self.text = text
        self.reasoning = reasoning
        self.partial = partial
    }

    /// A task is finished when `say` or `ask` is `completion_result` (the API notes: check both).
    public var isCompletion: Bool { say == "completion_result" || ask == "completion_result" }
    public var isFailure: Bool { ask == "api_req_failed" || say == "error" }
    /// An `ask` other than completion: the agent waits for an answer.
    public var isQuestion: Bool { type == "ask" && !isCompletion && !isFailure }

    /// Who speaks, in the transcript's words.
    public var speaker: Speaker {
        if isCompletion { return .result }
        if isFailure { return .error }
        if type == "ask" {
            let kind = ask ?? "followup"
            return .agentAsks(Question(kind: kind, isPlain: kind == "followup", wantsFile: kind == "upload_file_to_sandbox"))
        }
        switch say {
        case "task", "user_feedback": return .user
        case "text", "reasoning", nil: return .agent
        case let other?: return .agentSays(other)
        }
    }

    /// The message as a transcript entry: its `ts` is its id and its time.
    public var entry: TranscriptEntry {
        var attributes = ["ts": String(ts), "type": type]
        attributes["say"] = say
        attributes["ask"] = ask
        return TranscriptEntry(id: String(ts), time: ts, speaker: speaker, text: text ?? "", isFinal: !(partial ?? false),
                               attributes: attributes)
    }

    /// The meaning of a task's `status` word, where it is clear (its vocabulary is not documented).
    public static func status(ofWord word: String?) -> TaskStatus? {
        switch word?.lowercased() {
        case "cancelled", "canceled": .cancelled
        case "completed", "complete", "finished", "done", "success": .completed
        case "failed", "error": .failed
        case "waiting": .waiting
        default: nil
        }
    }
}
