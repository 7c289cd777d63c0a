import Foundation
import Hummingbird
import ServiceLifecycle

/// An API failure that becomes an error envelope with its HTTP status.
struct APIError: Error {
    var status: HTTPResponse.Status
    var code: Int
    var message: String

    static func notFound(_ message: String) -> APIError { APIError(status: .notFound, code: 404, message: message) }
    static func invalid(_ message: String) -> APIError { APIError(status: .unprocessableContent, code: 422, message: message) }
    static let rejectedKey = APIError(status: .unauthorized, code: 1101, message: "Token is invalid or expired")
}

enum APIResponse {
    /// `{ code: 200, message: "success", data }`.
    static func ok(_ data: Any) -> Response {
        json(["code": 200, "message": "success", "data": data], status: .ok)
    }

    /// `ok` for a list (at `data`, or at `data[key]` beside `object`'s fields) followed by
    /// `extra` more elements, each given as JSON text.
    static func okAppending(_ list: [Any], extra: Int, under key: String? = nil, in object: [String: Any] = [:],
                            element: (Int) -> String) -> Response {
        var text = String(decoding: (try? JSONSerialization.data(withJSONObject: list)) ?? Data("[]".utf8), as: UTF8.self)
        text.removeLast()
        var parts = [text]
        parts.reserveCapacity(extra + 2)
        for i in 0..<extra { parts.append((i == 0 && list.isEmpty ? "" : ",") + element(i)) }
        parts.append("]")
        var array = parts.joined()
        if let key {
            var fields = String(decoding: (try? JSONSerialization.data(withJSONObject: object)) ?? Data("{}".utf8), as: UTF8.self)
            fields.removeLast()
            array = fields + (object.isEmpty ? "" : ",") + "\"\(key)\":" + array + "}"
        }
        let body = #"{"code":200,"message":"success","data":"# + array + "}"
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func error(_ error: APIError) -> Response {
        json(["code": error.code, "message": error.message, "data": NSNull()], status: error.status)
    }

    static func json(_ object: Any, status: HTTPResponse.Status) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Bearer auth on every route, and error envelopes for thrown `APIError`s.
struct APIMiddleware<Context: RequestContext>: RouterMiddleware {
    let apiKeys: Set<String>
    let faults: Faults

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let header = request.headers[.authorization] ?? ""
        guard header.hasPrefix("Bearer "), apiKeys.contains(String(header.dropFirst(7))) else {
            return APIResponse.error(.rejectedKey)
        }
        if !request.uri.path.hasPrefix("/_emulator") {
            // Stalls end early when the fault is cleared or the server shuts down.
            let started = Date()
            while Date().timeIntervalSince(started) < faults.current.stallSeconds, !Task.isShuttingDownGracefully {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let settings = faults.current
        if settings.rejectKeysWithStatus > 0, !request.uri.path.hasPrefix("/_emulator") {
            return APIResponse.json(["code": 1101, "message": "Token is invalid or expired", "data": NSNull()],
                                    status: HTTPResponse.Status(code: settings.rejectKeysWithStatus))
        }
        if !settings.missingRoutes.isEmpty, let route = Self.routeName(request.uri.path), settings.missingRoutes.contains(route) {
            return Self.missingRoute(request, style: settings.missingRouteStyle)
        }
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return APIResponse.error(error)
        }
    }
}

extension APIMiddleware {
    /// The current routes the `missingRoutes` fault can take away (older paths stay).
    static func routeName(_ path: String) -> String? {
        if path == "/api/ai_task/list" { return "list" }
        if path.hasPrefix("/api/ai_task/getTaskInfo/") { return "taskInfo" }
        if path.hasPrefix("/api/tools/storage/downloadTaskFile/") { return "download" }
        if path.hasPrefix("/api/tools/taskUpload/") { return "upload" }
        if path == "/api/ai_task/cancelTask" { return "cancel" }
        if path == "/api/ai_task/messagePayload" { return "payload" }
        return nil
    }

    /// A 404 for a route the server does not have, as deployments' frameworks answer it.
    static func missingRoute(_ request: Request, style: String) -> Response {
        switch style {
        case "framework":
            APIResponse.json(["statusCode": 404, "message": "Cannot \(request.method) \(request.uri.path)", "error": "Not Found"], status: .notFound)
        case "empty":
            Response(status: .notFound)
        default:
            APIResponse.error(APIError.notFound("Not Found"))
        }
    }
}

extension Request {
    func query(_ name: String) -> String? { uri.queryParameters[Substring(name)].map(String.init) }

    func requireQuery(_ name: String) throws -> String {
        guard let value = query(name), !value.isEmpty else { throw APIError.invalid("\(name) should not be empty") }
        return value
    }
}
