import Foundation
import Synchronization

/// The server's agents (`agents/`), listed at most once per `ttl`, each under a folder name
/// made safe and unique (agent ids come from the server). The last list is kept so a
/// workspace can find its agent without asking again.
final class AgentDirectory: Sendable {
    struct Listed: Sendable {
        var agents: [AgentSummary] = []
        /// Folder name → agent, and agent id → folder name.
        var byFolder: [String: AgentSummary] = [:]
        var folders: [String: String] = [:]
    }

    private let remote: any AgentBackend
    private let health: ServerHealth
    private let listing: Expiring<Int, Listed>
    private let last = Mutex(Listed())

    init(remote: any AgentBackend, health: ServerHealth, ttl: Double) {
        self.remote = remote
        self.health = health
        listing = Expiring(ttl: ttl, capacity: 1)
    }

    /// The agents now (a fresh list, or one younger than the TTL).
    func current() throws(FSError) -> Listed {
        try listing.value(for: 0) { () throws(FSError) -> Listed in
            let agents: [AgentSummary]
            do throws(RemoteError) { agents = try remote.listAgents() } catch {
                health.record(error)
                throw error.fsError
            }
            health.recordSuccess()
            var names = UniqueNames()
            var listed = Listed(agents: agents)
            for agent in agents {
                let folder = names.claim(SafeName.component(agent.id))
                listed.byFolder[folder] = agent
                listed.folders[agent.id] = folder
            }
            last.withLock { $0 = listed }
            return listed
        }
    }

    /// The agent whose folder is `id`'s, from the last list (nil: not known).
    func agent(id: String) -> AgentSummary? {
        last.withLock { $0.agents.first { $0.id == id } }
    }

    /// The agent whose files are read through `workspaceId`, from the last list.
    func agent(withWorkspace workspaceId: String) -> AgentSummary? {
        last.withLock { $0.agents.first { $0.workspaceId == workspaceId } }
    }
}
