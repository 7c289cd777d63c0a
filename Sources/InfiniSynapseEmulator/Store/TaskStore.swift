import Foundation
import SynapseEmulatorKit
import Synchronization

/// The emulator's state on disk: `tasks/<id>.json` per task and `workspaces/<id>/` per
/// workspace. Everything is also held in memory; writes go to disk at once.
final class TaskStore: Sendable {
    /// One file of a workspace listing: the name shown and where its bytes are.
    struct WorkspaceFile {
        var listedPath: String
        var blob: URL
        var size: Int64
        var mtime: Date
    }

    let root: URL
    private let tasks: Mutex<[String: EmulatedTask]>
    /// Bumped by every change; the last sorted listing and the version it is of.
    private let versions = Mutex<(current: Int, sorted: (version: Int, order: String, tasks: [EmulatedTask])?)>((0, nil))
    private static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .millisecondsSince1970
        return e
    }()

    init(root: URL) throws {
        self.root = root
        let fm = FileManager.default
        for dir in [root, Self.tasksDirectory(root), Self.workspacesDirectory(root)] {
            try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        var loaded: [String: EmulatedTask] = [:]
        for name in try fm.contentsOfDirectory(atPath: Self.tasksDirectory(root).path) where name.hasSuffix(".json") {
            let data = try Data(contentsOf: Self.tasksDirectory(root).appendingPathComponent(name))
            let task = try decoder.decode(EmulatedTask.self, from: data)
            loaded[task.id] = task
        }
        tasks = Mutex(loaded)
    }

    var tasksDirectory: URL { Self.tasksDirectory(root) }
    private static func tasksDirectory(_ root: URL) -> URL { root.appendingPathComponent("tasks", isDirectory: true) }
    private static func workspacesDirectory(_ root: URL) -> URL { root.appendingPathComponent("workspaces", isDirectory: true) }

    func all() -> [EmulatedTask] { tasks.withLock { Array($0.values) } }

    /// Every task in the list's order; the last sort is kept until a task changes, so paging
    /// through 100,000 tasks does not sort them once per page.
    func sorted(by order: String, _ areInOrder: (EmulatedTask, EmulatedTask) -> Bool) -> [EmulatedTask] {
        let version = versions.withLock { $0.current }
        if let cached = versions.withLock({ $0.sorted }), cached.version == version, cached.order == order { return cached.tasks }
        let tasks = all().sorted(by: areInOrder)
        versions.withLock { $0.sorted = (version, order, tasks) }
        return tasks
    }

    func task(_ id: String) -> EmulatedTask? { tasks.withLock { $0[id] } }

    func save(_ task: EmulatedTask) throws {
        try Self.encoder.encode(task).write(to: tasksDirectory.appendingPathComponent(task.id + ".json"), options: .atomic)
        tasks.withLock { $0[task.id] = task }
        changed()
    }

    private func changed() { versions.withLock { $0.current += 1 } }

    /// Applies `change` to the task and saves it, atomically with respect to other updates
    /// (the agent and request handlers append concurrently); nil when there is no such task.
    @discardableResult
    func update(_ id: String, _ change: (inout EmulatedTask) -> Void) throws -> EmulatedTask? {
        try tasks.withLock { (tasks: inout [String: EmulatedTask]) throws -> EmulatedTask? in
            guard var task = tasks[id] else { return nil }
            change(&task)
            task.updatedAt = Date()
            try Self.encoder.encode(task).write(to: tasksDirectory.appendingPathComponent(task.id + ".json"), options: .atomic)
            tasks[id] = task
            changed()
            return task
        }
    }

    func delete(_ ids: [String]) {
        for id in ids {
            tasks.withLock { $0[id] = nil }
            changed()
            try? FileManager.default.removeItem(at: tasksDirectory.appendingPathComponent(id + ".json"))
            try? FileManager.default.removeItem(at: workspaceDirectory(of: id))
        }
    }

    func workspaceDirectory(of taskId: String) -> URL {
        Self.workspacesDirectory(root).appendingPathComponent(taskId, isDirectory: true)
    }

    /// The files of a task's workspace, written first from its seed if it has one.
    func workspaceFiles(of task: EmulatedTask) throws -> [WorkspaceFile] {
        let dir = workspaceDirectory(of: task.id)
        if let index = task.seedIndex, !FileManager.default.fileExists(atPath: dir.path) {
            try SeedContent.writeWorkspace(index: index, to: dir)
        }
        if task.hostileNames == true { return try HostileTask.listing(in: dir) }
        return try Self.scan(dir)
    }

    /// The file a listed path names, or nil; nothing outside the workspace resolves.
    func resolve(_ path: String, in task: EmulatedTask) throws -> WorkspaceFile? {
        if task.hostileNames == true || task.seedIndex != nil && !FileManager.default.fileExists(atPath: workspaceDirectory(of: task.id).path) {
            return try workspaceFiles(of: task).first { $0.listedPath == path }
        }
        // What the listing would hold, found without listing (a workspace may hold thousands):
        // a regular file (no link) below the workspace, by a plain relative path, not hidden.
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.hasPrefix("."), !path.contains("\0"), !parts.isEmpty, !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else { return nil }
        let url = parts.reduce(workspaceDirectory(of: task.id)) { $0.appendingPathComponent(String($1)) }
        var st = stat()
        guard lstat(url.path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        let mtime = Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
        return WorkspaceFile(listedPath: path, blob: url, size: Int64(st.st_size), mtime: mtime)
    }

    private static func scan(_ dir: URL) throws -> [WorkspaceFile] {
        let fm = FileManager.default
        guard let walker = fm.enumerator(at: dir, includingPropertiesForKeys: [.isRegularFileKey, .fileSizeKey, .contentModificationDateKey]) else { return [] }
        let prefix = dir.standardizedFileURL.path + "/"
        var files: [WorkspaceFile] = []
        for case let url as URL in walker {
            let values = try url.resourceValues(forKeys: [.isRegularFileKey, .fileSizeKey, .contentModificationDateKey])
            guard values.isRegularFile == true else { continue }
            let full = url.standardizedFileURL.path
            guard full.hasPrefix(prefix) else { continue }
            let relative = String(full.dropFirst(prefix.count))
            if relative.hasPrefix(".") { continue }
            files.append(WorkspaceFile(listedPath: relative, blob: url, size: Int64(values.fileSize ?? 0),
                                       mtime: values.contentModificationDate ?? Date()))
        }
        return files.sorted { $0.listedPath < $1.listedPath }
    }
}
