import Foundation

/// `agents/`: a folder per agent of the server.
struct AgentsFolder: FixedFolder {
    let fs: SynapseFilesystem
    var key: NodeKey { .agents }
    var parent: NodeKey { .root }

    func child(named name: String) throws(FSError) -> NodeKey {
        guard let agent = try fs.agents.current().byFolder[name] else { throw .notFound(name) }
        return .agent(agent.id)
    }

    func children() throws(FSError) -> [(name: String, key: NodeKey)] {
        let listed = try fs.agents.current()
        return listed.items.compactMap { agent in listed.folders[agent.id].map { ($0, .agent(agent.id)) } }
    }
}

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

/// `agents/AGENT/info.json`: the agent as the server describes it.
struct AgentInfoFile: Node {
    let fs: SynapseFilesystem
    let agentId: String
    var key: NodeKey { .agentInfo(agentId) }
    var parent: NodeKey { .agent(agentId) }

    private func content() throws(FSError) -> Data {
        GeneratedFiles.agentInfo(try fs.agents.currentItem(id: agentId))
    }

    func attributes(inode: UInt64) throws(FSError) -> FileAttributes {
        let size = try fs.renderings.value(for: key) { () throws(FSError) -> Data in try content() }.count
        return fs.generatedAttributes(inode, size: size, permissions: 0o444, modified: fs.mountedAt)
    }

    func open(_ mode: OpenMode) throws(FSError) -> OpenedFile {
        guard !mode.writing, !mode.truncating else { throw readOnly }
        return fs.openGenerated(try content(), for: key)
    }
}
