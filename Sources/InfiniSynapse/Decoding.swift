import Foundation
import SynapseCore
import SynapseHTTP

/// Reads small answers from envelope `data` (large ones go through `WireDecoding`).
enum Decoding {
    /// `{success: true}` (at the top or inside `data`) or a failure with `error` or `notification`.
    static func messageOutcome(_ data: Any) throws(RemoteError) {
        guard let object = data as? [String: Any], let success = Field.bool(object["success"]) else { return }
        guard !success else { return }
        let notification = object["notification"] as? [String: Any]
        let reason = Field.string(object["error"]) ?? Field.string(notification?["message"]) ?? "the server refused the message"
        throw .refused(reason)
    }

    /// The text of a `messagePayload` answer: the text itself, or a message (maybe under
    /// `message` or `payload`) holding it.
    static func payloadText(_ data: Any) -> String? {
        if let text = data as? String { return text }
        guard let object = data as? [String: Any] else { return nil }
        if let text = Field.string(object["text"]) { return text }
        for key in ["message", "payload"] {
            if let inner = object[key], let text = payloadText(inner) { return text }
        }
        return nil
    }
}
