import ArgumentParser
import Foundation

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show every synapsefs mount: its server, connection, running and waiting tasks, uploads.",
        discussion: "Exit status: 0 with at least one mount shown; 66 when there is none (or MOUNTPOINT is not one); 69 when none of them can say how it is (dead mounts)."
    )

    @Argument(help: "Only this mount.")
    var mountpoint: String?

    @Flag(help: "Print the mounts' status.json documents as a JSON array.")
    var json = false

    func run() throws {
        var mounts = Mountpoint.synapsefs().map(\.path)
        if let mountpoint {
            let path = URL(fileURLWithPath: mountpoint).standardizedFileURL.path
            guard mounts.contains(path) else { throw ScriptFailure(exit: .notFound, message: "\(path) is not a synapsefs mount").report() }
            mounts = [path]
        }
        guard !mounts.isEmpty else {
            if json { ScriptingOptions().printJSON([Any]()) }
            throw ScriptFailure(exit: .notFound, message: "no synapsefs mount on this machine").report()
        }
        var documents: [[String: Any]] = []
        for mount in mounts {
            var document: [String: Any] = ["mountpoint": mount]
            if let data = try? Data(contentsOf: URL(fileURLWithPath: mount + "/.synapsefs/status.json")),
               let status = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                document["status"] = status
            } else {
                document["error"] = Mountpoint.isDead(mount) ? "dead mount (its daemon is gone): clear it with synapsefs unmount \(mount)"
                    : "status.json cannot be read"
            }
            documents.append(document)
        }
        if json { ScriptingOptions().printJSON(documents) } else { for document in documents { print(Self.describe(document)) } }
        // Mounts whose state cannot be read (dead ones): the machine's mounts need attention.
        if documents.allSatisfy({ $0["status"] == nil }) { throw ScriptExit.unavailable.code }
    }

    /// A few lines a person reads: the mount, its server and state, what runs, what waits,
    /// uploads not done.
    static func describe(_ document: [String: Any]) -> String {
        let mount = document["mountpoint"] as? String ?? "?"
        guard let status = document["status"] as? [String: Any] else { return "\(mount): \(document["error"] ?? "unknown")" }
        let connection = status["connection"] as? [String: Any] ?? [:]
        let events = status["eventStream"] as? [String: Any] ?? [:]
        var lines = ["\(mount): \(status["server"] ?? "?") \(connection["state"] ?? "?"), events \(events["state"] ?? "?")"
                     + ((connection["lastError"] as? String).map { " (last error: \($0))" } ?? "")]
        for task in status["activeTasks"] as? [[String: Any]] ?? [] {
            let name = task["folder"] as? String ?? task["id"] as? String ?? "?"
            lines.append("  \(task["status"] ?? "?")\t\(name)" + ((task["question"] as? String).map { "\t" + $0 } ?? ""))
        }
        for upload in status["uploads"] as? [[String: Any]] ?? [] {
            lines.append("  upload \(upload["state"] ?? "?")\t\(upload["task"] ?? "?")/uploads/\(upload["name"] ?? "?")"
                         + ((upload["reason"] as? String).map { "\t" + $0 } ?? ""))
        }
        return lines.joined(separator: "\n")
    }
}
