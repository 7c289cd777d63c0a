import Foundation
import SynapseCore

/// One run's JSON-lines stream in the core's words. Each chunk is a delta of one message
/// (`message_id`); the deltas are summed, so every event carries the message's whole text so
/// far (stream.log shows each message's growth once). `chunksRead` is where a resume starts:
/// heartbeats are no chunks, every value line is one, even one too long to keep or not
/// understood, so the count stays the server's.
struct SageRunSum: Sendable {
    /// Messages kept at most: a server inventing ids cannot grow memory without bound.
    static let maxMessages = 10_000

    private(set) var chunksRead = 0
    /// `stream_end` was read: the run is over.
    private(set) var ended = false
    private var texts: [String: String] = [:]
    private var speakers: [String: Speaker] = [:]
    private var times: [String: Int64] = [:]
    /// Messages in the order they began.
    private var order: [String] = []

    init() {}

    /// The events one chunk makes, for the task `taskId`.
    mutating func take(_ line: [UInt8], taskId: String) -> [FeedEvent] {
        chunksRead += 1
        // A value this client does not understand still counts: resume indexes count values.
        guard let chunk = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else { return [] }
        let type = SageWire.string(chunk["type"])
        if type == "stream_end" {
            ended = true
            // A resume from past the end (`resume_fallback`) carries nothing: the run was over.
            let closing = chunk["resume_fallback"] as? Bool == true ? [] : finalEntries(taskId: taskId)
            // The stored conversation is fetched again: it is what the server keeps.
            return closing + [.changed(taskId: taskId)]
        }
        guard let id = SageWire.string(chunk["message_id"]) else { return [] }
        if texts[id] == nil {
            guard order.count < Self.maxMessages else { return [] }
            order.append(id)
            speakers[id] = Self.speaker(role: SageWire.string(chunk["role"]), type: type)
            times[id] = Int64((Date().timeIntervalSince1970 * 1000).rounded())
        }
        texts[id, default: ""] += SageWire.content(chunk["content"])
        let entry = self.entry(id, isFinal: speakers[id] == .error)
        return [entry.isFinal ? .entry(taskId: taskId, entry) : .partial(taskId: taskId, entry)]
    }

    /// What the run has said so far, as it grows (the stored conversation lacks it until the
    /// run ends).
    var liveEntries: [TranscriptEntry] {
        ended ? [] : order.map { entry($0, isFinal: speakers[$0] == .error) }
    }

    /// What the run said, final: the agent's last message is its answer, as the stored
    /// conversation shows it.
    private func finalEntries(taskId: String) -> [FeedEvent] {
        let answer = order.last { speakers[$0] != .user && speakers[$0] != .error }
        return order.filter { speakers[$0] != .error }.map { id in
            var entry = self.entry(id, isFinal: true)
            if id == answer { entry.speaker = .result }
            return .entry(taskId: taskId, entry)
        }
    }

    private func entry(_ id: String, isFinal: Bool) -> TranscriptEntry {
        TranscriptEntry(id: id, time: times[id] ?? 0, speaker: speakers[id] ?? .agent,
                        text: texts[id] ?? "", isFinal: isFinal)
    }

    /// Who says a chunk's message, as `SageWire.entry` maps a stored one.
    static func speaker(role: String?, type: String?) -> Speaker {
        if type == "error" { return .error }
        switch role {
        case "user": return .user
        case "system": return .notice
        default: return type.map { .agentSays($0) } ?? .agent
        }
    }
}
