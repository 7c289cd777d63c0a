import Foundation
import Hummingbird

/// `{success: false, error}` with the HTTP status, as every Asyncat route fails.
struct AsyncatError: Error {
    var status: HTTPResponse.Status
    var message: String

    static func notFound(_ message: String) -> AsyncatError { AsyncatError(status: .notFound, message: message) }
    static func invalid(_ message: String) -> AsyncatError { AsyncatError(status: .badRequest, message: message) }
}

enum AsyncatResponse {
    static func json(_ object: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func ok(_ fields: [String: Any]) -> Response {
        json(fields.merging(["success": true]) { $1 })
    }

    static func error(_ error: AsyncatError) -> Response {
        json(["success": false, "error": error.message], status: error.status)
    }

    static func iso(_ date: Date) -> String { date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true)) }
}

extension Request {
    func asyncatQuery(_ name: String) -> String? { uri.queryParameters[Substring(name)].map(String.init) }

    func jsonBody(limit: Int = 50 << 20) async throws -> [String: Any] {
        let body = try await self.body.collect(upTo: limit)
        guard let object = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] else {
            throw AsyncatError.invalid("Invalid JSON body")
        }
        return object
    }
}

/// The bearer check (when the emulator has tokens), the injected stall, and every route's
/// failure as `{success: false, error}`.
struct AsyncatGate<Context: RequestContext>: RouterMiddleware {
    let tokens: [String]
    let faults: AsyncatFaults

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            let stall = faults.current.stallSeconds
            if stall > 0, request.uri.path.hasPrefix("/api/") { try await Task.sleep(for: .seconds(stall)) }
            if !tokens.isEmpty {
                let header = request.headers[.authorization] ?? ""
                guard header.hasPrefix("Bearer "), tokens.contains(String(header.dropFirst(7))) else {
                    throw AsyncatError(status: .unauthorized, message: header.isEmpty ? "Authentication required" : "Invalid token")
                }
            }
            return try await next(request, context)
        } catch let error as AsyncatError {
            return AsyncatResponse.error(error)
        }
    }
}
