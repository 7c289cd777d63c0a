import Foundation
import SynapseCore

/// Turns envelope `data` into the core's models, accepting every shape the API notes list.
enum Decoding {
    static func task(_ value: Any?) -> TaskSummary? {
        guard let object = value as? [String: Any], let id = Field.string(object["id"] ?? object["taskId"]) else { return nil }
        let name = Field.string(object["task_name"] ?? object["name"] ?? object["task"]) ?? id
        return TaskSummary(id: id, name: name, serverStatus: Field.string(object["status"]),
                           createdAt: Field.date(object["created_at"] ?? object["createdAt"]),
                           updatedAt: Field.date(object["updated_at"] ?? object["updatedAt"]))
    }

    static func page(_ data: Any, requested page: Int) throws(RemoteError) -> TaskPage {
        guard let object = data as? [String: Any], let items = object["items"] as? [Any] else {
            throw .malformed("ai_task/list: no items")
        }
        let meta = object["meta"] as? [String: Any] ?? [:]
        let tasks = items.compactMap(task)
        return TaskPage(items: tasks,
                        totalItems: Field.int(meta["totalItems"]) ?? tasks.count,
                        totalPages: Field.int(meta["totalPages"]) ?? 1,
                        currentPage: Field.int(meta["currentPage"]) ?? page)
    }

    /// A bare array, or an object holding the messages under `messages` or `uiMessages`.
    static func messages(_ data: Any) throws(RemoteError) -> [TaskMessage] {
        let list: [Any]
        if let array = data as? [Any] {
            list = array
        } else if let object = data as? [String: Any], let array = (object["messages"] ?? object["uiMessages"]) as? [Any] {
            list = array
        } else if data is NSNull {
            list = []
        } else {
            throw .malformed("getUiMessageById: no message list")
        }
        return list.compactMap(message)
    }

    static func message(_ value: Any) -> TaskMessage? {
        guard let object = value as? [String: Any], let ts = Field.int64(object["ts"]) else { return nil }
        return TaskMessage(ts: ts, type: Field.string(object["type"]) ?? "say",
                           say: Field.string(object["say"]), ask: Field.string(object["ask"]),
                           text: Field.string(object["text"]), reasoning: Field.string(object["reasoning"]),
                           partial: Field.bool(object["partial"]))
    }

    /// `files` as path strings or as objects with `path`/`name`, maybe `size` and `mtime`.
    static func workspace(_ data: Any) throws(RemoteError) -> [WorkspaceEntry] {
        guard let object = data as? [String: Any], let files = object["files"] as? [Any] else {
            throw .malformed("getTaskWorkspace: no files")
        }
        return files.compactMap { item -> WorkspaceEntry? in
            if let path = item as? String { return WorkspaceEntry(path: path) }
            guard let file = item as? [String: Any],
                  let path = Field.string(file["path"] ?? file["name"]) else { return nil }
            if let type = Field.string(file["type"]), type == "directory" || type == "dir" { return nil }
            return WorkspaceEntry(path: path, size: Field.int64(file["size"]),
                                  mtime: Field.date(file["mtime"] ?? file["updated_at"] ?? file["updatedAt"]))
        }
    }

    /// `{success: true}` (at the top or inside `data`) or a failure with `error` or `notification`.
    static func messageOutcome(_ data: Any) throws(RemoteError) {
        guard let object = data as? [String: Any], let success = Field.bool(object["success"]) else { return }
        guard !success else { return }
        let notification = object["notification"] as? [String: Any]
        let reason = Field.string(object["error"]) ?? Field.string(notification?["message"]) ?? "the server refused the message"
        throw .refused(reason)
    }
}
