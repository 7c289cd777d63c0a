import Foundation
import SynapseCore
import SynapseHTTP

/// Sage's `BaseResponse` `{code, message, data, timestamp}` (plus `success`, `error_detail`),
/// whose business errors come with HTTP 200 as often as not.
enum SageEnvelope {
    /// The `data` of a successful answer, or the error the answer stands for.
    static func data(from response: HTTPResponse, what: String) throws(RemoteError) -> Any {
        let envelope = (try? JSONSerialization.jsonObject(with: response.body, options: [.fragmentsAllowed])) as? [String: Any]
        if let error = error(status: response.status, envelope: envelope, body: response.body, what: what) { throw error }
        guard let envelope else { throw .malformed("\(what): answer is not a JSON object") }
        return envelope["data"] ?? NSNull()
    }

    /// The error a 2xx JSON answer stands for (the transport asks before taking it as content).
    static func errorInSuccess(_ response: HTTPResponse) -> RemoteError? {
        let envelope = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any]
        guard let envelope, envelope["code"] != nil else { return nil }
        return error(status: response.status, envelope: envelope, body: response.body, what: "answer")
    }

    /// The error an HTTP status and envelope code stand for; nil for a success. Not logged
    /// in (401) is a rejected session: the bearer session logs in again.
    static func error(status: Int, envelope: [String: Any]?, body: Data, what: String) -> RemoteError? {
        let code = (envelope?["code"] as? NSNumber)?.intValue
        let detail = envelope?["error_detail"] as? String
        let message = [envelope?["message"] as? String, detail].compactMap { $0 }.joined(separator: ": ")
        let said = message.isEmpty ? String(decoding: body.prefix(200), as: UTF8.self) : message
        let failed = !(200..<300).contains(status) || (code != nil && code != 200) || envelope?["success"] as? Bool == false
        guard failed else { return nil }
        let effective = code.flatMap { $0 == 200 ? nil : $0 } ?? status
        if detail?.hasPrefix("File not found") == true { return .notFound("\(what): \(said)") }
        switch effective {
        case 401, 403: return .rejectedKey("\(what): \(said)")
        case 404: return .notFound("\(what): \(said)")
        case 422: return .invalidRequest("\(what): \(said)")
        case 400: return .refused("\(what): \(said)")
        default: return .server(status: effective, message: "\(what): \(said)")
        }
    }
}
