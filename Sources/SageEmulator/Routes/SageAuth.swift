import Foundation
import Hummingbird

/// `POST /api/auth/login` and `/api/auth/logout`, and the session check in front of every
/// product route: a login sets the session cookie and returns tokens; a request needs the
/// cookie's session, unexpired, and the session's token where it sends one.
struct SageAuth<Context: RequestContext>: RouterMiddleware {
    static var cookieName: String { "sage_session" }

    let store: SageStore
    let configuration: SageEmulatorConfiguration
    let faults: SageFaults

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            let path = request.uri.path
            let stall = faults.current.stallSeconds
            if stall > 0, path.hasPrefix("/api/") { try await Task.sleep(for: .seconds(stall)) }
            if path == "/api/auth/login" || path == "/api/user/login" { return try await login(request, context: context) }
            if path == "/api/oauth2/token" || path == "/oauth2/token" {
                return faults.isMissing("oauth2") ? Response(status: .notFound) : try await refresh(request)
            }
            // Object storage URLs are public, as a bucket's are.
            if path.hasPrefix("/oss/") { return try await next(request, context) }
            if path == "/api/health" { return SageResponse.ok(["status": "healthy", "timestamp": Date().timeIntervalSince1970, "service": "sage"]) }
            guard store.isLoggedIn(cookie: Self.sessionCookie(request), bearer: Self.bearer(request)) else { throw SageError.notLoggedIn }
            if path == "/api/auth/logout" {
                if let cookie = Self.sessionCookie(request) { store.logout(cookie: cookie) }
                return SageResponse.ok([String: Any]())
            }
            return try await next(request, context)
        } catch let error as SageError {
            return SageResponse.error(error, withHTTP200: configuration.errorsWithHTTP200)
        }
    }

    private func login(_ request: Request, context: Context) async throws -> Response {
        let body = try await request.body.collect(upTo: 64 << 10)
        let fields = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
        guard let user = fields["username_or_email"] as? String, let password = fields["password"] as? String,
              configuration.accounts[user] == password else {
            throw SageError(code: 400, message: "用户名或密码错误", detail: "invalid credentials")
        }
        let (cookie, session) = store.login(user, lasting: configuration.tokenSeconds)
        store.logins.add(1, ordering: .relaxed)
        let data: [String: Any] = ["access_token": session.accessToken, "refresh_token": session.refreshToken,
                                   "expires_in": Int(configuration.tokenSeconds)]
        return SageResponse.json(["code": 200, "message": "success", "success": true, "data": data, "timestamp": Date().timeIntervalSince1970],
                                 status: .ok, headers: [.setCookie: "\(Self.cookieName)=\(cookie); Path=/; HttpOnly; SameSite=Lax"])
    }

    /// `POST /api/oauth2/token` with `grant_type=refresh_token`: the session lives on with a
    /// new token (the OAuth2 answer: `access_token`, `refresh_token`, `expires_in`, `token_type`).
    private func refresh(_ request: Request) async throws -> Response {
        let body = String(buffer: try await request.body.collect(upTo: 16 << 10))
        var form: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            if parts.count == 2 { form[parts[0]] = parts[1] }
        }
        guard form["grant_type"] == "refresh_token", let token = form["refresh_token"],
              let session = store.refresh(token, lasting: configuration.tokenSeconds) else {
            return SageResponse.json(["error": "invalid_grant", "error_description": "unknown or used refresh token"], status: .badRequest)
        }
        store.refreshes.add(1, ordering: .relaxed)
        return SageResponse.json(["access_token": session.accessToken, "refresh_token": session.refreshToken,
                                  "expires_in": Int(configuration.tokenSeconds), "token_type": "bearer"], status: .ok)
    }

    static func sessionCookie(_ request: Request) -> String? {
        guard let header = request.headers[.cookie] else { return nil }
        for part in header.split(separator: ";") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if pair.count == 2, pair[0] == cookieName { return String(pair[1]) }
        }
        return nil
    }

    static func bearer(_ request: Request) -> String? {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return nil }
        return String(header.dropFirst(7))
    }
}
