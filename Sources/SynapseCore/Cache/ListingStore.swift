import Foundation

/// The last task list and workspace listings seen, kept on disk so a remount can show
/// them while the server is unreachable.
public struct ListingStore: Sendable {
    private let directory: URL

    public init(cache: CacheDirectory) {
        directory = cache.listings
    }

    public func saveTasks(_ tasks: [TaskSummary]) {
        save(tasks, as: "tasks.json")
    }

    public func loadTasks() -> [TaskSummary]? {
        load([TaskSummary].self, from: "tasks.json")
    }

    public func saveWorkspace(_ entries: [WorkspaceEntry], taskId: String) {
        save(SavedWorkspace(taskId: taskId, entries: entries), as: Self.workspaceFile(taskId))
    }

    public func loadWorkspace(taskId: String) -> [WorkspaceEntry]? {
        guard let saved = load(SavedWorkspace.self, from: Self.workspaceFile(taskId)), saved.taskId == taskId else { return nil }
        return saved.entries
    }

    private struct SavedWorkspace: Codable {
        var taskId: String
        var entries: [WorkspaceEntry]
    }

    private static func workspaceFile(_ taskId: String) -> String { "workspace-\(CacheDirectory.key(taskId)).json" }

    private func save<T: Encodable>(_ value: T, as name: String) {
        guard let data = try? CacheCoding.encoder.encode(value) else { return }
        try? writeAtomically(data, to: directory.appendingPathComponent(name))
    }

    private func load<T: Decodable>(_ type: T.Type, from name: String) -> T? {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent(name)) else { return nil }
        return try? CacheCoding.decoder.decode(type, from: data)
    }
}
