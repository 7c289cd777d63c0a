import ArgumentParser
import Foundation

struct SendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send a prompt to a task (its first one starts a draft).",
        discussion: """
        Writes TEXT to the task's prompt.txt and reports what the mount did with it. Exit \
        status: 0 sent; 1 the server did not take it (the reason on stderr); 65 an empty, \
        whitespace-only, non-UTF-8 or over-1-MiB prompt; 66 no such task or mount; 77 not \
        allowed (a rejected key, a read-only mount).
        """
    )

    @Argument(help: "The task: a folder path, or a folder name, task id or by-name name in the mount.")
    var task: String

    @Argument(help: "The prompt, or - to read it from stdin.")
    var text: String

    @OptionGroup var scripting: ScriptingOptions

    func run() throws {
        do {
            let folder = try TaskFolder.find(task, mount: scripting.mount)
            let prompt = text == "-" ? FileHandle.standardInput.readDataToEndOfFile() : Data(text.utf8)
            try Self.send(prompt, to: folder)
            let (status, _) = (try? folder.status()) ?? ("unknown", nil)
            if scripting.json {
                scripting.printJSON(["task": folder.path, "id": folder.id, "sent": true, "status": status])
            } else {
                print("sent to \(folder.id) (\(status))")
            }
        } catch let failure as ScriptFailure {
            if scripting.json { scripting.printJSON(["task": task, "sent": false, "error": failure.message]) }
            throw failure.report()
        }
    }

    /// Writes the prompt; a refusal says why (from the task's stream.log, where the mount
    /// notes it) and exits as `ScriptExit` says.
    static func send(_ prompt: Data, to folder: TaskFolder) throws {
        let before = folder.logLength
        let code = TaskFolder.write(prompt, to: folder.path + "/prompt.txt")
        guard code != 0 else { return }
        let reason = folder.notice(after: before) ?? String(cString: strerror(code))
        throw ScriptFailure(exit: .from(errno: code), message: "not sent to \(folder.id): \(reason)")
    }
}
