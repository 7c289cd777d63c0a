import Foundation
import Logging
import SynapseCore

/// `--on-event CMD`: run by `sh -c` when a task completes, fails or starts waiting, with the
/// task id and the new status as arguments (`notify-send synapsefs` makes a desktop
/// notification of it) and the details in the environment. Run in the background: a slow
/// command never holds up the mount; one that fails is logged.
struct EventCommand: Sendable {
    let command: String
    let mountpoint: String
    let logger: Logger

    func run(_ change: TaskChange) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command + " \"$@\"", "synapsefs-event", change.taskId, change.status.rawValue]
        var environment = ProcessInfo.processInfo.environment
        environment["SYNAPSEFS_TASK_ID"] = change.taskId
        environment["SYNAPSEFS_STATUS"] = change.status.rawValue
        environment["SYNAPSEFS_PREVIOUS_STATUS"] = change.previous?.rawValue
        environment["SYNAPSEFS_QUESTION"] = change.question
        environment["SYNAPSEFS_MOUNTPOINT"] = mountpoint
        environment["SYNAPSEFS_TASK_DIR"] = mountpoint + "/tasks/" + change.taskId
        environment["INFINISYNAPSE_API_KEY"] = nil
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        let logger = self.logger
        process.terminationHandler = { finished in
            if finished.terminationStatus != 0 {
                logger.warning("--on-event command failed", metadata: ["task": "\(change.taskId)", "status": "\(change.status.rawValue)",
                                                                    "exit": "\(finished.terminationStatus)"])
            }
        }
        do {
            try process.run()
            logger.info("--on-event run", metadata: ["task": "\(change.taskId)", "status": "\(change.status.rawValue)"])
        } catch {
            logger.warning("--on-event command could not start: \(error)")
        }
    }
}
