import Foundation
import SynapseCore

/// Writing to tasks: messages, uploads, deletion.
extension InfiniSynapseClient {
    public func send(_ message: OutgoingMessage) throws(RemoteError) {
        var body: [String: Any]
        switch message {
        case .newTask(let taskId, let text, let connId):
            body = ["type": "newTask", "taskId": taskId, "text": text, "connId": connId, "chatSettings": ["mode": "act"]]
            body["autoApprovalSettings"] = autoApprovalSettings.flatMap { try? JSONSerialization.jsonObject(with: $0) }
        case .answer(let taskId, let text, let connId):
            body = ["type": "askResponse", "askResponse": "messageResponse", "taskId": taskId, "text": text, "connId": connId]
        case .cancel(let taskId):
            // The seed's current route; older deployments cancel by message.
            return try cancelRoute.run { (byMessage) throws(RemoteError) in
                if byMessage {
                    try Decoding.messageOutcome(try post("/api/ai/message", json: ["type": "cancelTask", "taskId": taskId], what: "cancel of \(taskId)"))
                } else {
                    _ = try send(HTTPRequest(url: url("/api/ai_task/cancelTask", query: [("taskId", taskId)]), headers: authHeaders),
                                 what: "cancel of \(taskId)")
                }
            }
        }
        let response = try post("/api/ai/message", json: body, what: "message to \(message.taskId)")
        try Decoding.messageOutcome(response)
    }

    public func upload(_ body: UploadBody, as name: String, to destination: UploadDestination, taskId: String) throws(RemoteError) -> String {
        let send = { (path: String, query: [(String, String)]) throws(RemoteError) -> String in
            var request = HTTPRequest(method: "POST", url: self.url(path, query: query), headers: self.authHeaders)
            request.upload = (field: "file", body: body, filename: name)
            let data = try self.send(request, what: "upload of \(name)")
            let json = (try? JSONSerialization.data(withJSONObject: data, options: [.withoutEscapingSlashes, .fragmentsAllowed])) ?? Data()
            return String(decoding: json, as: UTF8.self)
        }
        switch destination {
        case .workspace:
            // A body streamed while it is written cannot be sent twice.
            let retryable = if case .file = body { true } else { false }
            return try uploadRoute.run(retryable: retryable) { (older) throws(RemoteError) in
                try send((older ? "/api/taskUpload/" : "/api/tools/taskUpload/") + URLEncoding.segment(taskId),
                         [("subdir", "upload_documents"), ("naming", "original")])
            }
        case .sandbox:
            return try send("/api/ai/upload", [("taskId", taskId)])
        }
    }

    public func deleteTask(id: String) throws(RemoteError) {
        _ = try post("/api/ai_task/deleteTaskWithId", json: ["ids": [id]], what: "delete of \(id)")
    }

    private func post(_ path: String, json: [String: Any], what: String) throws(RemoteError) -> Any {
        let body = (try? JSONSerialization.data(withJSONObject: json)) ?? Data()
        return try send(HTTPRequest(method: "POST", url: url(path, query: []), headers: authHeaders, body: body), what: what)
    }
}
