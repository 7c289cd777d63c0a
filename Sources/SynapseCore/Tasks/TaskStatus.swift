/// The one word `status` holds.
public enum TaskStatus: String, Sendable {
    case draft, running, waiting, completed, failed, cancelled

    /// Completed, failed or cancelled: nothing more will happen unless someone prompts again.
    public var isFinished: Bool { self == .completed || self == .failed || self == .cancelled }

    /// Derives the status from the transcript; the server's own field decides only when the
    /// transcript says nothing (its vocabulary is not documented, so only clear words count).
    public static func derive(messages: [TaskMessage]?, serverStatus: String?) -> TaskStatus {
        let server = serverStatus?.lowercased()
        if server == "cancelled" || server == "canceled" { return .cancelled }
        if let last = messages?.last(where: { !($0.partial ?? false) }) ?? messages?.last {
            if last.isCompletion { return .completed }
            if last.isFailure { return .failed }
            if last.isQuestion { return .waiting }
            return .running
        }
        switch server {
        case "completed", "complete", "finished", "done", "success": return .completed
        case "failed", "error": return .failed
        case "waiting": return .waiting
        default: return .running
        }
    }
}

extension TaskStatus {
    /// The most of a question shown in `status`.
    static let questionLimit = 200

    /// What a waiting task's agent asks, on one line: the kind of question and the start of its
    /// text (`command: npm test`, `followup: Which region?`); nil when nothing is asked.
    public static func question(in messages: [TaskMessage]?) -> String? {
        guard let last = messages?.last(where: { !($0.partial ?? false) }), last.isQuestion else { return nil }
        // Control characters from the server never reach a terminal that cats the file.
        let firstLine = (last.text ?? "").split(whereSeparator: \.isNewline).first ?? ""
        let text = TranscriptRenderer.singleLine(firstLine, limit: questionLimit)
        return TranscriptRenderer.singleLine(last.ask ?? "question", limit: 40) + (text.isEmpty ? "" : ": " + text)
    }
}

extension TaskMessage {
    /// The status a task has when this message is its newest.
    var statusAfter: TaskStatus {
        let final = !(partial ?? false)
        if final && isCompletion { return .completed }
        if isFailure { return .failed }
        if final && isQuestion { return .waiting }
        return .running
    }
}
