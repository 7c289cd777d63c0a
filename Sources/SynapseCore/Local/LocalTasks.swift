import Foundation
import Synchronization

/// What this mount knows about tasks that the server does not: drafts (created by `mkdir`,
/// not yet sent), the folder names chosen for them, and the last prompt sent from here.
/// Kept in the private state directory, so it survives a remount.
public final class LocalTasks: Sendable {
    public struct Record: Codable, Sendable, Equatable {
        public var taskId: String
        public var folder: String
        public var createdAt: Date
        /// True until the first prompt has been accepted by the server.
        public var isDraft: Bool
        /// The id the server gave the task, where it chose one other than the draft's.
        public var serverId: String?
        /// The orchestration the draft is a run of (its folder is in `orchestrations/ORCH/runs/`).
        public var orchestration: String?
        /// The agent the draft's first prompt goes to (its `agent` file); nil: the server's default.
        public var agent: String?
    }

    private let file: URL
    private let prompts: URL
    private let records: Mutex<[String: Record]>

    public init(stateDirectory: URL) {
        file = stateDirectory.appendingPathComponent("tasks.json")
        prompts = stateDirectory.appendingPathComponent("prompts", isDirectory: true)
        try? FileManager.default.createDirectory(at: prompts, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let loaded = (try? Data(contentsOf: file)).flatMap { try? CacheCoding.decoder.decode([Record].self, from: $0) } ?? []
        records = Mutex(Dictionary(loaded.map { ($0.taskId, $0) }, uniquingKeysWith: { a, _ in a }))
    }

    public var all: [Record] { records.withLock { Array($0.values) } }

    public func record(for taskId: String) -> Record? { records.withLock { $0[taskId] } }

    /// A new draft named `folder` (a run of `orchestration`, where one is named), with a fresh UUID task id.
    public func createDraft(folder: String, orchestration: String? = nil) -> Record {
        let record = Record(taskId: UUID().uuidString.lowercased(), folder: folder, createdAt: Date(), isDraft: true, orchestration: orchestration)
        records.withLock { $0[record.taskId] = record }
        save()
        return record
    }

    /// The server accepted a prompt for `taskId`: no longer a draft; `text` is the last prompt.
    public func promptSent(_ text: String, taskId: String) {
        let changed = records.withLock { r -> Bool in
            guard r[taskId]?.isDraft == true else { return false }
            r[taskId]?.isDraft = false
            return true
        }
        if changed { save() }
        try? writeAtomically(Data(text.utf8), to: promptURL(taskId))
    }

    /// The draft `taskId`'s first prompt goes to `agent` (nil: the server's default); false
    /// when it is no draft (its agent was chosen when it started).
    public func choose(agent: String?, for taskId: String) -> Bool {
        let chosen = records.withLock { r -> Bool in
            guard r[taskId]?.isDraft == true else { return false }
            r[taskId]?.agent = agent
            return true
        }
        if chosen { save() }
        return chosen
    }

    /// The server gave the task `taskId` its own id `serverId`: the mount keeps `taskId`.
    public func assign(serverId: String, to taskId: String) {
        let changed = records.withLock { r -> Bool in
            guard r[taskId] != nil, r[taskId]?.serverId != serverId else { return false }
            r[taskId]?.serverId = serverId
            return true
        }
        if changed { save() }
    }

    /// The id the server knows the task by.
    public func serverId(of taskId: String) -> String {
        records.withLock { $0[taskId]?.serverId } ?? taskId
    }

    /// The mount's id of the task the server calls `serverId`.
    public func localId(ofServerId serverId: String) -> String {
        records.withLock { r in r.values.first { $0.serverId == serverId }?.taskId } ?? serverId
    }

    public func lastPrompt(of taskId: String) -> Data {
        (try? Data(contentsOf: promptURL(taskId))) ?? Data()
    }

    public func forget(_ taskId: String) {
        records.withLock { $0[taskId] = nil }
        unlink(promptURL(taskId).path)
        save()
    }

    private func promptURL(_ taskId: String) -> URL { prompts.appendingPathComponent(CacheDirectory.key(taskId) + ".txt") }

    private func save() {
        let list = records.withLock { Array($0.values) }.sorted { $0.taskId < $1.taskId }
        guard let data = try? CacheCoding.encoder.encode(list) else { return }
        try? writeAtomically(data, to: file)
    }
}
