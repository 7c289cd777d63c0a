import ArgumentParser
import Foundation

struct WaitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait",
        abstract: "Wait until a task is done (or waits for an answer).",
        discussion: """
        Exit status by what the task reached: 0 completed, 1 failed, 2 waiting (with \
        --until waiting), 3 cancelled, 124 --timeout ran out, 66 no such task or mount.
        """
    )

    enum Until: String, ExpressibleByArgument, CaseIterable {
        /// Completed, failed or cancelled (`completed` is the same: a failed or cancelled
        /// task will not complete without a new prompt).
        case done, completed
        /// Also a question of the agent's.
        case waiting
    }

    @Argument(help: "The task: a folder path, or a folder name, task id or by-name name in the mount.")
    var task: String

    @Option(help: "What to wait for: done (completed, failed or cancelled), completed (the same), or waiting (also a question).")
    var until: Until = .done

    @Option(help: "Give up after this many seconds (exit 124).")
    var timeout: Double?

    @OptionGroup var scripting: ScriptingOptions

    func run() throws {
        do {
            let folder = try TaskFolder.find(task, mount: scripting.mount)
            let deadline = timeout.map { Date().addingTimeInterval($0) }
            var stops: Set<String> = ["completed", "failed", "cancelled"]
            if until == .waiting { stops.insert("waiting") }
            while true {
                let (status, question) = try folder.status()
                if stops.contains(status) {
                    report(folder, status, question)
                    let exit: ScriptExit = switch status {
                    case "completed": .ok
                    case "failed": .failed
                    case "waiting": .waiting
                    default: .cancelled
                    }
                    if exit != .ok { throw exit.code }
                    return
                }
                if let deadline, Date() >= deadline {
                    report(folder, status, question)
                    throw ScriptFailure(exit: .timedOut, message: "\(folder.id) is still \(status) after \(timeout!) s").report()
                }
                usleep(500_000)
            }
        } catch let failure as ScriptFailure {
            throw failure.report()
        }
    }

    private func report(_ folder: TaskFolder, _ status: String, _ question: String?) {
        if scripting.json {
            var object: [String: Any] = ["task": folder.path, "id": folder.id, "status": status]
            object["question"] = question
            scripting.printJSON(object)
        } else {
            print(status + (question.map { ": " + $0 } ?? ""))
        }
    }
}
