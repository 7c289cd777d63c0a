import Foundation

/// The text of the files the mount writes itself: info.json, status, messages.json,
/// stream.log and .synapsefs/status.json.
enum GeneratedFiles {
    static func info(task: TaskSummary, folder: String, status: TaskStatus, question: String?, serverId: String? = nil, agent: String? = nil) -> Data {
        // The server's words first; the mount's win a clash.
        var object: [String: Any] = task.details ?? [:]
        object.merge([
            "id": task.id,
            "name": task.name,
            "folder": folder,
            "status": status.rawValue,
        ]) { $1 }
        object["question"] = question
        object["orchestration"] = task.orchestration
        // The agent that answered, where the server named it; else the one chosen.
        object["agent"] = task.details?["agent"] ?? agent
        // Where the server gave the task an id of its own: what its tools call it.
        object["serverId"] = serverId
        object["serverStatus"] = task.serverStatus
        object["createdAt"] = task.createdAt.map(iso8601)
        object["updatedAt"] = task.updatedAt.map(iso8601)
        return json(object)
    }

    /// `agents/AGENT/info.json`: its id and name, and the server's own words for it.
    static func agentInfo(_ agent: AgentSummary) -> Data {
        var object: [String: Any] = agent.details
        object["id"] = agent.id
        object["name"] = agent.name
        return json(object)
    }

    /// `orchestrations/ORCH/info.json`: its id, name and steps, and the server's own words for it.
    static func orchestrationInfo(_ orchestration: OrchestrationSummary) -> Data {
        var object: [String: Any] = orchestration.details
        object["id"] = orchestration.id
        object["name"] = orchestration.name
        object["steps"] = orchestration.steps.map { step -> [String: Any] in
            var row: [String: Any] = ["id": step.id, "name": step.name, "type": step.kind]
            row["agent"] = step.agent
            return row
        }
        return json(object)
    }

    /// The status word on the first line; a waiting task's question on the second.
    static func status(_ status: TaskStatus, question: String?) -> Data {
        Data((status.rawValue + "\n" + (question.map { $0 + "\n" } ?? "")).utf8)
    }

    /// messages.json: every entry with its id, time, speaker, text and whether it is final,
    /// and the backend's own words for it (InfiniSynapse's `ts`, `type`, `say`, `ask`).
    static func messages(_ transcript: Transcript) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = (try? encoder.encode(transcript.entries.map(EncodedEntry.init))) ?? Data("[]".utf8)
        data.append(0x0A)
        return data
    }

    /// One entry of messages.json (JSONEncoder: a transcript may hold 100,000 entries).
    private struct EncodedEntry: Encodable {
        let entry: TranscriptEntry

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(_ s: String) { stringValue = s }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            // The backend's words first; the neutral ones win a clash.
            for (key, value) in entry.attributes { try c.encode(value, forKey: Key(key)) }
            try c.encode(entry.id, forKey: Key("id"))
            try c.encode(iso8601(Date(timeIntervalSince1970: Double(entry.time) / 1000)), forKey: Key("time"))
            try c.encode(TranscriptRenderer.speaker(entry.speaker), forKey: Key("speaker"))
            try c.encode(entry.text, forKey: Key("text"))
            try c.encode(!entry.isFinal, forKey: Key("partial"))
        }
    }

    static func mountStatus(server: String, mountedAt: Date, cacheDirectory: String, health: ServerHealth.Snapshot, cache: CacheBudget.Snapshot,
                            events: EventStream.Snapshot, uploads: [[String: Any]], tasks: [[String: Any]], openHandles: Int, inodes: Int,
                            serverCannot: [String]) -> Data {
        var stream: [String: Any] = ["state": events.phase.rawValue, "reconnects": events.reconnects]
        stream["connId"] = events.connId
        stream["lastEventAt"] = events.lastEventAt.map(iso8601)
        stream["lastError"] = events.lastError
        // Reachable, but the task list cannot be read: "degraded", and why.
        let degraded = health.state == .online && health.listingError != nil
        var connection: [String: Any] = ["state": degraded ? "degraded" : health.state.rawValue]
        connection["lastError"] = health.lastError
        connection["listingError"] = health.listingError
        connection["lastErrorAt"] = health.lastErrorAt.map(iso8601)
        connection["lastSuccessAt"] = health.lastSuccessAt.map(iso8601)
        var status: [String: Any] = [
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
        ]
        // Only where something is missing: InfiniSynapse's status.json stays as it was.
        if !serverCannot.isEmpty { status["serverCannot"] = serverCannot }
        return json(status)
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
