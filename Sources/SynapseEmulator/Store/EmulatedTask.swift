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

    func json(slim: Bool = false) -> [String: Any] {
        var object: [String: Any] = ["ts": ts, "type": type]
        object["say"] = say
        object["ask"] = ask
        if let text { object["text"] = slim && text.count > 4000 ? String(text.prefix(4000)) : text }
        object["partial"] = partial ?? false
        return object
    }
}

enum Wire {
    /// `2026-01-01T00:00:00.000Z`, as the server prints dates.
    static func date(_ d: Date) -> String {
        d.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
