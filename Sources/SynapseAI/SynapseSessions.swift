import Foundation
import Synchronization
import SynapseCore

/// The chat sessions and orchestration runs this mount created, kept in its state folder:
/// Synapse lists neither and keeps no history a client can read, so a task's transcript is
/// this durable record of the streams the mount held. Written whole to a temporary file and renamed over the old one
/// (a crash leaves the old or the new, never half).
final class SynapseSessions: Sendable {
    struct Entry: Codable, Sendable {
        var id: String
        var time: Int64
        /// user, agent, result, error, asks (a run's pause), or the agent's kind of message (`thinking`, `tool`).
        var kind: String
        var text: String

        init(_ entry: TranscriptEntry) {
            id = entry.id
            time = entry.time
            text = entry.text
            kind = switch entry.speaker {
            case .user: "user"
            case .result: "result"
            case .error: "error"
            case .agentAsks: "asks"
            case .notice: "notice"
            case .agentSays(let kind): kind
            default: "agent"
            }
        }

        var entry: TranscriptEntry {
            let speaker: Speaker = switch kind {
            case "user": .user
            case "result": .result
            case "error": .error
            case "asks": .agentAsks(SynapseStreamLog.pause)
            case "notice": .notice
            case "agent": .agent
            default: .agentSays(kind)
            }
            return TranscriptEntry(id: id, time: time, speaker: speaker, text: text)
        }
    }

    struct Session: Codable, Sendable {
        var id: String
        /// The agent that answers (a chat's), once the server named it.
        var agent: String?
        var createdAt: Date
        var updatedAt: Date
        var entries: [Entry]
        /// The orchestration this is a run of (nil: a chat session), and the run's id, once
        /// the server named it.
        var orchestration: String?
        var runId: String?
        /// What the run's pause asks for (its `fields`' names), while it waits.
        var inputFields: [String]?

        /// The notice a cancel ended a turn or run with (`ctl cancel` closed its stream).
        var cancelNotice: String?

        /// A paused run: its newest entry asks.
        var isPaused: Bool { entries.last?.kind == "asks" }
        /// Ended by a cancel, and nothing since.
        var isCancelled: Bool { cancelNotice != nil && entries.last?.id == cancelNotice }
    }

    /// Entries kept per session, at most (the oldest go first).
    static let maxEntries = 5000

    private let file: URL
    private let sessions: Mutex<[String: Session]>

    init(directory: URL) {
        file = directory.appendingPathComponent("synapse-sessions.json")
        let saved = (try? Data(contentsOf: file)).flatMap { try? JSONDecoder().decode([String: Session].self, from: $0) } ?? [:]
        sessions = Mutex(saved)
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    var all: [Session] { sessions.withLock { Array($0.values) }.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) } }

    func session(_ id: String) -> Session? { sessions.withLock { $0[id] } }

    /// Adds entries to the session (made when new, a run of `orchestration` where one is
    /// named), or replaces the ones with their ids; `change` adds what the stream said of it.
    func record(_ entries: [TranscriptEntry], session id: String, orchestration: String? = nil, change: (inout Session) -> Void = { _ in }) {
        // Written under the lock: a later state is never overwritten by an earlier one.
        sessions.withLock { all in
            var session = all[id] ?? Session(id: id, createdAt: Date(), updatedAt: Date(), entries: [], orchestration: orchestration)
            if session.orchestration == nil { session.orchestration = orchestration }
            change(&session)
            for entry in entries {
                if let index = session.entries.firstIndex(where: { $0.id == entry.id }) { session.entries[index] = Entry(entry) } else { session.entries.append(Entry(entry)) }
            }
            if session.entries.count > Self.maxEntries { session.entries.removeFirst(session.entries.count - Self.maxEntries) }
            session.updatedAt = Date()
            all[id] = session
            save(all)
        }
    }

    func remove(_ id: String) -> Bool {
        sessions.withLock { all in
            guard all.removeValue(forKey: id) != nil else { return false }
            save(all)
            return true
        }
    }

    private func save(_ snapshot: [String: Session]) {  // called under `sessions`
        guard let data = try? JSONEncoder().encode(snapshot) else { return }
        let temporary = file.appendingPathExtension("tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: data) else { return }
        let fd = open(temporary.path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 { _ = fsync(fd); close(fd) }
        _ = rename(temporary.path, file.path)
    }
}
