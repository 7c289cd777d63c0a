import Foundation

/// A backend as the rest of the core sees it: in the mount's task ids. Where the server gives
/// a draft an id of its own at the first prompt (Asyncat does), the draft keeps its id, and
/// with it its folder, inodes, log and cache; calls reach the server with the server's id and
/// answers come back in the mount's. Without such ids (InfiniSynapse) every id is its own.
final class AliasedBackend: AgentBackend {
    private let server: any AgentBackend
    private let local: LocalTasks

    init(_ server: any AgentBackend, local: LocalTasks) {
        self.server = server
        self.local = local
    }

    private func toServer(_ taskId: String) -> String { local.serverId(of: taskId) }
    private func toMount(_ task: TaskSummary) -> TaskSummary {
        var task = task
        task.id = local.localId(ofServerId: task.id)
        return task
    }

    var capabilities: BackendCapabilities { server.capabilities }
    var feedIdentity: String? { server.feedIdentity }
    var cacheNamespace: String { server.cacheNamespace }

    func listTasks(from position: PagePosition?, pageSize: Int) throws(RemoteError) -> TaskPage {
        var page = try server.listTasks(from: position, pageSize: pageSize)
        page.items = page.items.map(toMount)
        return page
    }

    func taskInfo(id: String) throws(RemoteError) -> TaskSummary {
        toMount(try server.taskInfo(id: toServer(id)))
    }

    func transcript(taskId: String) throws(RemoteError) -> Transcript {
        try server.transcript(taskId: toServer(taskId))
    }

    func workspace(taskId: String) throws(RemoteError) -> [WorkspaceEntry] {
        try server.workspace(taskId: toServer(taskId))
    }

    func download(taskId: String, path: String, offset: Int64, length: Int64?, ifRange: String?,
                  into sink: (DownloadChunk) -> Bool) throws(RemoteError) -> DownloadResult {
        try server.download(taskId: toServer(taskId), path: path, offset: offset, length: length, ifRange: ifRange, into: sink)
    }

    /// A first prompt answered with the server's own id: the draft is known by it from now on.
    @discardableResult
    func send(_ prompt: Prompt) throws(RemoteError) -> SentPrompt {
        var outgoing = prompt
        outgoing.taskId = toServer(prompt.taskId)
        let sent = try server.send(outgoing)
        if let serverId = sent.serverTaskId, serverId != prompt.taskId {
            local.assign(serverId: serverId, to: prompt.taskId)
        }
        return sent
    }

    func upload(_ body: UploadBody, as name: String, taskId: String, answering question: PendingQuestion?) throws(RemoteError) -> UploadOutcome {
        try server.upload(body, as: name, taskId: toServer(taskId), answering: question)
    }

    func control(_ command: TaskControl, taskId: String) throws(RemoteError) {
        try server.control(command, taskId: toServer(taskId))
    }

    func followFeed(onEvent: (FeedEvent) -> Bool) throws(RemoteError) {
        try server.followFeed { event in onEvent(toMount(event)) }
    }

    func workspaceScope(taskId: String) -> String {
        server.workspaceScope(taskId: toServer(taskId))
    }

    func stop() { server.stop() }

    func listAgents() throws(RemoteError) -> [AgentSummary] { try server.listAgents() }

    func listOrchestrations() throws(RemoteError) -> [OrchestrationSummary] { try server.listOrchestrations() }

    private func toMount(_ event: FeedEvent) -> FeedEvent {
        switch event {
        case .entry(let taskId, let entry): .entry(taskId: local.localId(ofServerId: taskId), entry)
        case .partial(let taskId, let entry): .partial(taskId: local.localId(ofServerId: taskId), entry)
        case .removed(let taskId, let ids): .removed(taskId: local.localId(ofServerId: taskId), ids: ids)
        case .changed(let taskId): .changed(taskId: local.localId(ofServerId: taskId))
        case .notice, .heartbeat: event
        }
    }
}
