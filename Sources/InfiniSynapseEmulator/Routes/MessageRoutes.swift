import Foundation
import Hummingbird

/// `POST /api/ai/message` and the task operations: new tasks, answers, cancel, delete.
struct MessageRoutes {
    let store: TaskStore
    let hub: EventHub
    let agent: AgentRuns
    let faults: Faults

    func register(on router: Router<some RequestContext>) {
        router.post("/api/ai/message") { request, _ in
            if faults.takeMessageFailure() {
                switch faults.current.failMessagesAs {
                case "error":
                    return APIResponse.json(["success": false, "error": "insufficient balance (injected fault)"], status: .ok)
                case "notification":
                    return APIResponse.json(["success": false, "notification": ["type": "error", "title": "Billing",
                                                                                  "message": "insufficient balance (injected fault)"]], status: .ok)
                default:
                    throw APIError(status: .internalServerError, code: 500, message: "message failed (injected fault)")
                }
            }
            return try await message(try await Self.json(request))
        }
        router.get("/api/ai_task/cancelTask") { request, _ in try cancel(try request.requireQuery("taskId")) }
        router.post("/api/ai_task/cancelTask") { request, _ in try cancel(try request.requireQuery("taskId")) }
        router.post("/api/ai_task/deleteTaskWithId") { request, _ in
            guard let ids = try await Self.json(request)["ids"] as? [String], !ids.isEmpty else { throw APIError.invalid("ids should not be empty") }
            for id in ids { agent.cancel(taskId: id) }
            store.delete(ids)
            return APIResponse.ok(["success": true])
        }
    }

    private func message(_ body: [String: Any]) async throws -> Response {
        let type = body["type"] as? String ?? ""
        let connId = body["connId"] as? String
        switch type {
        case "newTask":
            guard let text = body["text"] as? String, !text.isEmpty else { throw APIError.invalid("text should not be empty") }
            let taskId = body["taskId"] as? String ?? UUID().uuidString.lowercased()
            guard TaskIDs.isValid(taskId) else { throw APIError.invalid("taskId is not valid") }
            hub.assign(taskId: taskId, to: connId)
            // The same taskId again is the same task (the client may be retrying).
            if store.task(taskId) != nil { return APIResponse.ok(["success": true, "taskId": taskId, "state": ["existing": true]]) }
            if let settings = body["autoApprovalSettings"], !(settings is [String: Any]) {
                throw APIError.invalid("autoApprovalSettings must be an object")
            }
            let now = Date()
            var task = EmulatedTask(id: taskId, name: String(text.prefix(60)), status: "running", createdAt: now, updatedAt: now, messages: [])
            task.autoApprovesCommands = AutoApproval(settings: body["autoApprovalSettings"]).allowsCommands
            try store.save(task)
            agent.userSaid(taskId, kind: "task", text: text)
            agent.start(taskId: taskId, prompt: text)
            return APIResponse.ok(["success": true, "taskId": taskId, "state": ["taskId": taskId]])
        case "askResponse", "optionsResponse":
            guard let taskId = body["taskId"] as? String, !taskId.isEmpty else { throw APIError.invalid("taskId should not be empty") }
            if type == "askResponse", (body["askResponse"] as? String ?? "").isEmpty { throw APIError.invalid("askResponse should not be empty") }
            // The approval buttons answer with no text.
            var text = body["text"] as? String ?? ""
            if text.isEmpty, let button = body["askResponse"] as? String, button != "messageResponse" { text = button }
            if type == "optionsResponse", text.isEmpty { throw APIError.invalid("text should not be empty") }
            guard store.task(taskId) != nil else { throw APIError.notFound("task \(taskId) not found") }
            hub.assign(taskId: taskId, to: connId)
            agent.userSaid(taskId, kind: "user_feedback", text: text)
            if !agent.answer(taskId: taskId, text: text) { agent.start(taskId: taskId, prompt: text) }
            return APIResponse.ok(["success": true])
        case "cancelTask":
            guard let taskId = body["taskId"] as? String, !taskId.isEmpty else { throw APIError.invalid("taskId should not be empty") }
            return try cancel(taskId)
        case "clearTask":
            return APIResponse.ok(["success": true])
        default:
            throw APIError.invalid("type must be one of newTask, askResponse, cancelTask, clearTask, optionsResponse")
        }
    }

    private func cancel(_ taskId: String) throws -> Response {
        guard store.task(taskId) != nil else { throw APIError.notFound("task \(taskId) not found") }
        agent.cancel(taskId: taskId)
        return APIResponse.ok(["success": true])
    }

    static func json(_ request: Request) async throws -> [String: Any] {
        var request = request
        let buffer = try await request.collectBody(upTo: 4 << 20)
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any] else {
            throw APIError.invalid("body must be a JSON object")
        }
        return object
    }
}
