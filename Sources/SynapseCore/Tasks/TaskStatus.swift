/// The one word `status` holds.
public enum TaskStatus: String, Sendable {
    case draft, running, waiting, completed, failed, cancelled

    /// Completed, failed or cancelled: nothing more will happen unless someone prompts again.
    public var isFinished: Bool { self == .completed || self == .failed || self == .cancelled }

    /// Derives the status from the transcript: its deciding entry says (a result: completed;
    /// an error: failed; a question: waiting; else running). The status the task list gives
    /// decides only without a transcript, except that a cancelled task is cancelled.
    public static func derive(_ transcript: Transcript?, listed: TaskStatus?) -> TaskStatus {
        if listed == .cancelled || transcript?.cancelled == true { return .cancelled }
        if let entry = transcript?.deciding { return entry.statusAfter }
        return listed ?? .running
    }
}

extension TaskStatus {
    /// The most of a question shown in `status`.
    static let questionLimit = 200

    /// What a waiting task's agent asks, on one line: the kind of question and the start of its
    /// text (`command: npm test`, `followup: Which region?`); nil when nothing is asked.
    public static func question(in transcript: Transcript?) -> String? {
        guard let question = transcript?.pendingQuestion else { return nil }
        // Control characters from the server never reach a terminal that cats the file.
        let firstLine = question.text.split(whereSeparator: \.isNewline).first ?? ""
        let text = TranscriptRenderer.singleLine(firstLine, limit: questionLimit)
        return TranscriptRenderer.singleLine(question.question.kind, limit: 40) + (text.isEmpty ? "" : ": " + text)
    }
}
