import Foundation
import SynapseCore
import SynapseHTTP

extension InfiniSynapseClient {
    /// The feed: the SSE stream, each event in the core's words.
    public func followFeed(onEvent: (FeedEvent) -> Bool) throws(RemoteError) {
        try streamEvents { event in
            guard let feedEvent = Self.feedEvent(event) else { return true }
            return onEvent(feedEvent)
        }
    }

    /// An SSE event in the core's words (nil for one that says nothing the mount uses):
    /// `message.add`/`update` an entry, `message.partial` a streaming update (the seed: the
    /// text so far or only what is new), `message.remove` entries taken back, `state.ready`
    /// a task changed, `notification` a notice (type `error`: a failure).
    static func feedEvent(_ event: ServerEvent) -> FeedEvent? {
        if event.type == "heartbeat" { return .heartbeat }
        guard let object = try? JSONSerialization.jsonObject(with: Data(event.data.utf8)) as? [String: Any] else { return nil }
        guard let taskId = object["taskId"] as? String else {
            guard event.type == "notification" else { return nil }
            return .notice(title: object["title"] as? String ?? "", text: object["message"] as? String ?? "",
                           isError: (object["type"] as? String) == "error")
        }
        switch event.type {
        case "message.add", "message.update", "message.partial":
            guard let raw = object["message"] as? [String: Any], let message = UIMessage(json: raw) else { return nil }
            return event.type == "message.partial" ? .partial(taskId: taskId, message.entry) : .entry(taskId: taskId, message.entry)
        case "message.remove":
            let ids = (object["messageTs"] as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.int64Value }.map(String.init)
            return .removed(taskId: taskId, ids: ids)
        case "state.ready":
            return .changed(taskId: taskId)
        default:
            return nil
        }
    }

    /// `GET /api/ai/events?connId=`: no total timeout (tasks run for hours), only an idle
    /// timeout that heartbeats and comments keep from firing.
    public func streamEvents(onEvent: (ServerEvent) -> Bool) throws(RemoteError) {
        let request = HTTPRequest(url: url("/api/ai/events", query: [("connId", connId)]),
                                  headers: authHeaders.filter { !$0.hasPrefix("Accept:") } + ["Accept: text/event-stream"])
        var parser = SSEParser()
        let outcome = withoutActuallyEscaping(onEvent) { onEvent in
            transport.stream(request, idleTimeout: eventIdleTimeout) { _, chunk in
                parser.feed(chunk).allSatisfy(onEvent)
            }
        }
        switch outcome {
        case .failure(.aborted):
            return
        case .failure(let failure):
            throw failure.remoteError(what: "event stream")
        case .success(let (_, _, bodyError?)):
            // An error envelope with HTTP 200 (a rejected key) instead of events: not a
            // stream that ended, to be reopened at once, but the error it is.
            throw bodyError
        case .success(let (response, _, nil)):
            if !(200..<300).contains(response.status) {
                _ = try Envelope.data(from: response, what: "event stream")
                throw .server(status: response.status, message: "event stream answered \(response.status)")
            }
        }
    }
}

extension UIMessage {
    /// A message as an event carries it.
    init?(json: [String: Any]) {
        guard let ts = (json["ts"] as? NSNumber)?.int64Value else { return nil }
        self.init(ts: ts, type: json["type"] as? String ?? "say", say: json["say"] as? String, ask: json["ask"] as? String,
                  text: json["text"] as? String, reasoning: json["reasoning"] as? String, partial: (json["partial"] as? NSNumber)?.boolValue)
    }
}
