import Foundation

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
