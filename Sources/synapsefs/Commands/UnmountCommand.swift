import ArgumentParser
import Foundation

struct UnmountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unmount",
        abstract: "Unmount a synapsefs mount.",
        discussion: "Refuses what is not a synapsefs mount; a dead mount (its daemon killed) is cleared; a busy one names who uses it."
    )

    @Argument(help: "The mountpoint.")
    var mountpoint: String

    @Flag(help: "Detach even while files are open (lazy unmount).")
    var lazy = false

    func run() throws {
        let path = URL(fileURLWithPath: mountpoint).standardizedFileURL.path
        guard let mounted = Mountpoint.mount(at: path) else { throw MountCommand.failure("\(path) is not a mount point") }
        guard mounted.type == "fuse.synapsefs" else {
            throw MountCommand.failure("\(path) is a \(mounted.type) mount, not synapsefs; use umount for it")
        }
        let dead = Mountpoint.isDead(path)
        let result = try fusermount(["-u"] + (lazy ? ["-z"] : []) + [path])
        if result.status == 0 {
            if dead { print("synapsefs: cleared the dead mount on \(path) (its daemon was gone)") }
            return
        }
        if result.stderr.contains("busy") {
            let users = Self.processes(using: path)
            let who = users.isEmpty ? "a process" : users.prefix(5).map { "\($0.command) (pid \($0.pid))" }.joined(separator: ", ")
            throw MountCommand.failure("\(path) is busy: \(who) uses it; close what is open there (or cd out), or detach it now with: synapsefs unmount --lazy \(path)")
        }
        throw MountCommand.failure("cannot unmount \(path): \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
    }

    private func fusermount(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["fusermount3"] + arguments
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    /// Processes whose working folder, root or an open file is at or below `path`, as fuser finds them.
    static func processes(using path: String) -> [(pid: Int32, command: String)] {
        let prefix = path + "/"
        let fm = FileManager.default
        guard let pids = try? fm.contentsOfDirectory(atPath: "/proc") else { return [] }
        var found: [(Int32, String)] = []
        for name in pids {
            guard let pid = Int32(name), pid != getpid() else { continue }
            let base = "/proc/\(name)"
            var links = ["\(base)/cwd", "\(base)/root"]
            links += ((try? fm.contentsOfDirectory(atPath: "\(base)/fd")) ?? []).map { "\(base)/fd/\($0)" }
            let uses = links.contains { link in
                guard let target = try? fm.destinationOfSymbolicLink(atPath: link) else { return false }
                return target == path || target.hasPrefix(prefix)
            }
            if uses {
                let command = ((try? String(contentsOfFile: "\(base)/comm", encoding: .utf8)) ?? "?").trimmingCharacters(in: .whitespacesAndNewlines)
                found.append((pid, command))
            }
        }
        return found
    }
}
