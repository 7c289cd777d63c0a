import Foundation

/// A task as the emulator keeps it on disk (`tasks/<id>.json`).
struct EmulatedTask: Codable, Sendable {
    var id: String
    var name: String
    var status: String
    var createdAt: Date
    var updatedAt: Date
    var messages: [EmulatedMessage]
    /// Set for seeded tasks: their workspace is written on first use from this index.
    var seedIndex: Int?
    /// Set for the hostile-names task: its listing comes from a manifest, not the directory.
    var hostileNames: Bool?
    /// The task was created with `autoApprovalSettings` that let the agent run commands.
    var autoApprovesCommands: Bool?

    func summary() -> [String: Any] {
        [
            "id": id,
            "task_name": name,
            "status": status,
            "created_at": Wire.date(createdAt),
            "updated_at": Wire.date(updatedAt),
        ]
    }
}

struct EmulatedMessage: Codable, Sendable {
    var ts: Int64
    var type: String
    var say: String?
    var ask: String?
    var text: String?
    var partial: Bool?

    func json() -> [String: Any] {
        var object: [String: Any] = ["ts": ts, "type": type]
        object["say"] = say
        object["ask"] = ask
        object["text"] = text
        object["partial"] = partial ?? false
        return object
    }

    /// As `getUiMessageById` lists it: a text over `limit` characters cut, marked as `marker`
    /// says (`none`, `ellipsis`, `flag`).
    func slimJSON(over limit: Int, marker: String) -> [String: Any] {
        var object = json()
        guard limit > 0, let text, text.count > limit else { return object }
        let cut = String(text.prefix(limit))
        switch marker {
        case "ellipsis":
            object["text"] = cut + "…"
        case "flag":
            object["text"] = cut
            object["truncated"] = true
            object["textLength"] = text.utf16.count
        default:
            object["text"] = cut
        }
        return object
    }
}

enum Wire {
    /// `2026-01-01T00:00:00.000Z`, as the server prints dates.
    static func date(_ d: Date) -> String {
        d.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
