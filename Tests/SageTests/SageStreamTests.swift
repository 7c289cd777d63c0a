import Foundation
import Synchronization
import SynapseCore
import SynapseEmulatorKit
import SynapseHTTP
import Testing

/// The Sage emulator's runs: a prompt's JSON lines (deltas of one message, then
/// `stream_end`), resume from a chunk index without gaps or repeats, interrupt, and the
/// active sessions' feed.
@Suite struct SageStreamTests {
    struct Line: Sendable {
        let object: [String: String]
        var type: String? { object["type"] }
    }

    /// Logs in and returns the session's transport.
    func loggedIn(_ live: LiveSage) async throws -> CurlTransport {
        let t = CurlTransport(timeouts: Timeouts(connect: 2, idle: 5, request: 30), cookies: try #require(CookieJar() as CookieJar?),
                              errorInSuccess: { _ in nil })
        _ = try await offPool { try t.perform(HTTPRequest(method: "POST", url: live.server.baseURL + "/api/auth/login",
                                                          body: Data(#"{"username_or_email":"alice","password":"s3cret"}"#.utf8))).get() }
        return t
    }

    /// The JSON lines of a streamed answer; stops after `limit` lines (the connection dropped).
    func lines(_ t: CurlTransport, _ request: HTTPRequest, limit: Int = .max) async throws -> [Line] {
        let (method, url, body) = (request.method, request.url, request.body)
        return try await offPool { () -> [Line] in
            let parser = Mutex(JSONLinesParser())
            let seen = Mutex<[Line]>([])
            _ = t.stream(HTTPRequest(method: method, url: url, body: body)) { _, bytes in
                let lines = parser.withLock { $0.feed(bytes) }
                for line in lines {
                    let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] ?? [:]
                    seen.withLock { $0.append(Line(object: object.mapValues { "\($0)" })) }
                }
                return seen.withLock { $0.count } < limit
            }
            return seen.withLock { Array($0.prefix(limit)) }
        }
    }

    func prompt(_ live: LiveSage, _ text: String, session: String) -> HTTPRequest {
        let body = try! JSONSerialization.data(withJSONObject: ["messages": [["role": "user", "content": text]], "session_id": session,
                                                                "agent_id": "agent_research"])
        return HTTPRequest(method: "POST", url: live.server.baseURL + "/api/web-stream", body: body)
    }

    @Test func aPromptStreamsDeltasOfOneMessageThenStreamEnd() async throws {
        let live = try await LiveSage.start()
        defer { Task { await live.stop() } }
        let t = try await loggedIn(live)
        let got = try await lines(t, prompt(live, "Hello [emu:words 5] [emu:delay 2]", session: "sess_new"))
        let deltas = got.filter { $0.object["message_id"] != nil }
        #expect(deltas.count == 5)
        #expect(Set(deltas.compactMap { $0.object["message_id"] }).count == 1, "one message, in pieces")
        let text = deltas.compactMap { $0.object["content"] }.joined()
        #expect(text == "the quarterly numbers show steady ")
        #expect(got.last?.type == "stream_end" && got.last?.object["total_stream_count"] == "6")
        let stored = try await offPool { try t.perform(HTTPRequest(url: live.server.baseURL + "/api/conversations/sess_new/messages")).get() }
        let data = (try JSONSerialization.jsonObject(with: stored.body) as? [String: Any])?["data"] as? [String: Any]
        let messages = data?["messages"] as? [[String: Any]] ?? []
        #expect(messages.map { $0["role"] as? String } == ["user", "assistant"])
        #expect(messages.last?["content"] as? String == text)
    }

    @Test func aDroppedStreamResumesFromItsIndexWithoutGapsOrRepeats() async throws {
        let live = try await LiveSage.start()
        defer { Task { await live.stop() } }
        let t = try await loggedIn(live)
        let first = try await lines(t, prompt(live, "Long [emu:words 30] [emu:delay 10]", session: "sess_drop"), limit: 4)
        #expect(first.count == 4)
        let rest = try await lines(t, HTTPRequest(url: live.server.baseURL + "/api/stream/resume/sess_drop?last_index=4"))
        let all = first + rest
        #expect(all.filter { $0.object["message_id"] != nil }.count == 30)
        #expect(all.last?.type == "stream_end")
        let words = all.compactMap { $0.object["content"] }
        #expect(words == (0..<30).map { Directives.vocabularyWord($0) + " " })
        // After the end, a resume says so.
        let after = try await lines(t, HTTPRequest(url: live.server.baseURL + "/api/stream/resume/sess_drop?last_index=31"))
        #expect(after.map(\.type) == ["stream_end"])
        #expect(after.first?.object["resume_fallback"] != nil)
    }

    @Test func anInterruptEndsTheRunAndKeepsWhatWasSaid() async throws {
        let live = try await LiveSage.start()
        defer { Task { await live.stop() } }
        let t = try await loggedIn(live)
        _ = try await lines(t, prompt(live, "Go on [emu:forever] [emu:delay 10]", session: "sess_stop"), limit: 3)
        let stopped = try await offPool { try t.perform(HTTPRequest(method: "POST", url: live.server.baseURL + "/api/sessions/sess_stop/interrupt",
                                                                    body: Data("{}".utf8))).get() }
        let data = (try JSONSerialization.jsonObject(with: stopped.body) as? [String: Any])?["data"] as? [String: Any]
        #expect(data?["interrupted"] as? Bool == true)
        let rest = try await lines(t, HTTPRequest(url: live.server.baseURL + "/api/stream/resume/sess_stop?last_index=0"))
        #expect(rest.last?.type == "stream_end")
        let said = rest.compactMap { $0.object["content"] }.joined()
        let stored = try await offPool { try t.perform(HTTPRequest(url: live.server.baseURL + "/api/conversations/sess_stop/messages")).get() }
        let messages = ((try JSONSerialization.jsonObject(with: stored.body) as? [String: Any])?["data"] as? [String: Any])?["messages"] as? [[String: Any]]
        #expect(messages?.last?["content"] as? String == said)
        #expect(!said.isEmpty)
    }
}

extension SageStreamTests {
    @Test func theActiveSessionsFeedNamesARunningConversation() async throws {
        let live = try await LiveSage.start()
        defer { Task { await live.stop() } }
        let t = try await loggedIn(live)
        _ = try await lines(t, prompt(live, "Go on [emu:forever] [emu:delay 10]", session: "sess_busy"), limit: 1)
        let url = live.server.baseURL + "/api/stream/active_sessions"
        let first = try await offPool { () -> String in
            let parser = Mutex(SSEParser())
            let found = Mutex<String?>(nil)
            _ = t.stream(HTTPRequest(url: url)) { _, bytes in
                if let event = parser.withLock({ $0.feed(bytes) }).first { found.withLock { $0 = event.data } }
                return found.withLock { $0 } == nil
            }
            return found.withLock { $0 } ?? ""
        }
        #expect(first.contains("sess_busy"))
        _ = try await offPool { try t.perform(HTTPRequest(method: "POST", url: live.server.baseURL + "/api/sessions/sess_busy/interrupt",
                                                          body: Data("{}".utf8))).get() }
    }
}

extension SageStreamTests {
    @Test func aQuietRunSendsHeartbeatsThatAreNoChunks() async throws {
        let live = try await LiveSage.start(heartbeatSeconds: 0.1)
        defer { Task { await live.stop() } }
        let t = try await loggedIn(live)
        let request = prompt(live, "Slowly [emu:words 3] [emu:delay 400]", session: "sess_slow")
        let (method, url, body) = (request.method, request.url, request.body)
        let (raw, values) = try await offPool { () -> (String, Int) in
            let text = Mutex("")
            let parser = Mutex(JSONLinesParser())
            let values = Mutex(0)
            _ = t.stream(HTTPRequest(method: method, url: url, body: body)) { _, bytes in
                text.withLock { $0 += String(decoding: bytes, as: UTF8.self) }
                let lines = parser.withLock { $0.feed(bytes) }
                values.withLock { $0 += lines.count }
                return true
            }
            return (text.withLock { $0 }, values.withLock { $0 })
        }
        #expect(raw.contains(": heartbeat\n"))
        #expect(values == 4, "three words and stream_end: heartbeats are not values")
        // Resume indexes count chunks only: from 3, just the end.
        let rest = try await lines(t, HTTPRequest(url: live.server.baseURL + "/api/stream/resume/sess_slow?last_index=3"))
        #expect(rest.map(\.type) == ["stream_end"])
        #expect(rest.first?.object["resume_fallback"] == nil)
    }
}
