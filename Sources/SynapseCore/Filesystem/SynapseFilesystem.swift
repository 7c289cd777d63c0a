import Foundation
import Logging

/// The mount's logic, free of FUSE and C: each operation takes Swift values and returns a
/// small reply value or throws an `FSError` carrying its errno.
public final class SynapseFilesystem: Sendable {
    public let inodes = InodeTable()
    let handles = HandleTable()
    let catalog: TaskCatalog
    let details: TaskDetails
    let cache: WorkspaceCache
    let health: ServerHealth
    let configuration: FilesystemConfiguration
    let logger: Logger
    private let mountedAt = Date()

    public init(remote: any TaskRemote, configuration: FilesystemConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        let store = ListingStore(cache: configuration.cacheDirectory)
        health = ServerHealth(logger: logger)
        catalog = TaskCatalog(remote: remote, store: store, health: health, ttl: configuration.taskListTTL, logger: logger)
        details = TaskDetails(remote: remote, store: store, health: health,
                              messagesTTL: configuration.taskDetailsTTL, workspaceTTL: configuration.taskDetailsTTL)
        cache = WorkspaceCache(directory: configuration.cacheDirectory, remote: remote, logger: logger)
    }

    public var serverHealth: ServerHealth.Snapshot { health.current }

    // MARK: Names and attributes

    public func lookup(parent: UInt64, name: String) throws(FSError) -> Entry {
        let key = try child(named: name, of: try key(for: parent))
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
        let key = try key(for: ino)
        var entries = [
            DirectoryEntry(name: ".", key: key, attributes: try attributes(of: key, inode: ino)),
            DirectoryEntry(name: "..", key: parentKey(of: key), attributes: directoryAttributes(inodes.inode(for: parentKey(of: key)))),
        ]
        for (name, childKey) in try children(of: key) {
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

    public func open(_ ino: UInt64, writing: Bool, truncating: Bool) throws(FSError) -> OpenedFile {
        let key = try key(for: ino)
        if writing || truncating { throw readOnlyError(key) }
        switch key {
        case .taskFile(let id, let kind):
            let data = try generatedContent(kind, taskId: id)
            return OpenedFile(handle: handles.insert(.generated(data)), directIO: true, keepCache: false)
        case .mountStatus:
            return OpenedFile(handle: handles.insert(.generated(mountStatus())), directIO: true, keepCache: false)
        case .workspace(let id, let path):
            guard let file = try details.workspace(of: id).file(at: path) else {
                throw details.workspaceHasDirectory(id, path) ? .isDirectory(path) : .notFound(path)
            }
            let identity = CachedFileIdentity(taskId: id, remotePath: file.remotePath, size: file.size, mtime: file.mtime)
            let cached = cache.cachedSize(of: identity) != nil
            let reader = cache.openReader(for: identity)
            return OpenedFile(handle: handles.insert(.workspace(reader)),
                              directIO: file.size == nil && !cached, keepCache: cached)
        case .root, .tasks, .meta, .task:
            throw .isDirectory("\(key)")
        }
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
        case .directory:
            throw .isDirectory("handle \(fh)")
        }
    }

    public func release(_ fh: UInt64) {
        handles.remove(fh)
    }

    // MARK: Changes (the mount is read-only in this version)

    public func refuseChange(in parent: UInt64, name: String) -> FSError {
        guard let key = inodes.key(for: parent) else { return .notFound("inode \(parent)") }
        return readOnlyError(key)
    }

    public func refuseChange(of ino: UInt64) -> FSError {
        guard let key = inodes.key(for: ino) else { return .notFound("inode \(ino)") }
        return readOnlyError(key)
    }

    private func readOnlyError(_ key: NodeKey) -> FSError {
        switch key {
        case .workspace: .readOnly("workspace files are the agent's; change them through the task")
        default: .readOnly("this part of the mount is read-only")
        }
    }

    // MARK: The tree

    func key(for ino: UInt64) throws(FSError) -> NodeKey {
        guard let key = inodes.key(for: ino) else { throw .notFound("inode \(ino)") }
        return key
    }

    private func child(named name: String, of parent: NodeKey) throws(FSError) -> NodeKey {
        switch parent {
        case .root:
            switch name {
            case "tasks": return .tasks
            case ".synapsefs": return .meta
            default: throw .notFound(name)
            }
        case .meta:
            guard name == "status.json" else { throw .notFound(name) }
            return .mountStatus
        case .tasks:
            return .task(try catalog.task(inFolder: name).id)
        case .task(let id):
            if name == "workspace" { return .workspace(id, "") }
            guard let kind = TaskFileKind(rawValue: name) else { throw .notFound(name) }
            return .taskFile(id, kind)
        case .workspace(let id, let dir):
            guard try details.workspace(of: id).child(named: name, of: dir) != nil else { throw .notFound(name) }
            return .workspace(id, dir.isEmpty ? name : dir + "/" + name)
        case .taskFile, .mountStatus:
            throw .notDirectory(name)
        }
    }

    private func children(of key: NodeKey) throws(FSError) -> [(String, NodeKey)] {
        switch key {
        case .root:
            return [("tasks", .tasks), (".synapsefs", .meta)]
        case .meta:
            return [("status.json", .mountStatus)]
        case .tasks:
            return try catalog.listing().folders.map { ($0.name, .task($0.task.id)) }
        case .task(let id):
            return TaskFileKind.allCases.map { ($0.rawValue, .taskFile(id, $0)) } + [("workspace", .workspace(id, ""))]
        case .workspace(let id, let dir):
            guard let children = try details.workspace(of: id).children(of: dir) else { throw .notFound(dir) }
            return children.map { ($0.name, .workspace(id, dir.isEmpty ? $0.name : dir + "/" + $0.name)) }
        case .taskFile, .mountStatus:
            throw .notDirectory("\(key)")
        }
    }

    private func parentKey(of key: NodeKey) -> NodeKey {
        switch key {
        case .root, .tasks, .meta: .root
        case .mountStatus: .meta
        case .task: .tasks
        case .taskFile(let id, _): .task(id)
        case .workspace(let id, let path):
            path.isEmpty ? .task(id) : .workspace(id, WorkspaceTree.split(path).dir)
        }
    }

    private func attributes(of key: NodeKey, inode: UInt64) throws(FSError) -> FileAttributes {
        switch key {
        case .root, .tasks, .meta:
            return directoryAttributes(inode)
        case .task(let id):
            let task = catalog.knownTask(id: id)
            return directoryAttributes(inode, modified: task?.updatedAt ?? task?.createdAt)
        case .taskFile(let id, let kind):
            let size = Int64(try generatedContent(kind, taskId: id).count)
            return FileAttributes(inode: inode, kind: .regular, permissions: 0o444, size: size,
                                  modified: catalog.knownTask(id: id)?.updatedAt ?? mountedAt)
        case .mountStatus:
            return FileAttributes(inode: inode, kind: .regular, permissions: 0o444,
                                  size: Int64(mountStatus().count), modified: Date())
        case .workspace(let id, let path):
            let tree = try details.workspace(of: id)
            if tree.isDirectory(path) { return directoryAttributes(inode) }
            guard let file = tree.file(at: path) else { throw .notFound(path) }
            let identity = CachedFileIdentity(taskId: id, remotePath: file.remotePath, size: file.size, mtime: file.mtime)
            let size = file.size ?? cache.cachedSize(of: identity) ?? 0
            return FileAttributes(inode: inode, kind: .regular, permissions: 0o444, size: size,
                                  modified: file.mtime ?? mountedAt)
        }
    }

    private func directoryAttributes(_ inode: UInt64, modified: Date? = nil) -> FileAttributes {
        FileAttributes(inode: inode, kind: .directory, permissions: 0o555, size: 0,
                       modified: modified ?? mountedAt, linkCount: 2)
    }

    private func generatedContent(_ kind: TaskFileKind, taskId: String) throws(FSError) -> Data {
        switch kind {
        case .info:
            guard let task = catalog.knownTask(id: taskId) else { throw .notFound(taskId) }
            let status = TaskStatus.derive(messages: details.messagesIfAvailable(of: taskId), serverStatus: task.serverStatus)
            return GeneratedFiles.info(task: task, folder: SafeName.component(taskId), status: status)
        case .status:
            let status = TaskStatus.derive(messages: details.messagesIfAvailable(of: taskId),
                                           serverStatus: catalog.knownTask(id: taskId)?.serverStatus)
            return GeneratedFiles.status(status)
        case .messages:
            return GeneratedFiles.messages(try details.messages(of: taskId))
        case .streamLog:
            return GeneratedFiles.streamLog(try details.messages(of: taskId))
        }
    }

    private func mountStatus() -> Data {
        GeneratedFiles.mountStatus(server: configuration.serverDescription,
                                   cacheDirectory: configuration.cacheDirectory.root.path,
                                   health: health.current, openHandles: handles.count, inodes: inodes.count)
    }
}

extension TaskDetails {
    func workspaceHasDirectory(_ taskId: String, _ path: String) -> Bool {
        (try? workspace(of: taskId).isDirectory(path)) ?? false
    }
}
