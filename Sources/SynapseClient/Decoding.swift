import Foundation
import SynapseCore

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
}
