import Foundation

/// Who an entry of a transcript is from, in the words of stream.log's headers.
public enum Speaker: Sendable, Hashable {
    case user
    case agent
    /// The agent says something of a kind of its own: `agent (KIND)` (a tool's output, say).
    case agentSays(String)
    /// The agent asks and waits for an answer.
    case agentAsks(Question)
    /// The task's final result.
    case result
    case error
    case notice
}

/// What kind of question an agent asks.
public struct Question: Sendable, Hashable {
    /// The backend's word for it (`followup`, `command`, `upload_file_to_sandbox`).
    public var kind: String
    /// A plain question in words: its header needs no kind.
    public var isPlain: Bool
    /// A file answers it (an upload), not words.
    public var wantsFile: Bool

    public init(kind: String, isPlain: Bool = false, wantsFile: Bool = false) {
        self.kind = kind
        self.isPlain = isPlain
        self.wantsFile = wantsFile
    }
}

/// One entry of a task's transcript, in words every backend maps its own onto: a stable id
/// (within the task), when, who, the text so far, and whether it will grow any more.
public struct TranscriptEntry: Sendable, Equatable {
    public var id: String
    /// Milliseconds since 1970.
    public var time: Int64
    public var speaker: Speaker
    public var text: String
    public var isFinal: Bool
    /// The backend's own words for the entry (InfiniSynapse's `type`, `say`, `ask`, `ts`),
    /// shown as they are in messages.json.
    public var attributes: [String: String]

    public init(id: String, time: Int64, speaker: Speaker, text: String, isFinal: Bool = true, attributes: [String: String] = [:]) {
        self.id = id
        self.time = time
        self.speaker = speaker
        self.text = text
        self.isFinal = isFinal
        self.attributes = attributes
    }

    /// The status a task has when this entry is its newest.
    var statusAfter: TaskStatus {
        switch speaker {
        case .result where isFinal: .completed
        case .error: .failed
        case .agentAsks where isFinal: .waiting
        default: .running
        }
    }
}

/// A task's transcript as its backend reads it.
public struct Transcript: Sendable, Equatable {
    public var entries: [TranscriptEntry]
    /// The run ended by a cancel, where the entries cannot say so (Sage keeps what an
    /// interrupted run said as an ordinary message).
    public var cancelled: Bool

    public init(entries: [TranscriptEntry], cancelled: Bool = false) {
        self.entries = entries
        self.cancelled = cancelled
    }

    /// The entry that decides the task's state: the newest final one (else the newest).
    var deciding: TranscriptEntry? { entries.last(where: \.isFinal) ?? entries.last }

    /// The question the agent waits on, if it waits.
    var pendingQuestion: PendingQuestion? {
        guard let entry = deciding, entry.isFinal, case .agentAsks(let question) = entry.speaker else { return nil }
        return PendingQuestion(entryId: entry.id, question: question, text: entry.text)
    }
}

/// What the agent asks while a task waits: the entry that asks, and what kind of question.
public struct PendingQuestion: Sendable, Equatable {
    public var entryId: String
    public var question: Question
    public var text: String

    public init(entryId: String, question: Question, text: String) {
        self.entryId = entryId
        self.question = question
        self.text = text
    }
}
