import Foundation
import SynapseEmulatorKit

/// The seeded task whose workspace listing holds hostile names.
enum HostileTask {
    static let taskId = "5eedbad0-0000-4000-8000-000000000000"

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

    static func listing(in dir: URL) throws -> [TaskStore.WorkspaceFile] {
        try HostileNames.listing(in: dir).map { TaskStore.WorkspaceFile(listedPath: $0.name, blob: $0.blob, size: $0.size, mtime: $0.mtime) }
    }
}
