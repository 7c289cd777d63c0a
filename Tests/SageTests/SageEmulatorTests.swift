import Foundation
import Logging
import SageEmulator
import SynapseCore
import SynapseHTTP
import Testing

/// The Sage emulator answers as its API document says: login with a session cookie and
/// tokens, business errors in envelopes at HTTP 200, paged conversations, messages, and
/// agents' workspaces with ranged downloads. Driven with the mount's own transport.
@Suite struct SageEmulatorTests {
    /// A transport with a cookie jar; envelopes are read by the test itself.
    func transport() throws -> CurlTransport {
        CurlTransport(timeouts: Timeouts(connect: 2, idle: 5, request: 10), cookies: try #require(CookieJar() as CookieJar?), errorInSuccess: { _ in nil })
    }

    func json(_ response: HTTPResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any] ?? [:]
    }

    func get(_ t: CurlTransport, _ url: String, headers: [String] = []) async throws -> HTTPResponse {
        try await offPool { try t.perform(HTTPRequest(url: url, headers: headers)).get() }
    }

    func post(_ t: CurlTransport, _ url: String, _ body: String, headers: [String] = []) async throws -> HTTPResponse {
        try await offPool { try t.perform(HTTPRequest(method: "POST", url: url, headers: headers, body: Data(body.utf8))).get() }
    }

    @Test func aRequestWithoutASessionIsABusinessErrorAtHTTP200() async throws {
        let live = try await LiveSage.start()
        defer { Task { await live.stop() } }
        let response = try await get(try transport(), live.server.baseURL + "/api/conversations")
        #expect(response.status == 200)
        #expect(json(response)["code"] as? Int == 401)
        #expect(json(response)["success"] as? Bool == false)
        #expect(json(response)["error_detail"] as? String == "missing auth session")
    }

    @Test func loginSetsTheSessionThatLaterRequestsCarry() async throws {
        let live = try await LiveSage.start(conversations: 5)
        defer { Task { await live.stop() } }
        let t = try transport()
        let wrong = try await post(t, live.server.baseURL + "/api/auth/login", #"{"username_or_email":"alice","password":"no"}"#)
        #expect(json(wrong)["code"] as? Int == 400)
        let login = try await post(t, live.server.baseURL + "/api/auth/login", #"{"username_or_email":"alice","password":"s3cret"}"#)
        let tokens = try #require(json(login)["data"] as? [String: Any])
        let token = try #require(tokens["access_token"] as? String)
        #expect(tokens["expires_in"] as? Int == 3600)
        let page = try await get(t, live.server.baseURL + "/api/conversations?page=2&page_size=2", headers: ["Authorization: Bearer \(token)"])
        let data = try #require(json(page)["data"] as? [String: Any])
        #expect((data["list"] as? [[String: Any]])?.count == 2)
        #expect(data["total"] as? Int == 5 && data["total_pages"] as? Int == 3 && data["has_next"] as? Bool == true)
        // Someone else's token on this session is refused.
        let forged = try await get(t, live.server.baseURL + "/api/conversations", headers: ["Authorization: Bearer sage-at-forged"])
        #expect(json(forged)["code"] as? Int == 401)
    }

    @Test func anExpiredSessionIsNotLoggedIn() async throws {
        // Long enough that a loaded machine still asks within it (0.5 s was not, under CI's load).
        let live = try await LiveSage.start(tokenSeconds: 2)
        defer { Task { await live.stop() } }
        let t = try transport()
        _ = try await post(t, live.server.baseURL + "/api/auth/login", #"{"username_or_email":"alice","password":"s3cret"}"#)
        #expect(json(try await get(t, live.server.baseURL + "/api/agent/list"))["code"] as? Int == 200)
        try await Task.sleep(for: .milliseconds(2300))
        #expect(json(try await get(t, live.server.baseURL + "/api/agent/list"))["code"] as? Int == 401)
    }

    @Test func messagesWorkspaceAndRangedDownloads() async throws {
        let live = try await LiveSage.start()
        defer { Task { await live.stop() } }
        let t = try transport()
        let base = live.server.baseURL
        _ = try await post(t, base + "/api/auth/login", #"{"username_or_email":"alice","password":"s3cret"}"#)
        let list = try #require((json(try await get(t, base + "/api/conversations"))["data"] as? [String: Any])?["list"] as? [[String: Any]])
        let first = try #require(list.first)
        let id = try #require(first["session_id"] as? String)
        let agent = try #require(first["agent_id"] as? String)
        let messages = try #require(json(try await get(t, base + "/api/conversations/\(id)/messages"))["data"] as? [String: Any])
        #expect(messages["conversation_id"] as? String == id)
        #expect((messages["messages"] as? [[String: Any]])?.map { $0["role"] as? String } == ["user", "assistant"])
        #expect((messages["conversation_info"] as? [String: Any])?["agent_id"] as? String == agent)
        #expect(messages["next_stream_index"] as? Int == 2)

        let files = try #require(json(try await post(t, base + "/api/agent/\(agent)/file_workspace?session_id=\(id)", "{}"))["data"] as? [[String: Any]])
        let data = try #require(files.first { $0["path"] as? String == "reports/data.bin" })
        #expect(data["size"] as? Int == 300_000 && data["is_directory"] as? Bool == false)
        #expect(files.contains { $0["path"] as? String == "reports" && $0["is_directory"] as? Bool == true })

        let stored = try Data(contentsOf: live.directory.appendingPathComponent("agents/\(agent)/reports/data.bin"))
        let ranged = try await get(t, base + "/api/agent/\(agent)/file_workspace/download?file_path=reports/data.bin",
                                   headers: ["Range: bytes=1000-1999"])
        #expect(ranged.status == 206)
        #expect(ranged.body == stored[1000..<2000])
        let missing = try await get(t, base + "/api/agent/\(agent)/file_workspace/download?file_path=reports/none.bin")
        #expect(missing.status == 500)
        #expect((json(missing)["error_detail"] as? String)?.hasPrefix("File not found") == true)
        let escape = try await get(t, base + "/api/agent/\(agent)/file_workspace/download?file_path=../agent_writer/notes.md")
        #expect(escape.status == 500, "no path leaves the agent's workspace")

        let deleted = try await offPool { try t.perform(HTTPRequest(method: "DELETE", url: base + "/api/conversations/\(id)")).get() }
        #expect((json(deleted)["data"] as? [String: Any])?["session_id"] as? String == id)
        #expect(json(try await get(t, base + "/api/conversations/\(id)/messages"))["code"] as? Int == 404)
    }
}
