import Foundation

/// `orchestrations/`: a folder per orchestration of the server.
struct OrchestrationsFolder: FixedFolder {
    let fs: SynapseFilesystem
    var key: NodeKey { .orchestrations }
    var parent: NodeKey { .root }

    func child(named name: String) throws(FSError) -> NodeKey {
        guard let orchestration = try fs.orchestrations.current().byFolder[name] else { throw .notFound(name) }
        return .orchestration(orchestration.id)
    }

    func children() throws(FSError) -> [(name: String, key: NodeKey)] {
        let listed = try fs.orchestrations.current()
        return listed.items.compactMap { o in listed.folders[o.id].map { ($0, .orchestration(o.id)) } }
    }
}

/// `orchestrations/ORCH/`: its `info.json` and `runs/`.
struct OrchestrationFolder: FixedFolder {
    let fs: SynapseFilesystem
    let orchestrationId: String
    var key: NodeKey { .orchestration(orchestrationId) }
    var parent: NodeKey { .orchestrations }

    func child(named name: String) throws(FSError) -> NodeKey {
        switch name {
        case "info.json": .orchestrationInfo(orchestrationId)
        case "runs": .runs(orchestrationId)
        default: throw .notFound(name)
        }
    }

    func children() throws(FSError) -> [(name: String, key: NodeKey)] {
        [("info.json", .orchestrationInfo(orchestrationId)), ("runs", .runs(orchestrationId))]
    }
}

/// `orchestrations/ORCH/info.json`: the orchestration and its steps, as the server describes them.
struct OrchestrationInfoFile: Node {
    let fs: SynapseFilesystem
    let orchestrationId: String
    var key: NodeKey { .orchestrationInfo(orchestrationId) }
    var parent: NodeKey { .orchestration(orchestrationId) }

    private func content() throws(FSError) -> Data {
        GeneratedFiles.orchestrationInfo(try fs.orchestrations.currentItem(id: orchestrationId))
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

/// `orchestrations/ORCH/runs/`: a folder per run this mount made, and drafts made with mkdir
/// (a run folder is a task folder: its first prompt starts the run, a later one answers it).
struct RunsFolder: FixedFolder {
    let fs: SynapseFilesystem
    let orchestrationId: String
    var key: NodeKey { .runs(orchestrationId) }
    var parent: NodeKey { .orchestration(orchestrationId) }
    var permissions: UInt16 { 0o755 }

    func child(named name: String) throws(FSError) -> NodeKey {
        .task(try fs.catalog.run(inFolder: name, of: orchestrationId).id)
    }

    func children() throws(FSError) -> [(name: String, key: NodeKey)] {
        try fs.catalog.listing().runs(of: orchestrationId).map { ($0.name, .task($0.task.id)) }
    }

    func create(named name: String, exclusive: Bool, appending: Bool) throws(FSError) -> (NodeKey, OpenedFile) {
        throw FSError(errno: EPERM, "runs/ holds run folders: make one with mkdir")
    }

    /// A run draft: its first prompt starts a run of the orchestration.
    func makeFolder(named name: String) throws(FSError) -> NodeKey {
        _ = try fs.orchestrations.item(id: orchestrationId)
        let run = try fs.catalog.createDraft(named: name, orchestration: orchestrationId)
        fs.logger.info("run draft created", metadata: ["folder": "\(name)", "task": "\(run.id)", "orchestration": "\(orchestrationId)"])
        return .task(run.id)
    }

    func removeFolder(named name: String) throws(FSError) {
        throw FSError(errno: EPERM, "rmdir of run folder \(name) refused: use `echo delete > ctl` (needs --allow-delete)")
            .logged(at: .notice)
    }

    func rename(_ name: String, to newName: String, in target: any Node) throws(FSError) {
        throw FSError(errno: EPERM, "run folders cannot be renamed")
    }
}
