import Foundation
import SynapseEmulatorKit

/// The demo conversations and artifacts the emulator starts with.
enum AsyncatSeeder {
    static func seed(_ store: AsyncatStore, conversations count: Int, files: [String: Int64]) throws {
        try FileManager.default.createDirectory(at: store.artifacts, withIntermediateDirectories: true)
        try Data("# Report\n\nWhat the agent found.\n".utf8).write(to: store.artifacts.appendingPathComponent("report.md"))
        for (path, size) in files {
            try DeterministicBytes.write(size: size, seed: path, to: store.artifacts.appendingPathComponent((path as NSString).lastPathComponent))
        }
        let start = Date().addingTimeInterval(-Double(count) * 3600)
        for index in 0..<count {
            let at = start.addingTimeInterval(Double(index) * 3600)
            let id = String(format: "c0ffee00-0000-4000-8000-%012d", index + 1)
            store.save(AsyncatStore.Conversation(
                id: id, title: "Demo chat \(index + 1)", createdAt: at, updatedAt: at.addingTimeInterval(60),
                messages: [
                    AsyncatStore.Message(id: "\(id)-u1", type: "user", content: "Summarise the report, please.",
                                         timestamp: AsyncatResponse.iso(at)),
                    AsyncatStore.Message(id: "\(id)-a1", type: "assistant", content: "The report is in report.md; it is short.",
                                         timestamp: AsyncatResponse.iso(at.addingTimeInterval(60)), agentSessionId: "ses_demo_\(index + 1)"),
                ]))
        }
    }
}
