import Foundation
@testable import SynapseCore

/// Test fixtures in InfiniSynapse's words (the core's tests were written with them), turned
/// into the core's neutral values as that backend turns them: messages `say` or `ask` with a
/// `ts`, SSE events as the server sends them, sends as the server receives them.
struct TaskMessage: Sendable, Equatable {
    var ts: Int64
    var type: String
    var say: String?
    var ask: String?
    var text: String?
    var partial: Bool?

    init(ts: Int64, type: String, say: String? = nil, ask: String? = nil, text: String? = nil, partial: Bool? = nil) {
        self.ts = ts
        self.type = type
        self.say = say
        self.ask = ask
        self.text = text
        self.partial = partial
    }

    var entry: TranscriptEntry {
        let speaker: Speaker
        if say == "completion_result" || ask == "completion_result" {
            speaker = .result
        } else if ask == "api_req_failed" || say == "error" {
            speaker = .error
        } else if type == "ask" {
            let kind = ask ?? "followup"
            speaker = .agentAsks(Question(kind: kind, isPlain: kind == "followup", wantsFile: kind == "upload_file_to_sandbox"))
        } else {
            speaker = switch say {
            case "task", "user_feedback": .user
            case "text", "reasoning", nil: .agent
            case let other?: .agentSays(other)
            }
        }
        return TranscriptEntry(id: String(ts), time: ts, speaker: speaker, text: text ?? "", isFinal: !(partial ?? false))
    }
}

extension Transcript {
    init(_ messages: [TaskMessage]) { self.init(entries: messages.map(\.entry)) }
}

/// An SSE event as InfiniSynapse sends it.
struct ServerEvent: Sendable {
    var type: String
    var data: String

    /// The event in the core's words (nil for one the mount ignores).
    var feedEvent: FeedEvent? {
        if type == "heartbeat" { return .heartbeat }
        guard let object = try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any] else { return nil }
        guard let taskId = object["taskId"] as? String else {
            return type == "notification" ? .notice(title: object["title"] as? String ?? "", text: object["message"] as? String ?? "",
                                                    isError: object["type"] as? String == "error") : nil
        }
        switch type {
        case "message.add", "message.update", "message.partial":
            guard let raw = object["message"] as? [String: Any], let ts = (raw["ts"] as? NSNumber)?.int64Value else { return nil }
            let entry = TaskMessage(ts: ts, type: raw["type"] as? String ?? "say", say: raw["say"] as? String, ask: raw["ask"] as? String,
                                    text: raw["text"] as? String, partial: (raw["partial"] as? NSNumber)?.boolValue).entry
            return type == "message.partial" ? .partial(taskId: taskId, entry) : .entry(taskId: taskId, entry)
        case "message.remove":
            return .removed(taskId: taskId, ids: (object["messageTs"] as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.int64Value }.map(String.init))
        case "state.ready":
            return .changed(taskId: taskId)
        default:
            return nil
        }
    }
}

extension SynapseFilesystem {
    func handle(_ event: ServerEvent) {
        if let feedEvent = event.feedEvent { handle(feedEvent) }
    }
}

/// What the fake server received, in InfiniSynapse's words.
enum OutgoingMessage: Equatable {
    case newTask(taskId: String, text: String, connId: String)
    case answer(taskId: String, text: String, connId: String)
    case cancel(taskId: String)
}

/// The two upload endpoints.
enum UploadDestination: Equatable {
    case workspace, sandbox
}
