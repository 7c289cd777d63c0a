import Foundation
import SynapseCore
import SynapseHTTP

/// Prompts: the answer to what a run asks (`POST /api/ai/ask/:id`), or a new run
/// (`POST /api/ai/run`) whose SSE the mount holds; a draft's first prompt saves the
/// conversation first, and the server's id is the task's from then on.
extension AsyncatClient {
    @discardableResult
    public func send(_ prompt: Prompt) throws(RemoteError) -> SentPrompt {
        let entry = TranscriptEntry(id: "msg_" + UUID().uuidString.prefix(12).lowercased(), time: Self.now, speaker: .user, text: prompt.text,
                                    attributes: ["type": "user"])
        if let pending = runs.pending(prompt.taskId) {
            guard pending.kind == "ask_user" else {
                throw .busy("the agent waits for permission to run a tool: `echo allow > ctl` or `echo deny > ctl`")
            }
            let body = try Self.json(["answer": prompt.text.trimmingCharacters(in: .whitespacesAndNewlines)])
            do throws(RemoteError) {
                _ = try request("POST", "/api/ai/ask/\(URLEncoding.segment(pending.id))", body: body, what: "answer for \(prompt.taskId)")
            } catch .notFound {
                throw .refused("the agent's question is no longer open (it timed out, or was answered)")
            }
            runs.answered(prompt.taskId, requestId: pending.id, entry: entry)
            // The files waiting in uploads/ go with the next run, not with an answer.
            return SentPrompt(attachmentsKept: !prompt.attachments.isEmpty)
        }
        var history: [[String: Any]] = []
        var sessionId: String?
        let conversationId: String
        if prompt.startsTask {
            // The server names conversations: saved with the prompt, it has its id.
            let title = String(prompt.text.split(whereSeparator: \.isNewline).first?.prefix(80) ?? "")
            let saved = try request("POST", "/api/ai/chats/save",
                                    body: try Self.json(["messages": [Self.message(entry)], "title": title, "mode": "chat"]), what: "new conversation")
            guard let id = saved["conversationId"] as? String, !id.isEmpty else { throw .malformed("new conversation: no conversationId") }
            conversationId = id
        } else {
            conversationId = prompt.taskId
            let messages = try conversation(conversationId)["messages"] as? [[String: Any]] ?? []
            history = messages.suffix(Self.historyLimit).map { ["role": ($0["type"] as? String) == "user" ? "user" : "assistant",
                                                                 "content": $0["content"] as? String ?? ""] }
            sessionId = messages.last { $0["agentSessionId"] != nil }?["agentSessionId"] as? String
        }
        var run: [String: Any] = ["goal": prompt.text, "conversationHistory": history, "conversationId": conversationId,
                                  "userMessageId": entry.id, "fileAttachments": attachments.attachments(prompt.attachments)]
        run["continueSessionId"] = sessionId
        if autoApprove { run["autoApprove"] = true }
        // The draft's first run is known by the draft's id until this send returns.
        do throws(RemoteError) {
            try runs.start(taskId: prompt.taskId, conversationId: conversationId, request: try Self.json(run), prompt: entry)
        } catch {
            // Not sent after all: no run goes on, and a conversation made for it goes again.
            runs.abandon(prompt.taskId)
            if prompt.startsTask { _ = try? request("DELETE", "/api/ai/chats/\(URLEncoding.segment(conversationId))", body: nil, what: "undo") }
            throw error
        }
        attachments.sent(prompt.attachments, taskId: prompt.taskId)
        return SentPrompt(serverTaskId: prompt.startsTask ? conversationId : nil)
    }

    static func json(_ object: [String: Any]) throws(RemoteError) -> Data {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes]) else {
            throw .malformed("a request that is not JSON")
        }
        return data
    }

    /// A message as `/chats/save` keeps it: its role in `type`, with its id and time.
    static func message(_ entry: TranscriptEntry, sessionId: String? = nil) -> [String: Any] {
        let type = entry.speaker == .user ? "user" : "assistant"
        var message: [String: Any] = ["id": entry.id, "type": type, "role": type, "content": entry.text,
                                      "timestamp": AsyncatWire.iso(Date(timeIntervalSince1970: Double(entry.time) / 1000))]
        message["agentSessionId"] = sessionId
        return message
    }

    /// What saves a conversation after its run: the stored messages, the prompt if they lack
    /// it, and the reply.
    static func saver(base: String, transport: CurlTransport, headers: [String]) -> AsyncatRuns.Saving {
        { conversationId, prompt, reply, sessionId throws(RemoteError) in
            let url = base + "/api/ai/chats/\(URLEncoding.segment(conversationId))"
            let stored = try call(transport, HTTPRequest(url: url, headers: headers), what: "conversation \(conversationId)")
            var messages = (stored["conversation"] as? [String: Any])?["messages"] as? [[String: Any]] ?? []
            if let prompt, !messages.contains(where: { $0["id"] as? String == prompt.id }) { messages.append(message(prompt)) }
            messages.append(message(reply, sessionId: sessionId))
            let body = try json(["conversationId": conversationId, "messages": messages])
            _ = try call(transport, HTTPRequest(method: "POST", url: base + "/api/ai/chats/save", headers: headers, body: body),
                         what: "save of \(conversationId)")
        }
    }

    /// `POST /api/ai/run`: data-only SSE, each event `{type, data}`, until `done` or the end.
    static func readRun(base: String, transport: CurlTransport, headers: [String], idleTimeout: Double, body: Data,
                        onEvent: (String, [String: Any]) -> Bool) throws(RemoteError) {
        let request = HTTPRequest(method: "POST", url: base + "/api/ai/run",
                                  headers: headers.filter { !$0.hasPrefix("Accept:") } + ["Accept: text/event-stream"], body: body)
        var parser = SSEParser()
        let outcome = withoutActuallyEscaping(onEvent) { onEvent in
            transport.stream(request, idleTimeout: idleTimeout) { _, chunk in
                for event in parser.feed(chunk) {
                    guard let object = (try? JSONSerialization.jsonObject(with: Data(event.data.utf8))) as? [String: Any],
                          let type = object["type"] as? String else { continue }
                    if !onEvent(type, object["data"] as? [String: Any] ?? [:]) { return false }
                }
                return true
            }
        }
        switch outcome {
        case .failure(.aborted): return
        case .failure(let failure): throw failure.remoteError(what: "run")
        case .success(let (_, _, bodyError?)): throw bodyError
        case .success(let (response, _, nil)):
            if !(200..<300).contains(response.status) {
                _ = try AsyncatWire.object(from: response, what: "run")
                throw .server(status: response.status, message: "run answered \(response.status)")
            }
        }
    }
}
