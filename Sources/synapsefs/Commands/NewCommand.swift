import ArgumentParser
import Foundation

struct NewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Make a task: a draft folder, its files uploaded, then its prompt sent.",
        discussion: """
        Prints the task's folder (or, with --json, its folder, id and status). Exit status: 0 \
        made (and sent); 1 an upload or the prompt was not taken (the reason on stderr; the \
        draft stays); 65 a bad prompt; 66 no mount, or a file not found; 77 not allowed.
        """
    )

    @Argument(help: "The task's folder name in tasks/.")
    var name: String

    @Argument(help: "Files to upload into the task before the prompt is sent.")
    var files: [String] = []

    @Option(help: "The first prompt (- reads it from stdin); without one the task stays a draft.")
    var prompt: String?

    @OptionGroup var scripting: ScriptingOptions

    func run() throws {
        do {
            let mount = try TaskFolder.mount(scripting.mount)
            guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
                throw ScriptFailure(exit: .badInput, message: "\(name.debugDescription) is not a folder name (no /, not . or ..)")
            }
            let path = "\(mount)/tasks/\(name)"
            guard mkdir(path, 0o755) == 0 else {
                throw ScriptFailure(exit: errno == EEXIST ? .failed : .from(errno: errno),
                                    message: "cannot make task \(name): \(String(cString: strerror(errno)))")
            }
            let folder = TaskFolder(path: path, mountpoint: mount)
            for file in files { try upload(file, into: folder) }
            if let prompt {
                try SendCommand.send(prompt == "-" ? FileHandle.standardInput.readDataToEndOfFile() : Data(prompt.utf8), to: folder)
            }
            let (status, _) = (try? folder.status()) ?? ("unknown", nil)
            if scripting.json {
                scripting.printJSON(["task": folder.path, "id": folder.id, "status": status, "uploaded": files.map { URL(fileURLWithPath: $0).lastPathComponent }])
            } else {
                print(folder.path)
            }
        } catch let failure as ScriptFailure {
            throw failure.report()
        }
    }

    /// Copies a file into uploads/ in 1 MiB pieces; close() says whether the upload went.
    private func upload(_ file: String, into folder: TaskFolder) throws {
        let name = URL(fileURLWithPath: file).lastPathComponent
        guard let source = FileHandle(forReadingAtPath: file) else {
            throw ScriptFailure(exit: .notFound, message: "cannot read \(file)")
        }
        defer { try? source.close() }
        let target = folder.path + "/uploads/" + name
        let fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ScriptFailure(exit: .from(errno: errno), message: "cannot create \(target): \(String(cString: strerror(errno)))") }
        var failed: Int32 = 0
        while failed == 0 {
            let chunk: Data
            do {
                guard let read = try source.read(upToCount: 1 << 20), !read.isEmpty else { break }
                chunk = read
            } catch {
                close(fd)
                throw ScriptFailure(exit: .notFound, message: "cannot read \(file): \(error.localizedDescription); the partial copy stays in uploads/ (delete it there)")
            }
            var written = 0
            while written < chunk.count {
                let n = chunk.withUnsafeBytes { write(fd, $0.baseAddress! + written, chunk.count - written) }
                if n < 0 { failed = errno; break }
                written += n
            }
        }
        if close(fd) != 0, failed == 0 { failed = errno }
        guard failed == 0 else {
            throw ScriptFailure(exit: .from(errno: failed), message: "upload of \(name) into \(self.name) failed: \(String(cString: strerror(failed))); it stays in uploads/ and is retried")
        }
    }
}
