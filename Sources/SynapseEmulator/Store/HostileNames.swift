import Foundation

/// A seeded task whose listing holds names a client must not trust. The names live in a
/// manifest; their bytes are stored under safe blob names.
enum HostileNames {
    static let taskId = "5eedbad0-0000-4000-8000-000000000000"

    static let names = [
        "../escape.txt",
        "/abs.txt",
        "a/../../b",
        "bell\u{07}name.txt",
        String(repeating: "L", count: 296) + ".txt",
        "collide.txt",
        "./collide.txt",
        "normal.txt",
    ]

    static func content(of name: String) -> String { "content of \(name.debugDescription)\n" }

    static func task() -> EmulatedTask {
        let created = SeedContent.epoch.addingTimeInterval(-60)
        let ts = Int64(created.timeIntervalSince1970 * 1000)
        return EmulatedTask(id: taskId, name: "Hostile names", status: "completed", createdAt: created, updatedAt: created,
                            messages: [
                                EmulatedMessage(ts: ts, type: "say", say: "task", text: "Write files with awkward names."),
                                EmulatedMessage(ts: ts + 1000, type: "say", say: "completion_result", text: "Done."),
                            ],
                            hostileNames: true)
    }

    static func write(to dir: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (i, name) in names.enumerated() {
            try Data(content(of: name).utf8).write(to: dir.appendingPathComponent("blob-\(i)"))
        }
    }

    static func listing(in dir: URL) throws -> [TaskStore.WorkspaceFile] {
        try names.enumerated().map { i, name in
            let blob = dir.appendingPathComponent("blob-\(i)")
            let attrs = try FileManager.default.attributesOfItem(atPath: blob.path)
            return TaskStore.WorkspaceFile(listedPath: name, blob: blob, size: (attrs[.size] as? NSNumber)?.int64Value ?? 0,
                                           mtime: attrs[.modificationDate] as? Date ?? Date())
        }
    }
}
