import Foundation

/// `agents/AGENT/`: its `info.json` and, where it has files, its `workspace/` (the same files,
/// and the same cache, as every task of the agent shows).
struct AgentFolder: FixedFolder {
    let fs: SynapseFilesystem
    let agentId: String
    var key: NodeKey { .agent(agentId) }
    var parent: NodeKey { .agents }

    func child(named name: String) throws(FSError) -> NodeKey {
        switch name {
        case "info.json": return .agentInfo(agentId)
        case "workspace":
            guard let workspace = try fs.agents.item(id: agentId).workspaceId else { throw .notFound(name) }
            return .workspace(workspace, "")
        default: throw .notFound(name)
        }
    }

    func children() throws(FSError) -> [(name: String, key: NodeKey)] {
        let agent = try fs.agents.item(id: agentId)
        return [("info.json", .agentInfo(agentId))] + (agent.workspaceId.map { [("workspace", NodeKey.workspace($0, ""))] } ?? [])
    }
}
