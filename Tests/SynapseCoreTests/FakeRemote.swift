import Foundation
import Logging
import Synchronization
@testable import SynapseCore

/// An in-memory agent server for core tests, with switches for the faults the core handles.
final class FakeRemote: AgentBackend {
    let capabilities: BackendCapabilities

    init(capabilities: BackendCapabilities = BackendCapabilities()) {
        self.capabilities = capabilities
    }
    let feedIdentity: String? = "test-conn"
    let cacheNamespace = "fake"
    /// Every task's workspace is this one when set (as an agent's is shared by its chats).
    let sharedWorkspace = Mutex<String?>(nil)
    func workspaceScope(taskId: String) -> String { sharedWorkspace.withLock { $0 } ?? "task " + taskId }

    struct File {
        var bytes: Data
        var listedSize: Int64?
        var mtime: Date?
        /// The file's ETag; a ranged request whose If-Range differs gets the whole file.
        var version: String?
        /// After its bytes, the body goes on with zeros for ever (a server that does not stop).
        var endless = false
    }

    struct State {
        var tasks: [TaskSummary] = []
        var messages: [String: [TaskMessage]] = [:]
        var workspaces: [String: [String: File]] = [:]
        /// Thrown by every call while set.
        var failure: RemoteError?
        /// The next download breaks after this many bytes.
        var truncateNextDownloadAt: Int64?
        /// Downloads sleep this long per chunk (to make readers overlap).
        var chunkDelay: Double = 0
        /// Answers ranged requests with the whole file, as servers without Range support do.
        var ignoresRange = false
        var downloads = 0
        var downloadedPaths: [String] = []
        var downloadedBytes: Int64 = 0
        /// The If-Range of every download, in order.
        var ifRanges: [String?] = []
        /// The task list only: thrown while set, answered after this delay, with this page count.
        var listFailure: RemoteError?
        var listDelay: Double = 0
        var claimedTotalPages: Int?
        /// Every page is full of new tasks, however far one reads.
        var endlessPages = false
        var listCalls = 0
        var infoCalls = 0
        var transcriptCalls = 0
        /// Every transcript takes this long (to make readers overlap).
        var transcriptDelay: Double = 0
        /// Every message sent, in order.
        var sent: [OutgoingMessage] = []
        /// Every upload: destination, task, name and bytes.
        var uploads: [(UploadDestination, String, String, Data)] = []
        var deleted: [String] = []
        /// The next N sends / uploads fail with a server error.
        var failSends = 0
        /// How many uploads arrived as a stream while their file was being written.
        var streamedUploads = 0
        /// The next streamed upload times out at once (a writer that paused too long).
        var timeOutStreamsAtOnce = false
        var failUploads = 0
        /// The server gives each new task an id of its own (`srv-1`, …), as Asyncat does.
        var assignsIds = false
        /// Uploads are stored apart and named in the next prompt (as Sage's `oss/upload`).
        var uploadsAttach = false
        var attachmentsSent: [[String]] = []
        var assignedIds = 0
        /// Pages by cursor, with no counts (as Sage and Asyncat page).
        var cursorPages = false
        /// A cursor that always leads back to the first page (a broken server).
        var repeatingCursor = false
        var positionsAsked: [PagePosition?] = []
        /// The next upload throws this.
        var nextUploadError: RemoteError?
        /// Every upload takes this long (to make two overlap).
        var uploadDelay: Double = 0
        /// Events waiting for the open stream; `streamGeneration` bumps to drop it.
        var pendingEvents: [ServerEvent] = []
        var streamGeneration = 0
        var streamsOpened = 0
        /// Agents and orchestrations, where the capabilities say the server has them.
        var agents: [AgentSummary] = []
        var orchestrations: [OrchestrationSummary] = []
        /// Every prompt as the backend received it.
        var prompts: [Prompt] = []
    }

    let state = Mutex(State())

    func addTask(_ id: String, name: String? = nil, messages: [TaskMessage] = [], files: [String: File] = [:]) {
        state.withLock { s in
            s.tasks.append(TaskSummary(id: id, name: name ?? "task \(id)", serverStatus: "completed", status: .completed,
                                       createdAt: Date(timeIntervalSince1970: 1_700_000_000), updatedAt: nil))
            s.messages[id] = messages
            s.workspaces[id] = files
        }
    }

    func setFailure(_ failure: RemoteError?) { state.withLock { $0.failure = failure } }

    func listAgents() throws(RemoteError) -> [AgentSummary] {
        try check()
        return state.withLock { $0.agents }
    }

    func listOrchestrations() throws(RemoteError) -> [OrchestrationSummary] {
        try check()
        return state.withLock { $0.orchestrations }
    }

    private func check() throws(RemoteError) {
        if let failure = state.withLock({ $0.failure }) { throw failure }
    }

    func listTasks(from position: PagePosition?, pageSize: Int) throws(RemoteError) -> TaskPage {
        try check()
        let (failure, delay) = state.withLock { s in
            s.listCalls += 1
            return (s.listFailure, s.listDelay)
        }
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        if let failure { throw failure }
        return state.withLock { s in
            s.positionsAsked.append(position)
            if s.cursorPages {
                // Cursors name the last task of the page before; no counts.
                var start = 0
                if case .cursor(let after)? = position {
                    start = s.repeatingCursor ? 0 : (s.tasks.firstIndex { $0.id == after }.map { $0 + 1 } ?? s.tasks.count)
                }
                let items = Array(s.tasks[start..<min(start + pageSize, s.tasks.count)])
                return TaskPage(items: items, next: items.count < pageSize ? nil : .cursor(items.last!.id))
            }
            let page: Int = if case .number(let n)? = position { n } else { 1 }
            if s.endlessPages {
                let items = (0..<pageSize).map { TaskSummary(id: "p\(page)-\($0)", name: "t", serverStatus: "completed", status: .completed) }
                return TaskPage(items: items, next: .number(page + 1), totalItems: Int.max, totalPages: Int.max)
            }
            let start = min((page - 1) * pageSize, s.tasks.count)
            let items = Array(s.tasks[start..<min(start + pageSize, s.tasks.count)])
            let totalPages = s.claimedTotalPages ?? (s.tasks.count + pageSize - 1) / pageSize
            return TaskPage(items: items, next: page < totalPages ? .number(page + 1) : nil, totalItems: s.tasks.count, totalPages: totalPages)
        }
    }

    func taskInfo(id: String) throws(RemoteError) -> TaskSummary {
        try check()
        let task = state.withLock { s in
            s.infoCalls += 1
            return s.tasks.first { $0.id == id }
        }
        guard let task else { throw .notFound("task \(id)") }
        return task
    }

    func transcript(taskId: String) throws(RemoteError) -> Transcript {
        try check()
        let delay = state.withLock { s in
            s.transcriptCalls += 1
            return s.transcriptDelay
        }
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        guard let messages = state.withLock({ $0.messages[taskId] }) else { throw .notFound("task \(taskId)") }
        return Transcript(messages)
    }

    func workspace(taskId: String) throws(RemoteError) -> [WorkspaceEntry] {
        try check()
        guard let files = state.withLock({ $0.workspaces[taskId] }) else { throw .notFound("task \(taskId)") }
        return files.map { WorkspaceEntry(path: $0.key, size: $0.value.listedSize, mtime: $0.value.mtime) }
    }

    func download(taskId: String, path: String, offset: Int64, length: Int64?, ifRange: String?,
                  into sink: (DownloadChunk) -> Bool) throws(RemoteError) -> DownloadResult {
        try check()
        let (file, cut, delay, ignoresRange) = state.withLock { s in
            s.downloads += 1
            s.downloadedPaths.append(path)
            s.ifRanges.append(ifRange)
            defer { s.truncateNextDownloadAt = nil }
            return (s.workspaces[taskId]?[path], s.truncateNextDownloadAt, s.chunkDelay, s.ignoresRange)
        }
        guard let file else { throw .notFound(path) }
        // If-Range naming another version: the whole (current) file instead of the range.
        let honoursRange = !ignoresRange && (ifRange == nil || ifRange == file.version)
        if file.endless {
            let zeros = Data(count: 64 << 10)
            var sent = file.bytes.count
            _ = file.bytes.withUnsafeBytes { sink(DownloadChunk(offset: 0, bytes: $0, fileSize: nil, validator: file.version)) }
            while zeros.withUnsafeBytes({ sink(DownloadChunk(offset: Int64(sent), bytes: $0, fileSize: nil, validator: file.version)) }) {
                state.withLock { $0.downloadedBytes += Int64(zeros.count) }
                sent += zeros.count
                if delay > 0 { Thread.sleep(forTimeInterval: delay) }
            }
            throw .unreachable("aborted")
        }
        let start = honoursRange ? Int(offset) : 0
        let whole = honoursRange ? min(file.bytes.count, length.map { start + Int($0) } ?? file.bytes.count) : file.bytes.count
        let end = cut.map { min(whole, start + Int($0)) } ?? whole
        var sent = start
        while sent < end {
            let n = min(64 << 10, end - sent)
            if delay > 0 { Thread.sleep(forTimeInterval: delay) }
            let keepGoing = file.bytes[sent..<(sent + n)].withUnsafeBytes {
                sink(DownloadChunk(offset: Int64(sent), bytes: $0, fileSize: Int64(file.bytes.count), validator: file.version))
            }
            guard keepGoing else { throw .unreachable("aborted") }
            state.withLock { $0.downloadedBytes += Int64(n) }
            sent += n
        }
        if sent < whole { throw .unreachable("connection reset after \(sent - start) bytes") }
        return DownloadResult(bytesWritten: Int64(sent - start), totalSize: length == nil || !honoursRange ? Int64(file.bytes.count) : nil)
    }
}

extension FakeRemote {
    @discardableResult
    func send(_ prompt: Prompt) throws(RemoteError) -> SentPrompt {
        // A server that chooses ids (as Asyncat does) gives the first prompt's task its own.
        let assigned: String? = prompt.startsTask ? state.withLock { s in
            guard s.assignsIds else { return nil }
            s.assignedIds += 1
            return "srv-\(s.assignedIds)"
        } : nil
        let taskId = assigned ?? prompt.taskId
        state.withLock { $0.prompts.append(prompt) }
        try record(prompt.startsTask ? .newTask(taskId: taskId, text: prompt.text, connId: "test-conn")
                                     : .answer(taskId: taskId, text: prompt.text, connId: "test-conn"))
        if !prompt.attachments.isEmpty { state.withLock { $0.attachmentsSent.append(prompt.attachments) } }
        return SentPrompt(serverTaskId: assigned)
    }

    func control(_ command: TaskControl, taskId: String) throws(RemoteError) {
        switch command {
        case .cancel: try record(.cancel(taskId: taskId))
        case .delete: try deleteTask(id: taskId)
        case .allow, .deny: throw .refused("the fake asks no permission")
        }
    }

    func upload(_ body: UploadBody, as name: String, taskId: String, answering question: PendingQuestion?) throws(RemoteError) -> UploadOutcome {
        let answer = try upload(body, as: name, to: question?.question.wantsFile == true ? .sandbox : .workspace, taskId: taskId)
        if state.withLock({ $0.uploadsAttach }) { return .attachedToNextPrompt("oss://\(name)") }
        guard question?.question.wantsFile == true else { return .stored(answer) }
        try record(.answer(taskId: taskId, text: answer, connId: "test-conn"))
        return .answeredAgent(answer)
    }

    private func record(_ message: OutgoingMessage) throws(RemoteError) {
        try check()
        let failure: RemoteError? = state.withLock { s in
            if s.failSends > 0 { s.failSends -= 1; return .server(status: 500, message: "injected") }
            s.sent.append(message)
            switch message {
            case .newTask(let id, let text, _):
                if !s.tasks.contains(where: { $0.id == id }) {
                    // A run of an orchestration stays one when the server lists it.
                    let orchestration = s.prompts.last { $0.startsTask && $0.text == text }?.orchestration
                    s.tasks.append(TaskSummary(id: id, name: String(text.prefix(60)), serverStatus: "running", orchestration: orchestration))
                    s.workspaces[id, default: [:]] = s.workspaces[id] ?? [:]
                }
                s.messages[id, default: []].append(TaskMessage(ts: Int64(s.sent.count), type: "say", say: "task", text: text))
            case .answer(let id, let text, _):
                s.messages[id, default: []].append(TaskMessage(ts: Int64(s.sent.count), type: "say", say: "user_feedback", text: text))
            case .cancel(let id):
                if let i = s.tasks.firstIndex(where: { $0.id == id }) {
                    s.tasks[i].serverStatus = "cancelled"
                    s.tasks[i].status = .cancelled
                }
            }
            return nil
        }
        if let failure { throw failure }
    }

    private func upload(_ body: UploadBody, as name: String, to destination: UploadDestination, taskId: String) throws(RemoteError) -> String {
        try check()
        let delay = state.withLock { $0.uploadDelay }
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        let data: Data
        switch body {
        case .file(let file):
            guard let bytes = try? Data(contentsOf: file) else { throw .malformed("cannot read \(file.path)") }
            data = bytes
        case .stream(let stream):
            let timeOut = state.withLock { s in
                s.streamedUploads += 1
                defer { s.timeOutStreamsAtOnce = false }
                return s.timeOutStreamsAtOnce
            }
            if timeOut { throw .timedOut("no bytes for 30 s") }
            var collected = Data()
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 8)
            defer { buffer.deallocate() }
            while true {
                guard let n = stream.read(into: buffer) else { throw .unreachable("upload abandoned by the client") }
                if n == 0 { break }
                collected.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            }
            data = collected
        }
        let failure: RemoteError? = state.withLock { s in
            if let error = s.nextUploadError { s.nextUploadError = nil; return error }
            if s.failUploads > 0 { s.failUploads -= 1; return .server(status: 500, message: "injected") }
            s.uploads.append((destination, taskId, name, data))
            let path = destination == .workspace ? "upload_documents/\(name)" : name
            s.workspaces[taskId, default: [:]][path] = File(bytes: data, listedSize: Int64(data.count))
            return nil
        }
        if let failure { throw failure }
        return "{\"filename\":\"\(name)\",\"size\":\(data.count)}"
    }

    private func deleteTask(id: String) throws(RemoteError) {
        try check()
        state.withLock { s in
            s.deleted.append(id)
            s.tasks.removeAll { $0.id == id }
        }
    }

    /// Delivers pushed events until `dropStream()` or a failure is set.
    func followFeed(onEvent: (FeedEvent) -> Bool) throws(RemoteError) {
        try check()
        let generation = state.withLock { s in
            s.streamsOpened += 1
            return s.streamGeneration
        }
        while true {
            let (events, open) = state.withLock { s in
                defer { s.pendingEvents.removeAll() }
                return (s.pendingEvents, s.streamGeneration == generation && s.failure == nil)
            }
            guard events.compactMap(\.feedEvent).allSatisfy(onEvent), open else { return }
            // As the real transport does: a cancelled operation (the feed stopped) ends it.
            if Cancellation.current?.isCancelled == true { throw .interrupted("feed stopped") }
            Thread.sleep(forTimeInterval: 0.005)
        }
    }

    func push(_ event: ServerEvent) { state.withLock { $0.pendingEvents.append(event) } }
    func dropStream() { state.withLock { $0.streamGeneration += 1 } }
}

/// A filesystem over a fake remote, with a fresh cache directory.
struct Fixture {
    let remote: FakeRemote
    let fs: SynapseFilesystem
    let cacheRoot: URL

    init(remote: FakeRemote = FakeRemote(), cacheRoot: URL? = nil, ttl: Double = 10, allowDelete: Bool = false,
         cacheLimit: Int64 = 10 << 30, operationTimeLimit: Double = 30, taskChanged: (@Sendable (TaskChange) -> Void)? = nil,
         logger: Logger = Logger(label: "test")) throws {
        self.remote = remote
        let root = cacheRoot ?? FileManager.default.temporaryDirectory.appendingPathComponent("synapsefs-core-\(UUID().uuidString)")
        self.cacheRoot = root
        var configuration = FilesystemConfiguration(serverDescription: "fake", cacheDirectory: try CacheDirectory(root: root))
        configuration.taskListTTL = ttl
        configuration.taskDetailsTTL = ttl
        configuration.allowDelete = allowDelete
        configuration.cacheLimit = cacheLimit
        configuration.freeSpaceFloor = 0
        configuration.operationTimeLimit = operationTimeLimit
        configuration.taskChanged = taskChanged
        fs = SynapseFilesystem(remote: remote, configuration: configuration, logger: logger)
    }

    /// Resolves a path below the mount root, as the kernel would, one lookup per component.
    func resolve(_ path: String) throws(FSError) -> UInt64 {
        var ino = InodeTable.rootInode
        for part in path.split(separator: "/") {
            ino = try fs.lookup(parent: ino, name: String(part)).inode
        }
        return ino
    }

    /// The name of a workspace file's cache item (`objects/<key>.data`, `.json`).
    func cacheKey(_ taskId: String, _ path: String) -> String {
        CachedFileIdentity(scope: fs.workspaceScope(of: taskId), taskId: taskId, remotePath: path, size: nil, mtime: nil).key
    }

    /// The task folders in tasks/ (without `by-name/`).
    func taskFolders() throws(FSError) -> [String] { try list("tasks").filter { $0 != TaskCatalog.byNameFolder } }

    func list(_ path: String) throws(FSError) -> [String] {
        let fh = try fs.opendir(try resolve(path))
        defer { fs.releasedir(fh) }
        return try fs.readdir(fh, from: 0).map(\.name).filter { $0 != "." && $0 != ".." }
    }

    /// Opens, reads to the end and closes, as `cat` does; then waits for read-ahead to settle.
    func readAll(_ path: String, chunk: Int = 100_000) throws(FSError) -> Data {
        defer { settle() }
        let opened = try fs.open(try resolve(path), writing: false, truncating: false)
        defer { fs.release(opened.handle) }
        return try read(opened.handle, chunk: chunk)
    }

    /// Waits (up to 10 s) until no download is under way and their records are written.
    func settle() {
        let deadline = Date().addingTimeInterval(10)
        while fs.cache.isFetching, Date() < deadline { Thread.sleep(forTimeInterval: 0.002) }
        fs.cache.waitForRecords()
    }

    /// Writes `content` to an existing file as `echo > file` does (open with O_TRUNC, write,
    /// close) and returns what close() returned.
    func write(_ content: Data, to path: String) throws(FSError) {
        let opened = try fs.open(try resolve(path), writing: true, truncating: true)
        defer { fs.release(opened.handle) }
        if !content.isEmpty {
            _ = try fs.write(opened.handle, at: 0, data: content)
        }
        try fs.flush(opened.handle)
    }

    func text(_ path: String) throws(FSError) -> String { String(decoding: try readAll(path), as: UTF8.self) }

    func read(_ fh: UInt64, chunk: Int = 100_000) throws(FSError) -> Data {
        var out = Data()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            let n = try fs.read(fh, at: Int64(out.count), into: buffer)
            if n == 0 { return out }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }
}

/// `count` pseudo-random bytes, the same for the same seed, with no short period (so a
/// misplaced range cannot compare equal).
func bytes(_ count: Int, seed: UInt8 = 1) -> Data {
    var data = Data(count: count)
    var state = UInt64(seed) &+ 0x9E37_79B9_7F4A_7C15
    data.withUnsafeMutableBytes { (raw: UnsafeMutableRawBufferPointer) in
        for i in 0..<count {
            if i % 4 == 0 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            }
            raw[i] = UInt8(truncatingIfNeeded: state >> (32 + 8 * UInt64(i % 4)))
        }
    }
    return data
}

extension SynapseFilesystem {
    /// Reads `size` bytes at `offset` into a fresh `Data`.
    func read(_ fh: UInt64, at offset: Int64, size: Int) throws(FSError) -> Data {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 8)
        defer { buffer.deallocate() }
        let n = try read(fh, at: offset, into: buffer)
        return Data(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
    }

    /// `write` for a `Data` (whose `withUnsafeBytes` throws untyped errors).
    func write(_ fh: UInt64, at offset: Int64, data: Data) throws(FSError) -> Int {
        var result: Result<Int, FSError> = .success(0)
        data.withUnsafeBytes { bytes in
            result = Result { () throws(FSError) -> Int in try write(fh, at: offset, bytes) }
        }
        return try result.get()
    }
}
