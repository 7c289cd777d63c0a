import Foundation
import SynapseEmulatorKit

/// The demo agents, conversations and workspace files the emulator starts with.
enum SageSeeder {
    static let agents = [
        SageStore.Agent(id: "agent_research", name: "Research Agent", agentMode: "simple"),
        SageStore.Agent(id: "agent_writer", name: "Writer", agentMode: "fibre"),
    ]

    static func seed(_ store: SageStore, conversations count: Int, files: [String: Int64] = [:]) throws {
        for agent in agents {
            let folder = store.workspace(of: agent.id)
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("reports"), withIntermediateDirectories: true)
            try Data("# \(agent.name)\n\nNotes kept by the agent.\n".utf8).write(to: folder.appendingPathComponent("notes.md"))
            try DeterministicBytes.write(size: 300_000, seed: agent.id, to: folder.appendingPathComponent("reports/data.bin"))
            for (path, size) in files {
                let file = path.split(separator: "/").reduce(folder) { $0.appendingPathComponent(String($1)) }
                try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                try DeterministicBytes.write(size: size, seed: path, to: file)
            }
        }
        let start = Date().timeIntervalSince1970 - Double(count) * 3600
        for index in 0..<count {
            let agent = agents[index % agents.count]
            let at = start + Double(index) * 3600
            let id = "sess_demo_\(index + 1)"
            store.save(SageStore.Conversation(
                sessionId: id, agentId: agent.id, title: "Demo conversation \(index + 1)", createdAt: at, updatedAt: at + 60,
                messages: [
                    SageStore.Message(messageId: "\(id)-u1", role: "user", content: "Summarise the notes, please.", type: nil, createdAt: at),
                    SageStore.Message(messageId: "\(id)-a1", role: "assistant",
                                      content: "The notes cover \(agent.name)'s findings; details are in reports/data.bin.",
                                      type: "do_subtask_result", createdAt: at + 60),
                ],
                streamIndex: 2))
        }
    }
}
