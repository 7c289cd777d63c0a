import Foundation
import SynapseCore

/// Writing to tasks: messages, uploads, deletion.
extension InfiniSynapseClient {
    public func send(_ message: OutgoingMessage) throws(RemoteError) {
        var body: [String: Any]
        switch message {
        case .newTask(let taskId, let text, let connId):
            body = ["type": "newTask", "taskId": taskId, "text": text, "connId": connId, "chatSettings": ["mode": "act"]]
        case .answer(let taskId, let text, let connId):
            body = ["type": "askResponse", "askResponse": "messageResponse", "taskId": taskId, "text": text, "connId": connId]
        case .cancel(let taskId):
            body = ["type": "cancelTask", "taskId": taskId]
        }
        let response = try post("/api/ai/message", json: body, what: "message to \(message.taskId)")
        try Decoding.messageOutcome(response)
    }

    public func upload(_ body: UploadBody, as name: String, to destination: UploadDestination, taskId: String) throws(RemoteError) -> String {
        let path: String
        var query: [(String, String)]
        switch destination {
        case .workspace:
            path = "/api/tools/taskUpload/" + URLEncoding.segment(taskId)
            query = [("subdir", "upload_documents"), ("naming", "original")]
        case .sandbox:
            path = "/api/ai/upload"
            query = [("taskId", taskId)]
        }
        var request = HTTPRequest(method: "POST", url: url(path, query: query), headers: authHeaders)
        request.upload = (field: "file", body: body, filename: name)
        let data = try send(request, what: "upload of \(name)")
        let json = (try? JSONSerialization.data(withJSONObject: data, options: [.withoutEscapingSlashes, .fragmentsAllowed])) ?? Data()
        return String(decoding: json, as: UTF8.self)
    }

    public func deleteTask(id: String) throws(RemoteError) {
        _ = try post("/api/ai_task/deleteTaskWithId", json: ["ids": [id]], what: "delete of \(id)")
    }

    private func post(_ path: String, json: [String: Any], what: String) throws(RemoteError) -> Any {
        let body = (try? JSONSerialization.data(withJSONObject: json)) ?? Data()
        return try send(HTTPRequest(method: "POST", url: url(path, query: []), headers: authHeaders, body: body), what: what)
    }
}
