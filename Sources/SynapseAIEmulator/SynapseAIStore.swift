import Foundation
import Synchronization

/// The emulated server's state: its agents, orchestrations, chat histories (per agent and
/// session, as the server keeps them on disk) and orchestration runs.
final class SynapseAIStore: Sendable {
    struct Agent: Sendable {
        var id: String
        var name: String
        var type: String
        var model: String?
        var description: String

        var row: [String: Any] { ["id": id, "name": name, "type": type, "model": model as Any? ?? NSNull(), "capabilities": [String]()] }
    }

    struct Step: Sendable {
        var id: String
        var name: String
        /// `agent` or `human`.
        var type: String
        var agentId: String?
    }

    struct Orchestration: Sendable {
        var id: String
        var name: String
        var description: String
        var steps: [Step]
    }

    struct Run: Sendable {
        var id: String
        var orchestrationId: String
        var input: String
        /// running, paused, completed, failed, cancelled.
        var status: String
        /// The next step to run.
        var nextStep: Int
        var answers: [String] = []
        /// What the last agent step answered.
        var lastOutput = ""
    }

    let agents = [
        Agent(id: "agent_research", name: "Research Agent", type: "conversational", model: "gpt-4o", description: "Finds and summarises."),
        Agent(id: "agent_writer", name: "Writer", type: "conversational", model: nil, description: "Writes it up."),
    ]
    let orchestrations = [
        Orchestration(id: "orch_review", name: "Draft and review", description: "A draft, a human's review, the final text.",
                      steps: [Step(id: "draft", name: "Draft", type: "agent", agentId: "agent_research"),
                              Step(id: "review", name: "Human review", type: "human"),
                              Step(id: "final", name: "Final text", type: "agent", agentId: "agent_writer")]),
        Orchestration(id: "orch_brief", name: "Research brief", description: "Two agents, no human step.",
                      steps: [Step(id: "research", name: "Research", type: "agent", agentId: "agent_research"),
                              Step(id: "write", name: "Write", type: "agent", agentId: "agent_writer")]),
    ]
    private let histories = Mutex<[String: Int]>([:])
    private let runs = Mutex<[String: Run]>([:])

    /// The agent a chat names: by id, by name (any case), by part of a name, else the first.
    func agent(named name: String?) -> Agent {
        guard let name, !name.isEmpty else { return agents[0] }
        return agents.first { $0.id == name } ?? agents.first { $0.name.lowercased() == name.lowercased() }
            ?? agents.first { $0.name.lowercased().contains(name.lowercased()) } ?? agents[0]
    }

    /// Counts a finished turn of the session; how many it has now.
    func turnFinished(agent: String, session: String) -> Int {
        histories.withLock { $0["\(agent)_\(session)", default: 0] += 1; return $0["\(agent)_\(session)"]! }
    }

    func orchestration(_ id: String) -> Orchestration? { orchestrations.first { $0.id == id } }

    func run(_ id: String) -> Run? { runs.withLock { $0[id] } }

    func save(_ run: Run) { runs.withLock { $0[run.id] = run } }
}
