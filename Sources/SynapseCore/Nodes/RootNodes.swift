import Foundation

/// The mount's root: `tasks/`, `agents/` and `orchestrations/` where the server has them, and the hidden `.synapsefs/`.
struct RootFolder: FixedFolder {
    let fs: SynapseFilesystem
    var key: NodeKey { .root }
    var parent: NodeKey { .root }

    func child(named name: String) throws(FSError) -> NodeKey {
        switch name {
        case "tasks": .tasks
        case "agents" where fs.remote.capabilities.agents: .agents
        case "orchestrations" where fs.remote.capabilities.orchestrations: .orchestrations
        case ".synapsefs": .meta
        default: throw .notFound(name)
        }
    }

    func children() throws(FSError) -> [(name: String, key: NodeKey)] {
        let capabilities = fs.remote.capabilities
        return [("tasks", .tasks)] + (capabilities.agents ? [("agents", .agents)] : [])
            + (capabilities.orchestrations ? [("orchestrations", .orchestrations)] : []) + [(".synapsefs", .meta)]
    }
}

/// `.synapsefs/`: the mount's own state.
struct MetaFolder: FixedFolder {
    let fs: SynapseFilesystem
    var key: NodeKey { .meta }
    var parent: NodeKey { .root }

    func child(named name: String) throws(FSError) -> NodeKey {
        guard name == "status.json" else { throw .notFound(name) }
        return .mountStatus
    }

    func children() throws(FSError) -> [(name: String, key: NodeKey)] { [("status.json", .mountStatus)] }
}

/// `.synapsefs/status.json`: the server, the feed, the cache, uploads, active tasks.
struct MountStatusFile: Node {
    let fs: SynapseFilesystem
    var key: NodeKey { .mountStatus }
    var parent: NodeKey { .meta }

    func attributes(inode: UInt64) throws(FSError) -> FileAttributes {
        let size = try fs.renderings.value(for: key) { fs.mountStatus() }.count
        return fs.generatedAttributes(inode, size: size, permissions: 0o444, modified: Date())
    }

    func open(_ mode: OpenMode) throws(FSError) -> OpenedFile {
        guard !mode.writing, !mode.truncating else { throw readOnly }
        return fs.openGenerated(fs.mountStatus(), for: key)
    }
}
