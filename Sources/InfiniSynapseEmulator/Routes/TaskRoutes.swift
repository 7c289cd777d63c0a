import Foundation
import Hummingbird

/// `/api/ai_task/...` and `/api/ai/ping`: the read side of tasks.
struct TaskRoutes {
    let store: TaskStore
    let listing: EmulatorConfiguration.WorkspaceListing
    let isRunning: @Sendable (String) -> Bool
    let faults: Faults

    func register(on router: Router<some RequestContext>) {
        router.get("/api/ai/ping") { _, _ in APIResponse.ok(["ok": true]) }
        router.get("/api/ai_task/list") { request, _ in try list(request) }
        router.get("/api/ai_task/tasks") { request, _ in
            let task = try find(try request.requireQuery("taskId"))
            return APIResponse.ok(["taskInfo": task.summary(), "messages": task.messages.map { $0.json() }, "isRunning": isRunning(task.id)])
        }
        router.get("/api/ai_task/getTaskInfo/:id") { _, context in
            APIResponse.ok(try find(context.parameters.get("id") ?? "").summary())
        }
        router.get("/api/ai_task/getUiMessageById") { request, _ in
            let task = try find(try request.requireQuery("id"))
            let settings = faults.current
            let messages = task.messages.map { $0.slimJSON(over: settings.slimMessagesOver, marker: settings.slimMarker) }
            if let extra = inflation(of: task) {
                // Written as text: building half a million dictionaries would take the
                // emulator longer than the client's idle timeout.
                let base = (task.messages.last?.ts ?? 0) + 1
                return APIResponse.okAppending(messages, extra: extra) { i in
                    #"{"ts":\#(base + Int64(i)),"type":"say","say":"text","text":"padding message \#(i)"}"#
                }
            }
            switch settings.messageListShape {
            case "messages": return APIResponse.ok(["messages": messages])
            case "uiMessages": return APIResponse.ok(["uiMessages": messages])
            case "bare": return APIResponse.json(messages, status: .ok)
            default: return APIResponse.ok(messages)
            }
        }
        router.get("/api/ai_task/messagePayload") { request, _ in
            let task = try find(try request.requireQuery("taskId"))
            guard let ts = Int64(try request.requireQuery("messageTs")),
                  let message = task.messages.first(where: { $0.ts == ts }) else { throw APIError.notFound("message not found") }
            return APIResponse.ok(message.json())
        }
        router.get("/api/ai_task/getTaskWorkspace/:id") { _, context in
            let task = try find(context.parameters.get("id") ?? "")
            let files = try store.workspaceFiles(of: task)
            let listed: [Any] = switch listing {
            case .strings: files.map(\.listedPath)
            case .objects: files.map { ["path": $0.listedPath, "size": $0.size, "type": "file", "mtime": Wire.date($0.mtime)] }
            }
            if let extra = inflation(of: task) {
                let mtime = Wire.date(task.createdAt)
                return APIResponse.okAppending(listed, extra: extra, under: "files", in: ["cwd": "/workspace/\(task.id)"]) { i in
                    let path = "padding/\(i % 100)/file-\(i).txt"
                    return listing == .strings ? #""\#(path)""# : #"{"path":"\#(path)","size":10,"type":"file","mtime":"\#(mtime)"}"#
                }
            }
            return APIResponse.ok(["cwd": "/workspace/\(task.id)", "files": listed])
        }
        router.post("/api/ai_task/previewFile") { request, context in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            let object = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
            guard let taskId = object["taskId"] as? String, let name = object["fileName"] as? String else {
                throw APIError.invalid("taskId and fileName are required")
            }
            guard let file = try store.resolve(name, in: try find(taskId)) else { throw APIError.notFound("file not found") }
            let handle = try FileHandle(forReadingFrom: file.blob)
            defer { try? handle.close() }
            let content = String(decoding: try handle.read(upToCount: 1 << 20) ?? Data(), as: UTF8.self)
            return APIResponse.ok(["content": content, "fileType": (name as NSString).pathExtension])
        }
    }

    /// How many synthetic entries the `inflateListings` fault adds to `task`'s listings.
    private func inflation(of task: EmulatedTask) -> Int? {
        let extra = faults.current.inflateListings
        return extra > 0 && task.seedIndex == 1 ? extra : nil
    }

    func find(_ id: String) throws -> EmulatedTask {
        guard let task = store.task(id) else { throw APIError.notFound("task \(id) not found") }
        return task
    }

    private func list(_ request: Request) throws -> Response {
        let page = Int(request.query("page") ?? "1") ?? 0
        let pageSize = Int(request.query("pageSize") ?? "10") ?? 0
        guard page >= 1 else { throw APIError.invalid("page must not be less than 1") }
        guard (1...100).contains(pageSize) else { throw APIError.invalid("pageSize must not be greater than 100") }
        let field = request.query("field") ?? "created_at"
        let ascending = (request.query("order") ?? "desc").lowercased() == "asc"
        var tasks = store.sorted(by: "\(field) \(ascending)") { a, b in
            let before: Bool = switch field {
            case "updated_at": a.updatedAt == b.updatedAt ? a.id < b.id : a.updatedAt < b.updatedAt
            case "task_name": a.name == b.name ? a.id < b.id : a.name < b.name
            default: a.createdAt == b.createdAt ? a.id < b.id : a.createdAt < b.createdAt
            }
            return ascending ? before : !before
        }
        if let name = request.query("task_name"), !name.isEmpty {
            tasks = tasks.filter { $0.name.localizedCaseInsensitiveContains(name) }
        }
        let start = min((page - 1) * pageSize, tasks.count)
        let items = tasks[start..<min(start + pageSize, tasks.count)].map { $0.summary() }
        let claimed = faults.current.claimTotalPages
        let totalPages = claimed > 0 ? claimed : (tasks.count + pageSize - 1) / pageSize
        return APIResponse.ok([
            "items": items,
            "meta": ["itemCount": items.count, "totalItems": tasks.count, "itemsPerPage": pageSize,
                     "totalPages": totalPages, "currentPage": page],
        ])
    }
}
