import Foundation
import Hummingbird

/// The conversation list (pages with `has_next`), a conversation's messages, and deletion.
struct ConversationRoutes {
    let store: SageStore

    func register(on router: Router<some RequestContext>) {
        router.get("/api/conversations") { request, _ in try list(request) }
        router.get("/api/conversations/:id/messages") { _, context in try messages(context.parameters.get("id") ?? "") }
        router.delete("/api/conversations/:id") { _, context in
            let id = context.parameters.get("id") ?? ""
            guard store.deleteConversation(id) else { throw SageError.notFound("conversation \(id)") }
            return SageResponse.ok(["session_id": id])
        }
    }

    private func list(_ request: Request) throws -> Response {
        let page = max(1, Int(request.sageQuery("page") ?? "") ?? 1)
        let size = Int(request.sageQuery("page_size") ?? "") ?? 10
        guard (1...100).contains(size) else { throw SageError.invalid("page_size must be between 1 and 100") }
        let all = store.allConversations()
        let pages = max(1, (all.count + size - 1) / size)
        let rows = all.dropFirst((page - 1) * size).prefix(size).map(row)
        return SageResponse.ok(["list": rows, "total": all.count, "page": page, "page_size": size, "total_pages": pages,
                                "has_next": page < pages, "has_prev": page > 1])
    }

    private func row(_ c: SageStore.Conversation) -> [String: Any] {
        ["session_id": c.sessionId, "agent_id": c.agentId, "agent_name": store.agent(c.agentId)?.name ?? "", "title": c.title,
         "message_count": c.messages.count, "created_at": Self.time(c.createdAt), "updated_at": Self.time(c.updatedAt)]
    }

    private func messages(_ id: String) throws -> Response {
        guard let c = store.conversation(id) else { throw SageError.notFound("conversation \(id)") }
        let messages: [[String: Any]] = c.messages.map { m in
            var item: [String: Any] = ["message_id": m.messageId, "role": m.role, "content": m.content,
                                       "created_at": Self.time(m.createdAt), "session_id": c.sessionId]
            item["type"] = m.type
            return item
        }
        return SageResponse.ok(["conversation_id": c.sessionId, "messages": messages, "message_count": messages.count,
                                "next_stream_index": c.streamIndex, "conversation_info": row(c)])
    }

    /// ISO 8601 with fractional seconds, as the server's datetimes serialise.
    static func time(_ seconds: Double) -> String {
        Date(timeIntervalSince1970: seconds).formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
    }
}
