import Foundation
import Logging
import Synchronization
import SynapseCore

/// `--on-event CMD`: run by `sh -c` when a task completes, fails or starts waiting, with the
/// task id and the new status as arguments (`notify-send synapsefs` makes a desktop
/// notification of it) and the details in the environment. Run in the background: a slow
/// command never holds up the mount; one that fails is logged.
final class EventCommand: Sendable {
    /// The most commands running at once; changes beyond it are logged, not run.
    static let concurrency = 8

    let command: String
    let mountpoint: String
    let logger: Logger
    private let running = Atomic<Int>(0)

    init(command: String, mountpoint: String, logger: Logger) {
        self.command = command
        self.mountpoint = mountpoint
        self.logger = logger
    }

    func run(_ change: TaskChange) {
        guard running.add(1, ordering: .relaxed).newValue <= Self.concurrency else {
            running.subtract(1, ordering: .relaxed)
            logger.warning("--on-event skipped: \(Self.concurrency) commands still running", metadata: ["task": "\(change.taskId)", "status": "\(change.status.rawValue)"])
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command + " \"$@\"", "synapsefs-event", change.taskId, change.status.rawValue]
        var environment = ProcessInfo.processInfo.environment
        environment["SYNAPSEFS_TASK_ID"] = change.taskId
        environment["SYNAPSEFS_STATUS"] = change.status.rawValue
        environment["SYNAPSEFS_PREVIOUS_STATUS"] = change.previous?.rawValue
        environment["SYNAPSEFS_QUESTION"] = change.question
        environment["SYNAPSEFS_MOUNTPOINT"] = mountpoint
        environment["SYNAPSEFS_TASK_DIR"] = mountpoint + "/" + (change.folder ?? "tasks/" + change.taskId)
        environment["INFINISYNAPSE_API_KEY"] = nil
        environment["NOTIFY_SOCKET"] = nil
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        let logger = self.logger
        process.terminationHandler = { [self] finished in
            running.subtract(1, ordering: .relaxed)
            if finished.terminationStatus != 0 {
                logger.warning("--on-event command failed", metadata: ["task": "\(change.taskId)", "status": "\(change.status.rawValue)",
                                                                    "exit": "\(finished.terminationStatus)"])
            }
        }
        do {
            try process.run()
            logger.info("--on-event run", metadata: ["task": "\(change.taskId)", "status": "\(change.status.rawValue)"])
        } catch {
            running.subtract(1, ordering: .relaxed)
            logger.warning("--on-event command could not start: \(error)")
        }
    }
}
