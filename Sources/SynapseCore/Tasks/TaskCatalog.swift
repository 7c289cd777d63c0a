import Foundation
import Logging
import Synchronization

/// The account's tasks as folders: the full task list (all pages), each task's safe, unique
/// folder name, and tasks found by looking up an id the list did not show.
public final class TaskCatalog: Sendable {
    public static let pageSize = 100
    /// Pages fetched at once after the first one told how many there are.
    static let parallelPages = 4

    public struct Listing: Sendable {
        /// Folder name → task, in folder-name order.
        public var folders: [(name: String, task: TaskSummary)]
        var taskByFolder: [String: TaskSummary]
        var folderByID: [String: String]

        /// Local folder names (drafts, tasks made here) are placed first; every other task is
        /// named by its id. Drafts the server does not know yet are included.
        init(tasks: [TaskSummary], local: [LocalTasks.Record] = []) {
            var byFolder: [String: TaskSummary] = [:]
            var byID: [String: String] = [:]
            var taken = Set<String>()
            let serverByID = Dictionary(tasks.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            for record in local.sorted(by: { ($0.createdAt, $0.taskId) < ($1.createdAt, $1.taskId) }) {
                let task = serverByID[record.taskId]
                    ?? TaskSummary(id: record.taskId, name: record.folder, serverStatus: nil, createdAt: record.createdAt)
                let name = SafeName.unique(record.folder, in: taken)
                taken.insert(name)
                byFolder[name] = task
                byID[task.id] = name
            }
            for task in tasks.sorted(by: { $0.id < $1.id }) where byID[task.id] == nil {
                let name = SafeName.unique(SafeName.component(task.id), in: taken)
                taken.insert(name)
                byFolder[name] = task
                byID[task.id] = name
            }
            taskByFolder = byFolder
            folderByID = byID
            folders = byFolder.sorted { $0.key < $1.key }.map { (name: $0.key, task: $0.value) }
        }
    }

    private let remote: any TaskRemote
    private let store: ListingStore
    let local: LocalTasks
    private let health: ServerHealth
    private let ttl: Double
    private let logger: Logger
    private struct State {
        var listing: Listing?
        /// The server's tasks as last fetched (or loaded), to rebuild the listing when local state changes.
        var serverTasks: [TaskSummary] = []
        var fetchedAt: Date?
        /// Tasks found by id lookup, kept until the list shows them.
        var extra: [String: TaskSummary] = [:]
    }
    private let state = Mutex(State())
    // Serialises refreshes so concurrent `ls` calls share one fetch.
    private let refreshing = Mutex(())

    public init(remote: any TaskRemote, store: ListingStore, local: LocalTasks, health: ServerHealth, ttl: Double, logger: Logger) {
        self.remote = remote
        self.store = store
        self.local = local
        self.health = health
        self.ttl = ttl
        self.logger = logger
    }

    /// The current listing, refreshed from the server when older than the TTL. When the
    /// server cannot list, the last listing (also from a previous mount) is served.
    public func listing() throws(FSError) -> Listing {
        if let fresh = freshListing() { return fresh }
        return try refreshing.withLock { _ throws(FSError) -> Listing in
            if let fresh = freshListing() { return fresh }
            do throws(RemoteError) {
                let tasks = try fetchAllTasks()
                health.recordSuccess()
                store.saveTasks(tasks)
                return install(tasks)
            } catch {
                health.record(error)
                if let last = state.withLock({ $0.listing }) { return last }
                if error.isConnectivity { return install(store.loadTasks() ?? [], fresh: false) }
                throw error.fsError
            }
        }
    }

    /// The task whose folder is `name`; an id the list does not show is asked of the server.
    public func task(inFolder name: String) throws(FSError) -> TaskSummary {
        if let task = try listing().taskByFolder[name] { return task }
        if let known = state.withLock({ $0.extra[name] }) { return known }
        guard SafeName.component(name) == name else { throw .notFound(name) }
        do {
            let task = try remote.taskInfo(id: name)
            guard task.id == name else { throw FSError.notFound(name) }
            state.withLock { $0.extra[name] = task }
            return task
        } catch let error as RemoteError {
            health.record(error)
            throw error.fsError
        } catch let error as FSError {
            throw error
        } catch {
            throw .io("\(error)")
        }
    }

    /// The task with this id if the mount knows it, without asking the server.
    public func knownTask(id: String) -> TaskSummary? {
        state.withLock { s in
            s.listing?.folderByID[id].flatMap { s.listing?.taskByFolder[$0] } ?? s.extra[id]
        }
    }

    public func invalidate() {
        state.withLock { $0.fetchedAt = nil }
    }

    private func freshListing() -> Listing? {
        state.withLock { s in
            guard let at = s.fetchedAt, Date().timeIntervalSince(at) < ttl else { return nil }
            return s.listing
        }
    }

    /// Rebuilds the listing after a local change (a draft made, a task deleted), without a fetch.
    public func localTasksChanged() {
        state.withLock { s in
            guard s.listing != nil else { return }
            s.listing = Listing(tasks: s.serverTasks, local: local.all)
        }
    }

    /// Creates a draft folder `name` in tasks/.
    public func createDraft(named name: String) throws(FSError) -> TaskSummary {
        guard SafeName.component(name) == name, !name.hasPrefix(".") else {
            throw FSError(errno: EINVAL, "a task folder name must be a plain name (no control characters, not hidden): \(name)")
        }
        guard try listing().taskByFolder[name] == nil else { throw FSError(errno: EEXIST, "task folder \(name) exists") }
        let record = local.createDraft(folder: name)
        localTasksChanged()
        return TaskSummary(id: record.taskId, name: name, createdAt: record.createdAt)
    }

    private func install(_ tasks: [TaskSummary], fresh: Bool = true) -> Listing {
        let listing = Listing(tasks: tasks, local: local.all)
        state.withLock { s in
            s.listing = listing
            s.serverTasks = tasks
            s.fetchedAt = fresh ? Date() : nil
            s.extra = s.extra.filter { listing.folderByID[$0.key] == nil }
        }
        return listing
    }

    /// Page 1 tells how many pages there are; the rest are fetched a few at a time.
    private func fetchAllTasks() throws(RemoteError) -> [TaskSummary] {
        let first = try remote.listTasks(page: 1, pageSize: Self.pageSize)
        guard first.totalPages > 1 else { return first.items }
        let pages = Array(2...first.totalPages)
        let results = Mutex<[Int: Result<TaskPage, RemoteError>]>([:])
        let next = Atomic<Int>(0)
        let remote = self.remote
        DispatchQueue.concurrentPerform(iterations: min(Self.parallelPages, pages.count)) { _ in
            while true {
                let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard i < pages.count else { return }
                let result = Result { () throws(RemoteError) -> TaskPage in
                    try remote.listTasks(page: pages[i], pageSize: Self.pageSize)
                }
                results.withLock { $0[pages[i]] = result }
            }
        }
        var tasks = first.items
        for page in pages {
            tasks += try results.withLock { $0[page]! }.get().items
        }
        return tasks
    }
}
