import Foundation
import SynapseCore
import SynapseHTTP

/// Asyncat's answers in the core's words: `{success, …}` bodies, errors `{success: false,
/// error}` with the HTTP status; conversations with ISO times; messages whose role is `type`.
enum AsyncatWire {
    /// The fields of a successful answer, or the error it stands for.
    static func object(from response: HTTPResponse, what: String) throws(RemoteError) -> [String: Any] {
        let object = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any]
        if let error = error(status: response.status, object: object, body: response.body, what: what) { throw error }
        guard let object else { throw .malformed("\(what): answer is not a JSON object") }
        return object
    }

    /// The error an answer stands for (the transport asks of 2xx JSON too); nil for a success.
    static func error(status: Int, object: [String: Any]?, body: Data, what: String) -> RemoteError? {
        let failed = !(200..<300).contains(status) || object?["success"] as? Bool == false
        guard failed else { return nil }
        let said = object?["error"] as? String ?? String(decoding: body.prefix(200), as: UTF8.self)
        switch status {
        case 401, 403: return .rejectedKey("\(what): \(said)")
        case 404 where said.hasPrefix("Route not found"): return .routeMissing("\(what): \(said)")
        case 404: return .notFound("\(what): \(said)")
        case 413: return .tooLarge("\(what): \(said)")
        case 400: return .refused("\(what): \(said)")
        case 422: return .invalidRequest("\(what): \(said)")
        case 200..<300: return .server(status: 500, message: "\(what): \(said)")
        default: return .server(status: status, message: "\(what): \(said)")
        }
    }

    static func errorInSuccess(_ response: HTTPResponse) -> RemoteError? {
        let object = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any]
        return error(status: response.status, object: object, body: response.body, what: "answer")
    }

    /// A list row or a conversation: nil without an id.
    static func task(_ row: [String: Any]) -> TaskSummary? {
        guard let id = row["id"] as? String, !id.isEmpty else { return nil }
        return TaskSummary(id: id, name: row["title"] as? String ?? id, createdAt: date(row["created_at"]), updatedAt: date(row["updated_at"]))
    }

    /// A conversation's messages: the user's, and the agent's answers (a failed run's reply
    /// is `Error: …`, as the server's own `done` says it).
    static func transcript(_ messages: [[String: Any]]) -> [TranscriptEntry] {
        messages.enumerated().map { index, message in
            let isUser = (message["type"] as? String ?? message["role"] as? String) == "user"
            let time = date(message["timestamp"]).map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) } ?? Int64(index)
            var attributes: [String: String] = ["type": isUser ? "user" : "assistant"]
            attributes["agentSessionId"] = message["agentSessionId"] as? String
            let text = message["content"] as? String ?? ""
            let speaker: Speaker = isUser ? .user : text.hasPrefix("Error: ") ? .error : .result
            return TranscriptEntry(id: message["id"] as? String ?? "msg_\(index)", time: time, speaker: speaker, text: text, attributes: attributes)
        }
    }

    /// The artifacts list: files only, flat.
    static func artifacts(_ object: [String: Any], what: String) throws(RemoteError) -> [WorkspaceEntry] {
        guard let rows = object["artifacts"] as? [[String: Any]] else { throw .malformed("\(what): no artifacts") }
        return rows.compactMap { row in
            guard let name = row["filename"] as? String, !name.isEmpty, row["type"] as? String != "directory" else { return nil }
            return WorkspaceEntry(path: name, size: (row["size"] as? NSNumber)?.int64Value, mtime: date(row["modified"]))
        }
    }

    static func date(_ value: Any?) -> Date? {
        guard let text = value as? String else { return (value as? NSNumber).map { Date(timeIntervalSince1970: $0.doubleValue / 1000) } }
        if let date = try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true)) { return date }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        // SQLite's `YYYY-MM-DD HH:MM:SS`, in UTC.
        return try? Date(text.replacingOccurrences(of: " ", with: "T") + "Z", strategy: .iso8601)
    }

    static func iso(_ date: Date) -> String { date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true)) }
}
