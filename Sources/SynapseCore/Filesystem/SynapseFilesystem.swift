import Foundation
import Logging

/// The mount's logic, free of FUSE and C: each operation takes Swift values and returns a
/// small reply value or throws an `FSError` carrying its errno.
public final class SynapseFilesystem: Sendable {
    public let inodes = InodeTable()
    let remote: any AgentBackend
    let handles = HandleTable()
    let catalog: TaskCatalog
    let agents: ServerDirectory<AgentSummary>
    let orchestrations: ServerDirectory<OrchestrationSummary>
    let details: TaskDetails
    let cache: WorkspaceCache
    let walkAhead: WalkAhead
    let health: ServerHealth
    let local: LocalTasks
    let logs: TranscriptLogs
    let notices: TaskNotices
    let failures = NotifiedFailures()
    let activity: TaskActivity
    let scratch: ScratchFiles
    let actions: TaskActions
    let events: EventStream
    let spool: UploadSpool
    public let uploader: Uploader
    /// The rendering of a generated file last served by open, so a stat right after the open
    /// reports the size of what that open reads.
    let renderings = Expiring<NodeKey, Data>(ttl: 1)
    let configuration: FilesystemConfiguration
    let logger: Logger
    let mountedAt = Date()

    public init(remote server: any AgentBackend, configuration: FilesystemConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        let store = ListingStore(cache: configuration.cacheDirectory)
        health = ServerHealth(logger: logger)
        local = LocalTasks(stateDirectory: configuration.cacheDirectory.state)
        // Everything below speaks the mount's task ids; the server's own are told apart here.
        let remote = AliasedBackend(server, local: local)
        self.remote = remote
        logs = TranscriptLogs(stateDirectory: configuration.cacheDirectory.state)
        notices = TaskNotices(logs: logs, logger: logger)
        scratch = ScratchFiles(stateDirectory: configuration.cacheDirectory.state)
        let catalog = TaskCatalog(remote: remote, store: store, local: local, health: health, ttl: configuration.taskListTTL,
                                  firstListingWait: configuration.operationTimeLimit, logger: logger,
                                  tasksChanged: { [logs] in logs.requestReconcile($0) })
        self.catalog = catalog
        agents = ServerDirectory(health: health, ttl: configuration.taskListTTL, id: \.id) { () throws(RemoteError) in try remote.listAgents() }
        let orchestrations = ServerDirectory<OrchestrationSummary>(health: health, ttl: configuration.taskListTTL, id: \.id) { () throws(RemoteError) in
            try remote.listOrchestrations()
        }
        self.orchestrations = orchestrations
        let announce = configuration.taskChanged ?? { _ in }
        activity = TaskActivity { change in
            var change = change
            change.folder = Self.path(of: change.taskId, catalog: catalog, orchestrations: orchestrations)
            announce(change)
        }
        details = TaskDetails(remote: remote, store: store, health: health,
                              messagesTTL: configuration.taskDetailsTTL, workspaceTTL: configuration.taskDetailsTTL,
                              fetchedTranscript: { [logs, activity, failures, catalog] taskId, transcript in
                                  logs.catchUp(taskId, with: transcript)
                                  let status = failures.hasFailed(taskId, transcript: transcript) ? .failed
                                      : TaskStatus.derive(transcript, listed: catalog.knownTask(id: taskId)?.status)
                                  activity.observe(taskId, status, question: status == .waiting ? TaskStatus.question(in: transcript) : nil,
                                                   entryId: transcript.deciding?.id)
                              })
        let cache = WorkspaceCache(directory: configuration.cacheDirectory, remote: remote, limit: configuration.cacheLimit,
                                   freeSpaceFloor: configuration.freeSpaceFloor, readWaitLimit: configuration.operationTimeLimit, health: health,
                                   logger: logger)
        self.cache = cache
        walkAhead = WalkAhead(cache: cache)
        spool = UploadSpool(stateDirectory: configuration.cacheDirectory.state)
        actions = TaskActions(remote: remote, catalog: catalog, details: details, notices: notices, health: health,
                              spool: spool, allowDelete: configuration.allowDelete, logger: logger)
        uploader = Uploader(spool: spool, remote: remote, details: details, notices: notices, health: health,
                            isDraft: { [local] in local.record(for: $0)?.isDraft == true },
                            logger: logger)
        events = EventStream(remote: remote, logger: logger)
    }

    public var serverHealth: ServerHealth.Snapshot { health.current }

    // MARK: Names and attributes

    public func lookup(parent: UInt64, name: String) throws(FSError) -> Entry {
        let key = try node(for: try key(for: parent)).child(named: name)
        let ino = inodes.lookup(key)
        do {
            return Entry(attributes: try attributes(of: key, inode: ino), timeout: configuration.kernelTimeout)
        } catch {
            inodes.forget(ino, count: 1)
            throw error
        }
    }

    public func forget(_ ino: UInt64, count: UInt64) {
        inodes.forget(ino, count: count)
    }

    public func getattr(_ ino: UInt64) throws(FSError) -> FileAttributes {
        try attributes(of: try key(for: ino), inode: ino)
    }

    public var attributeTimeout: Double { configuration.kernelTimeout }

    // MARK: Directories

    public func opendir(_ ino: UInt64) throws(FSError) -> UInt64 {
        let node = node(for: try key(for: ino))
        let children = try node.children()
        var entries = [
            DirectoryEntry(name: ".", key: node.key, attributes: try attributes(of: node.key, inode: ino)),
            DirectoryEntry(name: "..", key: node.parent, attributes: folderAttributes(inodes.inode(for: node.parent))),
        ]
        for (name, childKey) in children {
            let childIno = inodes.inode(for: childKey)
            // A child that cannot describe itself now (a vanished file) is left out, not fatal.
            guard let attrs = try? attributes(of: childKey, inode: childIno) else { continue }
            entries.append(DirectoryEntry(name: name, key: childKey, attributes: attrs))
        }
        return handles.insert(.directory(entries))
    }

    /// The entries from index `offset` on; an entry's offset for the next call is its index + 1.
    public func readdir(_ fh: UInt64, from offset: Int) throws(FSError) -> ArraySlice<DirectoryEntry> {
        guard case .directory(let entries) = try handles.get(fh) else { throw .badHandle(fh) }
        guard offset < entries.count else { return [] }
        return entries[max(0, offset)...]
    }

    /// Counts the kernel reference a readdirplus entry creates and returns its entry.
    public func acceptPlusEntry(_ entry: DirectoryEntry) -> Entry {
        var attributes = entry.attributes
        attributes.inode = inodes.lookup(entry.key)
        return Entry(attributes: attributes, timeout: configuration.kernelTimeout)
    }

    public func releasedir(_ fh: UInt64) {
        handles.remove(fh)
    }

    // MARK: Files

    public func open(_ ino: UInt64, writing: Bool, truncating: Bool, appending: Bool = false) throws(FSError) -> OpenedFile {
        try node(for: try key(for: ino)).open(OpenMode(writing: writing, truncating: truncating, appending: appending))
    }

    /// Text produced now, fixed for the handle; a stat right after sees its size.
    func openGenerated(_ data: Data, for key: NodeKey) -> OpenedFile {
        renderings.store(data, for: key)
        return OpenedFile(handle: handles.insert(.generated(data)), directIO: true, keepCache: false)
    }

    func openScratch(_ fd: Int32) -> OpenedFile {
        OpenedFile(handle: handles.insert(.scratch(ScratchHandle(fd: fd))), directIO: true, keepCache: false)
    }

    /// A workspace file, read through the cache.
    func openWorkspaceFile(_ file: WorkspaceTree.File, taskId: String) throws(FSError) -> OpenedFile {
        try Self.checkListedSize(of: file)
        let identity = cachedIdentity(of: file, taskId: taskId)
        let (reader, keepCache) = try cache.openReader(for: identity)
        // Without a listed size the kernel cannot know where the file ends: direct I/O until a
        // complete copy tells it.
        let sized = file.size != nil || cache.completeSize(of: identity) != nil
        return OpenedFile(handle: handles.insert(.workspace(reader)), directIO: !sized, keepCache: keepCache && sized)
    }

    /// What a listed workspace file is in the cache: the file of its workspace, in its version.
    func cachedIdentity(of file: WorkspaceTree.File, taskId: String) -> CachedFileIdentity {
        CachedFileIdentity(scope: workspaceScope(of: taskId), taskId: taskId, remotePath: file.remotePath, size: file.size, mtime: file.mtime)
    }

    static func checkListedSize(of file: WorkspaceTree.File) throws(FSError) {
        if let invalid = file.invalidSize {
            throw .server("\(file.remotePath): the server lists an impossible size (\(invalid) bytes)")
        }
    }

    func openWriter(_ kind: TaskFileKind, taskId: String, appending: Bool) -> OpenedFile {
        let limit = kind == .prompt ? TaskActions.maxPromptBytes : 4096
        let buffer = WriteBuffer(limit: limit, appending: appending)
        return OpenedFile(handle: handles.insert(.writer(kind, taskId: taskId, buffer)), directIO: true, keepCache: false)
    }

    /// Reads into `buffer` and returns the count; short only at the end of the file.
    public func read(_ fh: UInt64, at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(FSError) -> Int {
        switch try handles.get(fh) {
        case .generated(let data):
            guard offset < data.count else { return 0 }
            let count = min(buffer.count, data.count - Int(offset))
            data.withUnsafeBytes { src in
                buffer.baseAddress!.copyMemory(from: src.baseAddress! + Int(offset), byteCount: count)
            }
            return count
        case .workspace(let reader):
            return try reader.read(at: offset, into: buffer)
        case .scratch(let file):
            return try Self.pread(file.fd, at: offset, into: buffer)
        case .upload(let handle):
            return try Self.pread(handle.file.fd, at: offset, into: buffer)
        case .log(let reader):
            let n = try reader.log.read(at: offset, into: buffer)
            reader.readUpTo(offset + Int64(n))
            return n
        case .writer:
            throw FSError(errno: EBADF, "handle \(fh) was opened for writing")
        case .directory:
            throw .isDirectory("handle \(fh)")
        }
    }

    static func pread(_ fd: Int32, at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(FSError) -> Int {
        try Syscall.check(Glibc.pread(fd, buffer.baseAddress, buffer.count, off_t(offset)), "reading a local file")
    }

    public func release(_ fh: UInt64) {
        switch try? handles.get(fh) {
        case .upload(let handle)?:
            // The last writer gone, what no close uploaded (`touch`, writes after the last
            // flush) is queued, not left open forever.
            if spool.writerReleased(handle.entryId) { uploader.wakeUp() }
        case .log(let reader)?:
            logs.readerClosed(reader.log.taskId)
        case .workspace(let reader)?:
            reader.close()
        default:
            break
        }
        handles.remove(fh)
    }

    // MARK: The tree

    func key(for ino: UInt64) throws(FSError) -> NodeKey {
        guard let key = inodes.key(for: ino) else { throw .notFound("inode \(ino)") }
        return key
    }

    /// The node a key stands for: the one place that tells node kinds apart.
    func node(for key: NodeKey) -> any Node {
        switch key {
        case .root: RootFolder(fs: self)
        case .meta: MetaFolder(fs: self)
        case .mountStatus: MountStatusFile(fs: self)
        case .tasks: TasksFolder(fs: self)
        case .byName: ByNameFolder(fs: self)
        case .byNameLink(let name): ByNameLink(fs: self, name: name)
        case .task(let id): TaskFolder(fs: self, id: id)
        case .taskFile(let id, let kind): TaskFile(fs: self, taskId: id, kind: kind)
        case .scratch(let id, let name): ScratchFile(fs: self, taskId: id, name: name)
        case .workspace(let id, let path): WorkspaceNode(fs: self, taskId: id, path: path)
        case .uploads(let id): UploadsFolder(fs: self, taskId: id)
        case .upload(let id, let name): UploadFile(fs: self, taskId: id, name: name)
        case .agents: ServerItemsFolder(fs: self, key: key, directory: agents, itemKey: NodeKey.agent)
        case .agent(let id): AgentFolder(fs: self, agentId: id)
        case .agentInfo(let id):
            ServerItemInfoFile(fs: self, key: key, parent: .agent(id), directory: agents, itemId: id, render: GeneratedFiles.agentInfo)
        case .orchestrations: ServerItemsFolder(fs: self, key: key, directory: orchestrations, itemKey: NodeKey.orchestration)
        case .orchestration(let id): OrchestrationFolder(fs: self, orchestrationId: id)
        case .orchestrationInfo(let id):
            ServerItemInfoFile(fs: self, key: key, parent: .orchestration(id), directory: orchestrations, itemId: id,
                               render: GeneratedFiles.orchestrationInfo)
        case .runs(let id): RunsFolder(fs: self, orchestrationId: id)
        }
    }

    /// The attributes as shown: the owner's modes (writable nodes are writable by their owner
    /// only; with `default_permissions` the kernel enforces it for other users), widened for
    /// other writers (`--allow-other-writes`), narrowed by a read-only mount and the umask.
    private func attributes(of key: NodeKey, inode: UInt64) throws(FSError) -> FileAttributes {
        var attributes = try node(for: key).attributes(inode: inode)
        if configuration.othersMayWrite, attributes.permissions & 0o200 != 0 { attributes.permissions |= 0o022 }
        if configuration.readOnly { attributes.permissions &= ~0o222 }
        attributes.permissions &= ~configuration.umask
        return attributes
    }

    /// Who every node belongs to.
    public var owner: Owner { configuration.owner }

    func folderAttributes(_ inode: UInt64, modified: Date? = nil, permissions: UInt16 = 0o555) -> FileAttributes {
        FileAttributes(inode: inode, kind: .directory, permissions: permissions, size: 0,
                       modified: modified ?? mountedAt, linkCount: 2)
    }

    /// A file whose content changes between calls: the kernel must not keep its size.
    func generatedAttributes(_ inode: UInt64, size: Int, permissions: UInt16, modified: Date) -> FileAttributes {
        var attributes = FileAttributes(inode: inode, kind: .regular, permissions: permissions, size: Int64(size), modified: modified)
        attributes.isVolatile = true
        return attributes
    }

    /// A generated file's text: from a fresh transcript (at open), or from the last one known
    /// when `fresh` is false (a stat: it never waits on the server when something is known).
    func generatedContent(_ kind: TaskFileKind, taskId: String, fresh: Bool = true) throws(FSError) -> Data {
        let known = fresh || isDraft(taskId) ? nil : details.lastKnownTranscript(of: taskId)
        switch kind {
        case .info:
            // An open shows the task as listed now: a stale list (an event said the task
            // changed) is refreshed first, waited for as `ls` waits for it.
            if fresh { _ = try? catalog.listing() }
            guard let task = catalog.knownTask(id: taskId) else { throw .notFound(taskId) }
            let folder = catalog.knownFolder(of: taskId) ?? SafeName.component(taskId)
            let (status, question) = known.map { statusAndQuestion(of: taskId, transcript: $0) } ?? statusAndQuestion(of: taskId)
            let serverId = local.serverId(of: taskId)
            return GeneratedFiles.info(task: task, folder: folder, status: status, question: question,
                                       serverId: serverId == taskId ? nil : serverId, agent: local.record(for: taskId)?.agent)
        case .status:
            let (status, question) = known.map { statusAndQuestion(of: taskId, transcript: $0) } ?? statusAndQuestion(of: taskId)
            return GeneratedFiles.status(status, question: question)
        case .messages:
            if let known { return GeneratedFiles.messages(known) }
            return GeneratedFiles.messages(try transcript(of: taskId))
        case .streamLog:
            return Data() // served by its own handle kind, from the log file
        case .prompt:
            return local.lastPrompt(of: taskId)
        case .ctl:
            return Data()
        case .agent:
            return Data(((local.record(for: taskId)?.agent ?? catalog.knownTask(id: taskId)?.details?["agent"]).map { $0 + "\n" } ?? "").utf8)
        }
    }

    /// The tasks last seen running or waiting (at most 1,000), with their folders.
    private func activeTasks() -> [[String: Any]] {
        activity.active.prefix(1000).map { taskId, seen in
            var item: [String: Any] = ["id": taskId, "status": seen.status.rawValue, "since": GeneratedFiles.iso8601(seen.at)]
            item["folder"] = catalog.knownFolder(of: taskId)
            item["question"] = seen.question
            return item
        }
    }

    public func readlink(_ ino: UInt64) throws(FSError) -> String {
        guard let link = node(for: try key(for: ino)) as? ByNameLink else { throw FSError(errno: EINVAL, "not a link") }
        return try link.target
    }

    /// Where a task's folder is below the mount (`tasks/NAME`, a run's
    /// `orchestrations/ORCH/runs/NAME`), as the mount knows it now; nil: not known.
    static func path(of taskId: String, catalog: TaskCatalog, orchestrations: ServerDirectory<OrchestrationSummary>) -> String? {
        guard let folder = catalog.knownFolder(of: taskId) else { return nil }
        guard let orchestration = catalog.knownTask(id: taskId)?.orchestration else { return "tasks/" + folder }
        guard let parent = orchestrations.lastKnownFolder(of: orchestration) else { return nil }
        return "orchestrations/\(parent)/runs/\(folder)"
    }

    /// The workspace a task's cached files are filed under.
    func workspaceScope(of taskId: String) -> String { remote.cacheNamespace + "\u{0}" + remote.workspaceScope(taskId: taskId) }

    func isDraft(_ taskId: String) -> Bool { local.record(for: taskId)?.isDraft == true }

    /// A draft has no server side yet: an empty transcript, an empty workspace.
    func transcript(of taskId: String) throws(FSError) -> Transcript {
        isDraft(taskId) ? Transcript(entries: []) : try details.transcript(of: taskId)
    }

    func workspace(of taskId: String) throws(FSError) -> WorkspaceTree {
        isDraft(taskId) ? WorkspaceTree(entries: []) : try details.workspace(of: taskId)
    }

    func status(of taskId: String) -> TaskStatus { statusAndQuestion(of: taskId).status }

    /// The task's status and, while it waits, what its agent asks.
    func statusAndQuestion(of taskId: String) -> (status: TaskStatus, question: String?) {
        if isDraft(taskId) { return (.draft, nil) }
        return statusAndQuestion(of: taskId, transcript: details.transcriptIfAvailable(of: taskId))
    }

    func statusAndQuestion(of taskId: String, transcript: Transcript?) -> (status: TaskStatus, question: String?) {
        if isDraft(taskId) { return (.draft, nil) }
        if failures.hasFailed(taskId, transcript: transcript) { return (.failed, nil) }
        let status = TaskStatus.derive(transcript, listed: catalog.knownTask(id: taskId)?.status)
        return (status, status == .waiting ? TaskStatus.question(in: transcript) : nil)
    }

    func mountStatus() -> Data {
        GeneratedFiles.mountStatus(server: configuration.serverDescription, mountedAt: mountedAt,
                                   cacheDirectory: configuration.cacheDirectory.root.path,
                                   health: health.current, cache: cache.budget.snapshot, events: events.snapshot, uploads: uploadsStatus(), tasks: activeTasks(),
                                   openHandles: handles.count, inodes: inodes.count, serverCannot: remote.capabilities.missing)
    }
}

