import Foundation

/// The text of the files the mount writes itself: info.json, status, messages.json,
/// stream.log and .synapsefs/status.json.
enum GeneratedFiles {
    static func info(task: TaskSummary, folder: String, status: TaskStatus, question: String?) -> Data {
        var object: [String: Any] = [
            "id": task.id,
            "name": task.name,
            "folder": folder,
            "status": status.rawValue,
        ]
        object["question"] = question
        object["serverStatus"] = task.serverStatus
        object["createdAt"] = task.createdAt.map(iso8601)
        object["updatedAt"] = task.updatedAt.map(iso8601)
        return json(object)
    }

    /// The status word on the first line; a waiting task's question on the second.
    static func status(_ status: TaskStatus, question: String?) -> Data {
        Data((status.rawValue + "\n" + (question.map { $0 + "\n" } ?? "")).utf8)
    }

    static func messages(_ messages: [TaskMessage]) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = (try? encoder.encode(messages)) ?? Data("[]".utf8)
        data.append(0x0A)
        return data
    }

    static func mountStatus(server: String, mountedAt: Date, cacheDirectory: String, health: ServerHealth.Snapshot, cache: CacheBudget.Snapshot,
                            events: EventStream.Snapshot, uploads: [[String: Any]], tasks: [[String: Any]], openHandles: Int, inodes: Int) -> Data {
        var stream: [String: Any] = ["state": events.phase.rawValue, "connId": events.connId, "reconnects": events.reconnects]
        stream["lastEventAt"] = events.lastEventAt.map(iso8601)
        stream["lastError"] = events.lastError
        // Reachable, but the task list cannot be read: "degraded", and why.
        let degraded = health.state == .online && health.listingError != nil
        var connection: [String: Any] = ["state": degraded ? "degraded" : health.state.rawValue]
        connection["lastError"] = health.lastError
        connection["listingError"] = health.listingError
        connection["lastErrorAt"] = health.lastErrorAt.map(iso8601)
        connection["lastSuccessAt"] = health.lastSuccessAt.map(iso8601)
        return json([
            "version": SynapseVersion.current,
            "pid": Int(getpid()),
            "mountedAt": iso8601(mountedAt),
            "server": server,
            "connection": connection,
            "eventStream": stream,
            "uploads": uploads,
            "activeTasks": tasks,
            "cache": ["directory": cacheDirectory, "bytes": cache.bytes, "items": cache.items, "limitBytes": cache.limit,
                      "evictions": cache.evictions, "evictedBytes": cache.evictedBytes],
            "openHandles": openHandles,
            "inodes": inodes,
        ])
    }

    static func iso8601(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    private static func json(_ object: [String: Any]) -> Data {
        var data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        data.append(0x0A)
        return data
    }
}
