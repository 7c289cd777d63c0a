import Foundation
import Hummingbird

/// Conversations: the list (limit/offset; `total` counts the trash too, as the real server's
/// does), one with its messages, save (the server picks the id; roles come from `type`), and
/// delete into the trash.
struct ChatRoutes {
    let store: AsyncatStore
    let faults: AsyncatFaults

    func register(on router: Router<some RequestContext>) {
        router.get("/api/ai/chats") { request, _ in list(request) }
        router.get("/api/ai/chats/trash") { _, _ in
            AsyncatResponse.ok(["conversations": store.trashed.map { ["id": $0.id, "title": $0.title,
                                                                      "deleted_at": AsyncatResponse.iso($0.deletedAt ?? Date())] }])
        }
        router.get("/api/ai/chats/:id") { _, context in
            let id = context.parameters.get("id") ?? ""
            guard let conversation = store.conversation(id), conversation.deletedAt == nil else { throw AsyncatError.notFound("Conversation not found") }
            var row = Self.row(conversation)
            row["messages"] = conversation.messages.map(\.json)
            return AsyncatResponse.ok(["conversation": row])
        }
        router.post("/api/ai/chats/save") { request, _ in try await save(request) }
        router.get("/api/ai/sessions") { request, _ in
            AsyncatResponse.ok(["sessions": store.recentSessions(limit: Int(request.asyncatQuery("limit") ?? "") ?? 20).map(\.json)])
        }
        router.get("/api/ai/sessions/:id") { _, context in
            guard let session = store.session(context.parameters.get("id") ?? "") else { throw AsyncatError.notFound("Session not found") }
            return AsyncatResponse.ok(["session": session.json])
        }
        router.delete("/api/ai/chats/:id") { _, context in
            guard store.trash(context.parameters.get("id") ?? "") else { throw AsyncatError.notFound("Conversation not found") }
            return AsyncatResponse.ok(["message": "Conversation moved to trash"])
        }
    }

    private func list(_ request: Request) -> Response {
        let limit = max(1, min(200, Int(request.asyncatQuery("limit") ?? "") ?? 50))
        let offset = max(0, Int(request.asyncatQuery("offset") ?? "") ?? 0)
        let all = store.listed(includeArchived: request.asyncatQuery("includeArchived") == "true")
        let page = Array(all.dropFirst(offset).prefix(limit))
        let total = store.countIncludingTrash
        return AsyncatResponse.ok(["conversations": page.map(Self.row), "total": total, "hasMore": offset + page.count < total,
                                   "workspaceId": "local"])
    }

    static func row(_ c: AsyncatStore.Conversation) -> [String: Any] {
        ["id": c.id, "title": c.title, "mode": "chat", "is_pinned": 0, "is_archived": c.isArchived ? 1 : 0, "workspace_id": "local",
         "message_count": c.messages.count, "last_message_at": AsyncatResponse.iso(c.updatedAt), "created_at": AsyncatResponse.iso(c.createdAt),
         "updated_at": AsyncatResponse.iso(c.updatedAt), "has_attachments": 0, "project_ids": [String](), "metadata": [String: Any](),
         "folder_id": NSNull()]
    }

    private func save(_ request: Request) async throws -> Response {
        let body = try await request.jsonBody()
        if faults.takeSaveFailure() { throw AsyncatError(status: .internalServerError, message: "Failed to save conversation") }
        guard let raw = body["messages"] as? [[String: Any]], !raw.isEmpty else { throw AsyncatError.invalid("messages are required") }
        let now = Date()
        let messages = raw.enumerated().map { index, m in
            AsyncatStore.Message(id: m["id"] as? String ?? "msg_\(index)",
                                 type: (m["type"] as? String) == "user" ? "user" : "assistant",
                                 content: m["content"] as? String ?? "",
                                 timestamp: m["timestamp"] as? String ?? AsyncatResponse.iso(now.addingTimeInterval(-60 * Double(index + 1))),
                                 agentSessionId: m["agentSessionId"] as? String)
        }
        let title = body["title"] as? String
        if let id = body["conversationId"] as? String {
            guard var conversation = store.conversation(id), conversation.deletedAt == nil else { throw AsyncatError.notFound("Conversation not found") }
            conversation.messages = messages
            conversation.updatedAt = now
            if let title { conversation.title = title }
            store.save(conversation)
            store.saves.add(1, ordering: .relaxed)
            return AsyncatResponse.ok(["conversationId": id, "title": title as Any, "workspaceId": "local", "isNew": false, "messageCount": messages.count])
        }
        let first = messages[0].content
        let id = UUID().uuidString.lowercased()
        store.save(AsyncatStore.Conversation(id: id, title: title ?? (first.count > 47 ? String(first.prefix(47)) + "…" : first),
                                             createdAt: now, updatedAt: now, messages: messages))
        store.saves.add(1, ordering: .relaxed)
        return AsyncatResponse.ok(["conversationId": id, "title": title as Any, "workspaceId": "local", "isNew": true, "messageCount": messages.count])
    }
}
