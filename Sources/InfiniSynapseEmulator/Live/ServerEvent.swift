import Foundation

/// One Server-Sent Event as the InfiniSynapse server sends it: `event: NAME\ndata: JSON\n\n`.
struct ServerEvent: Sendable {
    var name: String
    var data: String
    /// The UTF-8 length of a message event's text (for the event log).
    var textLength: Int?

    init(name: String, json: Any) {
        self.name = name
        let bytes = (try? JSONSerialization.data(withJSONObject: json, options: [.fragmentsAllowed, .withoutEscapingSlashes])) ?? Data("null".utf8)
        data = String(decoding: bytes, as: UTF8.self)
    }

    static func message(_ kind: String, taskId: String, _ message: EmulatedMessage) -> ServerEvent {
        var event = ServerEvent(name: "message.\(kind)", json: ["taskId": taskId, "message": message.json()])
        event.textLength = message.text?.utf8.count
        return event
    }

    static func stateReady(_ taskId: String?) -> ServerEvent { ServerEvent(name: "state.ready", json: ["taskId": taskId.map { $0 as Any } ?? NSNull()]) }

    static func removed(taskId: String, ts: [Int64]) -> ServerEvent {
        ServerEvent(name: "message.remove", json: ["taskId": taskId, "messageTs": ts])
    }

    static func notification(type: String, title: String, message: String) -> ServerEvent {
        ServerEvent(name: "notification", json: ["type": type, "title": title, "message": message])
    }

    static let heartbeat = ServerEvent(name: "heartbeat", json: "ping")

    var frame: String { "event: \(name)\ndata: \(data)\n\n" }
}
