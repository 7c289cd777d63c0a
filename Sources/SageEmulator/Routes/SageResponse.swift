import Foundation
import Hummingbird

/// A business failure: an envelope with its code, at HTTP 200 where the server answers so.
struct SageError: Error {
    var code: Int
    var message: String
    /// What real servers add beside the message (`missing auth session`, `File not found: …`).
    var detail: String?

    static let notLoggedIn = SageError(code: 401, message: "未登录", detail: "missing auth session")
    static func notFound(_ what: String) -> SageError { SageError(code: 404, message: "\(what) not found", detail: nil) }
    static func invalid(_ message: String) -> SageError { SageError(code: 400, message: message, detail: nil) }
}

/// `BaseResponse`: `{code, message, data, timestamp}` (with `success`, as the real server adds).
enum SageResponse {
    static func ok(_ data: Any) -> Response {
        json(["code": 200, "message": "success", "success": true, "data": data, "timestamp": Date().timeIntervalSince1970], status: .ok)
    }

    static func error(_ error: SageError, withHTTP200: Bool) -> Response {
        var body: [String: Any] = ["code": error.code, "message": error.message, "success": false, "data": NSNull(),
                                   "timestamp": Date().timeIntervalSince1970]
        body["error_detail"] = error.detail
        return json(body, status: withHTTP200 ? .ok : HTTPResponse.Status(code: error.code))
    }

    static func json(_ object: Any, status: HTTPResponse.Status, headers extra: HTTPFields = [:]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])) ?? Data("{}".utf8)
        var headers: HTTPFields = [.contentType: "application/json"]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension Request {
    func sageQuery(_ name: String) -> String? { uri.queryParameters[Substring(name)].map(String.init) }
}
