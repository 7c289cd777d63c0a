import Foundation
import Hummingbird
import Logging
import Synchronization
import SynapseCore
import SynapseEmulatorKit
import Testing
@testable import SynapseHTTP

/// Session cookies are kept by libcurl in memory, per jar, for every request of a transport.
@Suite struct CookieJarTests {
    /// `/login` sets a session cookie; `/who` answers with the cookie header it was sent.
    static func startServer() throws -> RunningServer {
        try RunningServer.startBlocking {
            try await RunningServer.start(logger: Logger(label: "cookie-test")) { onRunning in
                let router = Router()
                router.post("/login") { _, _ -> Response in
                    var headers = HTTPFields()
                    headers[.setCookie] = "session=s3cret; Path=/; HttpOnly"
                    return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "{}")))
                }
                router.get("/who") { request, _ -> String in
                    request.headers[.cookie] ?? "none"
                }
                return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                                   onServerRunning: { onRunning($0.localAddress?.port ?? 0) })
            }
        }
    }

    func transport(_ cookies: CookieJar?) -> CurlTransport {
        CurlTransport(timeouts: Timeouts(connect: 2, idle: 5, request: 10), cookies: cookies, errorInSuccess: { _ in nil })
    }

    func who(_ transport: CurlTransport, _ base: String) throws -> String {
        let response = try transport.perform(SynapseHTTP.HTTPRequest(url: base + "/who")).get()
        return String(decoding: response.body, as: UTF8.self)
    }

    @Test func aCookieSetAtLoginIsSentByLaterRequestsOfTheSameJarOnly() throws {
        let server = try Self.startServer()
        defer { server.stopBlocking() }
        let jar = try #require(CookieJar())
        let session = transport(jar)
        #expect(try who(session, server.baseURL) == "none")
        _ = try session.perform(SynapseHTTP.HTTPRequest(method: "POST", url: server.baseURL + "/login", body: Data("{}".utf8))).get()
        // Concurrent requests draw handles from the pool: every one carries the cookie.
        let answers = Mutex<[String?]>([])
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            let answer = try? who(session, server.baseURL)
            answers.withLock { $0.append(answer) }
        }
        #expect(answers.withLock { $0 } == Array(repeating: "session=s3cret", count: 6))
        #expect(try who(transport(CookieJar()), server.baseURL) == "none", "another jar is another session")
        #expect(try who(transport(nil), server.baseURL) == "none", "no jar, no cookies")
        jar.clear()
        #expect(try who(session, server.baseURL) == "none", "cleared at logout")
    }
}
