import Foundation
import SynapseCore

/// Sage's answers in the core's words. Lenient where the server's own code varies: numbers
/// as strings, times as ISO 8601 (with or without fractions) or epoch seconds.
enum SageWire {
    static func page(_ data: Any, requested page: Int, what: String) throws(RemoteError) -> (TaskPage, [(String, String)]) {
        guard let object = data as? [String: Any], let rows = object["list"] as? [[String: Any]] else {
            throw .malformed("\(what): no list")
        }
        let tasks = rows.compactMap(task)
        let agents = rows.compactMap { row -> (String, String)? in
            guard let id = string(row["session_id"]), let agent = string(row["agent_id"]) else { return nil }
            return (id, agent)
        }
        let hasNext = (object["has_next"] as? Bool) ?? (int(object["total_pages"]).map { page < $0 } ?? false)
        return (TaskPage(items: tasks, next: hasNext && !rows.isEmpty ? .number(page + 1) : nil,
                         totalItems: int(object["total"]), totalPages: int(object["total_pages"])), agents)
    }

    /// A list row or `conversation_info`; nil without a session id.
    static func task(_ row: [String: Any]) -> TaskSummary? {
        guard let id = string(row["session_id"]), !id.isEmpty else { return nil }
        return TaskSummary(id: id, name: string(row["title"]) ?? id, createdAt: date(row["created_at"]), updatedAt: date(row["updated_at"]))
    }

    /// The messages answer: the conversation (from `conversation_info`) and its transcript.
    /// While the conversation `isRunning`, its last message may still grow: not an answer yet.
    static func conversation(_ data: Any, id: String, isRunning: Bool, interrupted: Bool = false, what: String) throws(RemoteError)
        -> (TaskSummary?, agent: String?, Transcript)
    {
        guard let object = data as? [String: Any], let messages = object["messages"] as? [[String: Any]] else {
            throw .malformed("\(what): no messages")
        }
        let info = object["conversation_info"] as? [String: Any]
        let entries = messages.enumerated().compactMap { index, message in
            // A turn's answer is the agent's last message before the next prompt.
            let endsTurn = index == messages.count - 1 || string(messages[index + 1]["role"]) == "user"
            return entry(message, index: index, endsTurn: endsTurn, isRunning: isRunning && index == messages.count - 1)
        }
        return (info.flatMap(task), info.flatMap { string($0["agent_id"]) }, Transcript(entries: entries, cancelled: interrupted && !isRunning))
    }

    /// A message: the user's, or the agent's (the last of a turn, its answer once the run is
    /// over; others by their type), as a run's stream names them (`SageRunSum.speaker`).
    /// `isRunning`: the message is the last of a run still going, and may grow.
    static func entry(_ message: [String: Any], index: Int, endsTurn: Bool, isRunning: Bool = false) -> TranscriptEntry? {
        let role = string(message["role"]) ?? "assistant"
        let text = content(message["content"])
        let type = string(message["type"])
        var speaker = SageRunSum.speaker(role: role, type: type)
        if endsTurn, !isRunning, speaker != .user, speaker != .error, speaker != .notice { speaker = .result }
        var attributes = ["role": role]
        attributes["type"] = type
        let time = date(message["created_at"]).map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) } ?? Int64(index)
        return TranscriptEntry(id: string(message["message_id"]) ?? "m\(index)", time: time, speaker: speaker, text: text,
                               isFinal: !(isRunning && speaker != .user), attributes: attributes)
    }

    /// The workspace listing: files only (folders are implied by their paths).
    static func workspace(_ data: Any, what: String) throws(RemoteError) -> [WorkspaceEntry] {
        let rows = (data as? [[String: Any]]) ?? ((data as? [String: Any])?["files"] as? [[String: Any]])
        guard let rows else { throw .malformed("\(what): no file list") }
        return rows.compactMap { row in
            guard (row["is_directory"] as? Bool) != true, let path = string(row["path"]) ?? string(row["name"]) else { return nil }
            let mtime = (row["modified_time"] as? NSNumber).map { Date(timeIntervalSince1970: $0.doubleValue) } ?? date(row["modified_time"])
            return WorkspaceEntry(path: path, size: int(row["size"]).map(Int64.init), mtime: mtime)
        }
    }

    /// `GET /api/agent/list`: each agent's id and name (the list, or under `agents`/`list`).
    static func agents(_ data: Any) -> [(id: String, name: String, row: [String: Any])] {
        let object = data as? [String: Any]
        let rows = (data as? [[String: Any]]) ?? (object?["agents"] as? [[String: Any]]) ?? (object?["list"] as? [[String: Any]]) ?? []
        return rows.compactMap { row in
            guard let id = string(row["id"]) ?? string(row["agent_id"]), !id.isEmpty else { return nil }
            return (id, string(row["name"]) ?? id, row)
        }
    }

    /// An agent's scalar fields (its mode, description, …) as text, for its info.json.
    static func details(_ row: [String: Any]) -> [String: String] {
        var details: [String: String] = [:]
        for (key, value) in row where !["id", "name", "agent_id"].contains(key) {
            if let text = value as? String { details[key] = text } else if let number = value as? NSNumber { details[key] = number.stringValue }
        }
        return details
    }

    /// An `active_sessions` event: the running conversations (objects with `session_id`, or
    /// ids; a list, or under `sessions`/`active_sessions`); nil for data that is none of these.
    static func sessionIds(_ data: String) -> Set<String>? {
        guard let value = try? JSONSerialization.jsonObject(with: Data(data.utf8)) else { return nil }
        let object = value as? [String: Any]
        guard let items = (value as? [Any]) ?? (object?["sessions"] as? [Any]) ?? (object?["active_sessions"] as? [Any])
                ?? ((object?["data"] as? [String: Any])?["sessions"] as? [Any]) ?? (object?["data"] as? [Any]) else { return nil }
        return Set(items.compactMap { item in string(item) ?? (item as? [String: Any]).flatMap { string($0["session_id"]) } })
    }

    /// Text content, or the text parts of a multimodal array.
    static func content(_ value: Any?) -> String {
        if let text = value as? String { return text }
        if let parts = value as? [[String: Any]] { return parts.compactMap { $0["text"] as? String }.joined(separator: "\n") }
        return ""
    }

    static func string(_ value: Any?) -> String? {
        if let s = value as? String { return s }
        if let n = value as? NSNumber { return n.stringValue }
        return nil
    }

    static func int(_ value: Any?) -> Int? {
        if let n = value as? NSNumber { return n.intValue }
        return (value as? String).flatMap { Int($0) }
    }

    static func date(_ value: Any?) -> Date? {
        if let n = value as? NSNumber { return Date(timeIntervalSince1970: n.doubleValue) }
        guard let text = value as? String else { return nil }
        if let date = try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true)) { return date }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        // Python's isoformat without a zone: taken as UTC.
        return try? Date(text + "Z", strategy: .iso8601.year().month().day().time(includingFractionalSeconds: text.contains(".")))
    }
}
