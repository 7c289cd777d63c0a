import Foundation
import SynapseCore
import SynapseHTTP

/// Writing to tasks: messages, uploads, deletion.
extension InfiniSynapseClient {
    /// A draft's first prompt is `newTask` (with the task id the mount chose, this mount's
    /// connId, act mode and the configured auto-approval settings); later ones `askResponse`.
    /// InfiniSynapse takes the task id the client chose (`newTask`): it assigns none.
    @discardableResult
    public func send(_ prompt: Prompt) throws(RemoteError) -> SentPrompt {
        var body: [String: Any]
        if prompt.startsTask {
            body = ["type": "newTask", "taskId": prompt.taskId, "text": prompt.text, "connId": connId, "chatSettings": ["mode": "act"]]
            body["autoApprovalSettings"] = autoApprovalSettings.flatMap { try? JSONSerialization.jsonObject(with: $0) }
        } else {
            body = answer(prompt.taskId, prompt.text)
        }
        try Decoding.messageOutcome(try post("/api/ai/message", json: body, what: "message to \(prompt.taskId)"))
        return SentPrompt()
    }

    private func answer(_ taskId: String, _ text: String) -> [String: Any] {
        ["type": "askResponse", "askResponse": "messageResponse", "taskId": taskId, "text": text, "connId": connId]
    }

    public func control(_ command: TaskControl, taskId: String) throws(RemoteError) {
        switch command {
        case .cancel:
            // The seed's current route; older deployments cancel by message.
            try cancelRoute.run { (byMessage) throws(RemoteError) in
                if byMessage {
                    try Decoding.messageOutcome(try post("/api/ai/message", json: ["type": "cancelTask", "taskId": taskId], what: "cancel of \(taskId)"))
                } else {
                    _ = try send(HTTPRequest(url: url("/api/ai_task/cancelTask", query: [("taskId", taskId)]), headers: authHeaders),
                                 what: "cancel of \(taskId)")
                }
            }
        case .delete:
            _ = try post("/api/ai_task/deleteTaskWithId", json: ["ids": [taskId]], what: "delete of \(taskId)")
        case .allow, .deny:
            // Approvals are questions here, answered through prompt.txt.
            throw .refused("InfiniSynapse asks approval as a question: answer it in prompt.txt")
        }
    }

    /// A file answering the agent's `upload_file_to_sandbox` goes to `/api/ai/upload` and its
    /// result back as the answer; any other to the workspace with `taskUpload` (the two
    /// endpoints are not to be mixed).
    public func upload(_ body: UploadBody, as name: String, taskId: String, answering question: PendingQuestion?) throws(RemoteError) -> UploadOutcome {
        guard question?.question.wantsFile == true else {
            return .stored(try upload(body, as: name, to: .workspace, taskId: taskId))
        }
        let result = try upload(body, as: name, to: .sandbox, taskId: taskId)
        try Decoding.messageOutcome(try post("/api/ai/message", json: answer(taskId, result), what: "answer to \(taskId)"))
        return .answeredAgent(result)
    }

    /// The two upload endpoints.
    public enum UploadDestination: Sendable, Equatable {
        /// `taskUpload`: archived in the workspace under `upload_documents/`, original name.
        case workspace
        /// `/api/ai/upload`: for the agent's `upload_file_to_sandbox` request.
        case sandbox
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

    private func post(_ path: String, json: [String: Any], what: String) throws(RemoteError) -> Any {
        let body = (try? JSONSerialization.data(withJSONObject: json)) ?? Data()
        return try send(HTTPRequest(method: "POST", url: url(path, query: []), headers: authHeaders, body: body), what: what)
    }
}
