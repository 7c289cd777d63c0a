import Foundation
import Synchronization

/// A task's status as the mount last saw it change: for `--on-event` and `synapsefs status`.
public struct TaskChange: Sendable, Equatable {
    public var taskId: String
    public var status: TaskStatus
    public var previous: TaskStatus?
    /// What a waiting task asks.
    public var question: String?
    /// Its folder below the mount (`tasks/NAME`, `orchestrations/ORCH/runs/NAME`), where known.
    public var folder: String?
}

/// The last status the mount saw for each task (from events, fetched transcripts, prompts
/// it sent). A change is announced when a task the mount saw in another state completes,
/// fails or starts waiting, once per change: a task first seen finished (an old one listed at
/// start) announces nothing, and the same outcome (status and the message that brought it)
/// is never announced twice, also when a late poll and an event disagree for a moment.
final class TaskActivity: Sendable {
    struct Seen: Sendable {
        var status: TaskStatus
        var question: String?
        var at: Date
        /// The last outcome announced: its status and the entry that brought it.
        var announced: String?
    }

    /// Statuses that are announced.
    static let announced: Set<TaskStatus> = [.completed, .failed, .waiting]
    /// The most tasks remembered: beyond it, the longest unchanged are forgotten.
    static let capacity = 10_000

    private let seen = Mutex<[String: Seen]>([:])
    private let announce: @Sendable (TaskChange) -> Void

    init(announce: @escaping @Sendable (TaskChange) -> Void) {
        self.announce = announce
    }

    /// `entryId` is the transcript entry that brought the status (nil for a prompt sent).
    func observe(_ taskId: String, _ status: TaskStatus, question: String? = nil, entryId: String? = nil) {
        let change = seen.withLock { seen -> TaskChange? in
            let previous = seen[taskId]
            guard previous?.status != status || previous?.question != question else { return nil }
            if seen.count >= Self.capacity, previous == nil {
                // A tenth of the longest unchanged at once, so the scan is rare.
                for key in seen.sorted(by: { $0.value.at < $1.value.at }).prefix(Self.capacity / 10).map(\.key) { seen[key] = nil }
            }
            var next = Seen(status: status, question: question, at: Date(), announced: previous?.announced)
            defer { seen[taskId] = next }
            let outcome = "\(status.rawValue)@\(entryId ?? "-")"
            guard let previous, previous.status != status, Self.announced.contains(status), outcome != previous.announced else { return nil }
            next.announced = outcome
            return TaskChange(taskId: taskId, status: status, previous: previous.status, question: question)
        }
        if let change { announce(change) }
    }

    /// Tasks last seen running or waiting, newest change first.
    var active: [(taskId: String, seen: Seen)] {
        seen.withLock { $0.filter { $0.value.status == .running || $0.value.status == .waiting } }
            .sorted { $0.value.at > $1.value.at }.map { (taskId: $0.key, seen: $0.value) }
    }
}
