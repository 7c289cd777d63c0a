import Foundation
import Logging
import Synchronization

/// The account's tasks as folders: the full task list (all pages), each task's safe, unique
/// folder name, and tasks found by looking up an id the list did not show.
///
/// The list is refreshed by one background fetch at a time; callers never hold a lock across
/// it. A listing older than the TTL is served while its refresh runs (a listing call waits for
/// the refresh at most `staleWait`, a lookup of a known name not at all), and after a failed
/// refresh the next one waits out a backoff, so a slow or failing server never blocks the
/// tasks the mount already knows.
public final class TaskCatalog: Sendable {
    public static let pageSize = 100
    /// Pages fetched at once.
    static let parallelPages = 4
    /// The most pages read, whatever the server says there are (100,000 tasks).
    public static let maxPages = 1000
    /// How long a listing call waits for a running refresh before serving what it has.
    static let staleWait = 2.0
    static let firstRetry = 1.0
    static let maxRetry = 60.0

    /// The folder of `tasks/` holding a link per task named for humans; no task folder takes it.
    public static let byNameFolder = "by-name"

    public struct Listing: Sendable {
        /// Folder name → task, in folder-name order (the tasks of `tasks/`).
        public var folders: [(name: String, task: TaskSummary)]
        var taskByFolder: [String: TaskSummary]
        /// Every task's folder name (in `tasks/`, or in its orchestration's `runs/`).
        var folderByID: [String: String]
        /// `by-name/` entries: a safe, unique name made from each task's name → its folder.
        var folderByName: [String: String]
        var names: [String]
        /// An orchestration's runs (`orchestrations/ORCH/runs/`): folder name → run, by orchestration id.
        var runs: [String: [String: TaskSummary]]

        /// Local folder names (drafts, tasks made here) are placed first; every other task is
        /// named by its id. Drafts the server does not know yet are included. Runs of an
        /// orchestration are named apart, in their own folder.
        init(tasks: [TaskSummary], local: [LocalTasks.Record] = []) {
            var byID: [String: String] = [:]
            let serverByID = Dictionary(tasks.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            // A task made here is named as its folder was; others by the server's name.
            var humanName: [String: String] = [:]
            // tasks/, then each orchestration's runs/: names are unique within their folder.
            var taskNames = UniqueNames(reserved: [TaskCatalog.byNameFolder])
            var byFolder: [String: TaskSummary] = [:]
            var runNames: [String: UniqueNames] = [:]
            var runs: [String: [String: TaskSummary]] = [:]
            func place(_ task: TaskSummary, as wanted: String) -> String {
                let name: String
                if let orchestration = task.orchestration {
                    name = runNames[orchestration, default: UniqueNames()].claim(wanted)
                    runs[orchestration, default: [:]][name] = task
                } else {
                    name = taskNames.claim(wanted)
                    byFolder[name] = task
                }
                byID[task.id] = name
                return name
            }
            for record in local.sorted(by: { ($0.createdAt, $0.taskId) < ($1.createdAt, $1.taskId) }) {
                var task = serverByID[record.taskId]
                    ?? TaskSummary(id: record.taskId, name: record.folder, serverStatus: nil, createdAt: record.createdAt)
                // A run made here stays in its orchestration's runs/, whatever the server's list says.
                task.orchestration = record.orchestration ?? task.orchestration
                let name = place(task, as: record.folder)
                if task.orchestration == nil { humanName[name] = record.folder }
            }
            for task in tasks.sorted(by: { $0.id < $1.id }) where byID[task.id] == nil {
                _ = place(task, as: SafeName.component(task.id))
            }
            taskByFolder = byFolder
            folderByID = byID
            folders = byFolder.sorted { $0.key < $1.key }.map { (name: $0.key, task: $0.value) }
            self.runs = runs
            // Older tasks keep their plain name; a newer one with the same name gets a suffix.
            var byName: [String: String] = [:]
            var linkNames = UniqueNames()
            let ordered = folders.sorted { ($0.task.createdAt ?? .distantPast, $0.name) < ($1.task.createdAt ?? .distantPast, $1.name) }
            for (folder, task) in ordered {
                byName[linkNames.claim(SafeName.component(humanName[folder] ?? (task.name.isEmpty ? folder : task.name)))] = folder
            }
            folderByName = byName
            names = byName.keys.sorted()
        }

        /// The runs of `orchestration`, in folder-name order.
        func runs(of orchestration: String) -> [(name: String, task: TaskSummary)] {
            (runs[orchestration] ?? [:]).sorted { $0.key < $1.key }.map { (name: $0.key, task: $0.value) }
        }
    }

    private let remote: any AgentBackend
    private let store: ListingStore
    let local: LocalTasks
    private let health: ServerHealth
    private let ttl: Double
    /// How long the very first listing is waited for (the operation time limit).
    private let firstListingWait: Double
    private let logger: Logger
    /// Told the tasks a refresh found changed (a new `updated_at` or status).
    private let tasksChanged: @Sendable ([String]) -> Void
    private struct State {
        var listing: Listing?
        /// The server's tasks as last fetched (or loaded), to rebuild the listing when local state changes.
        var serverTasks: [TaskSummary] = []
        var fetchedAt: Date?
        /// Tasks found by id lookup, kept until the list shows them.
        var extra: [String: TaskSummary] = [:]
        var refreshRunning = false
        /// Bumped when a refresh ends, so waiters know theirs is done.
        var refreshesEnded = 0
        var lastError: RemoteError?
        var failures = 0
        var retryAt: Date?
    }
    // Lock order: `changed`'s lock, then `state`. Neither is held across a request.
    private let state = Mutex(State())
    /// Signalled when a refresh ends.
    private let changed = NSCondition()

    public init(remote: any AgentBackend, store: ListingStore, local: LocalTasks, health: ServerHealth, ttl: Double,
                firstListingWait: Double = 30, logger: Logger, tasksChanged: @escaping @Sendable ([String]) -> Void = { _ in }) {
        self.firstListingWait = firstListingWait
        self.tasksChanged = tasksChanged
        self.remote = remote
        self.store = store
        self.local = local
        self.health = health
        self.ttl = ttl
        self.logger = logger
    }

    /// The current listing: refreshed from the server when older than the TTL, waiting for that
    /// refresh at most `staleWait`. When the server cannot list, the last listing (also from a
    /// previous mount) and the mount's own tasks are served; only a rejected key with nothing
    /// to show fails.
    public func listing() throws(FSError) -> Listing {
        if let fresh = freshListing() { return fresh }
        let ticket = startRefreshIfDue()
        // With nothing to show yet (the first listing ever), the fetch is worth waiting for,
        // up to the operation time limit; otherwise the stale listing is served soon.
        let saved = state.withLock { $0.listing == nil } ? store.loadTasks() : nil
        let nothingYet = state.withLock { $0.listing == nil } && saved == nil
        waitForRefresh(after: ticket, until: Date().addingTimeInterval(nothingYet ? firstListingWait : Self.staleWait))
        try Cancellation.check()
        let (current, error) = state.withLock { ($0.listing, $0.lastError) }
        if let current { return current }
        if case .rejectedKey = error { throw error!.fsError }
        // Nothing fetched yet: what the last mount saw and this mount made, until the fetch lands.
        return installIfEmpty(saved ?? [])
    }

    /// Starts a background refresh unless one runs or a failure's backoff is not over; returns
    /// the count of refreshes ended so far, to wait for the next one.
    @discardableResult
    private func startRefreshIfDue() -> Int {
        let (start, ticket) = state.withLock { s -> (Bool, Int) in
            let due = s.retryAt.map { Date() >= $0 } ?? true
            guard !s.refreshRunning, due else { return (false, s.refreshesEnded) }
            s.refreshRunning = true
            return (true, s.refreshesEnded)
        }
        if start {
            let thread = Thread { [self] in refresh() }
            thread.name = "task-list"
            thread.start()
        }
        return ticket
    }

    /// Waits until a refresh that ends after `ticket` has ended, or `deadline`, or at once when
    /// none is running, or the operation is cancelled.
    private func waitForRefresh(after ticket: Int, until deadline: Date) {
        let cancellation = Cancellation.current
        changed.lock()
        defer { changed.unlock() }
        while state.withLock({ $0.refreshRunning && $0.refreshesEnded == ticket }) {
            let now = Date()
            guard now < deadline, cancellation?.isCancelled != true else { return }
            _ = changed.wait(until: min(deadline, now.addingTimeInterval(0.1)))
        }
    }

    private func refresh() {
        let outcome = Result { () throws(RemoteError) -> [TaskSummary] in try fetchAllTasks() }
        switch outcome {
        case .success(let tasks):
            health.recordSuccess()
            health.listingRecovered()
            store.saveTasks(tasks)
            install(tasks)
            // Decoding a long list leaves megabytes freed in the fetch threads' malloc arenas:
            // they go back to the system, or the daemon's RSS would keep the peak.
            if tasks.count >= 10_000 { _ = malloc_trim(0) }
        case .failure(let error):
            health.record(error)
            health.listingFailed(error)
            // ServerHealth logs what changed (unreachable, a rejected key, an unreadable list): once.
            logger.debug("task list refresh failed", metadata: ["error": "\(error)"])
        }
        changed.lock()
        state.withLock { s in
            s.refreshRunning = false
            s.refreshesEnded += 1
            switch outcome {
            case .success:
                s.lastError = nil
                s.failures = 0
                s.retryAt = nil
            case .failure(let error):
                s.lastError = error
                s.failures += 1
                s.retryAt = Date().addingTimeInterval(min(Self.maxRetry, Self.firstRetry * pow(2, Double(s.failures - 1))))
            }
        }
        changed.broadcast()
        changed.unlock()
    }

    /// The task whose folder is `name`; an id the list does not show is asked of the server.
    /// A name the current listing has is answered at once, stale or not (its refresh starts).
    public func task(inFolder name: String) throws(FSError) -> TaskSummary {
        if let known = state.withLock({ $0.listing?.taskByFolder[name] }) {
            if freshListing() == nil { startRefreshIfDue() }
            return known
        }
        if let task = try listing().taskByFolder[name] { return task }
        if let known = state.withLock({ $0.extra[name] }) { return known }
        guard SafeName.component(name) == name else { throw .notFound(name) }
        do {
            let task = try remote.taskInfo(id: name)
            // A run's folder is in its orchestration's runs/, never in tasks/.
            guard task.id == name, task.orchestration == nil else { throw FSError.notFound(name) }
            state.withLock { $0.extra[name] = task }
            return task
        } catch let error as RemoteError {
            health.record(error)
            throw error.fsError
        } catch let error as FSError {
            throw error
        } catch {
            throw .server("\(error)")
        }
    }

    /// The folder a `by-name/` link names.
    public func folder(named name: String) throws(FSError) -> String {
        guard let folder = try listing().folderByName[name] else { throw .notFound(name) }
        return folder
    }

    /// The folder of task `id` in the current listing, without waiting for a refresh.
    public func knownFolder(of id: String) -> String? { state.withLock { $0.listing?.folderByID[id] } }

    /// The task with this id if the mount knows it, without asking the server.
    public func knownTask(id: String) -> TaskSummary? {
        state.withLock { s in
            guard let listing = s.listing, let folder = listing.folderByID[id] else { return s.extra[id] }
            if let task = listing.taskByFolder[folder], task.id == id { return task }
            return listing.runs.values.lazy.compactMap { $0[folder] }.first { $0.id == id } ?? s.extra[id]
        }
    }

    /// The run of `orchestration` whose folder is `name`.
    public func run(inFolder name: String, of orchestration: String) throws(FSError) -> TaskSummary {
        guard let run = try listing().runs[orchestration]?[name] else { throw .notFound(name) }
        return run
    }

    /// The list is fetched again at its next use, unless a failure's backoff runs (an event
    /// named a task the list lacks: a hostile stream must not defeat the backoff).
    public func markStale() {
        state.withLock { $0.fetchedAt = nil }
    }

    /// The list is fetched again at its next use, even in a failure's backoff (`refresh` in ctl).
    public func invalidate() {
        state.withLock { s in
            s.fetchedAt = nil
            s.retryAt = nil
        }
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

    /// Creates a draft folder `name` in tasks/, or, for a run of `orchestration`, in its `runs/`.
    public func createDraft(named name: String, orchestration: String? = nil) throws(FSError) -> TaskSummary {
        guard SafeName.component(name) == name, !name.hasPrefix(".") else {
            throw FSError(errno: EINVAL, "a task folder name must be a plain name (no control characters, not hidden): \(name)")
        }
        guard orchestration != nil || name != Self.byNameFolder else { throw FSError(errno: EEXIST, "tasks/\(name) holds the links named for humans") }
        let current = try listing()
        let existing = if let orchestration { current.runs[orchestration]?[name] } else { current.taskByFolder[name] }
        guard existing == nil else { throw FSError(errno: EEXIST, "folder \(name) exists") }
        let record = local.createDraft(folder: name, orchestration: orchestration)
        localTasksChanged()
        return TaskSummary(id: record.taskId, name: name, createdAt: record.createdAt, orchestration: orchestration)
    }

    /// Installs `tasks` as a stale listing unless a listing arrived meanwhile.
    private func installIfEmpty(_ tasks: [TaskSummary]) -> Listing {
        let listing = Listing(tasks: tasks, local: local.all)
        return state.withLock { s in
            if let current = s.listing { return current }
            s.listing = listing
            s.serverTasks = tasks
            return listing
        }
    }

    @discardableResult
    private func install(_ tasks: [TaskSummary], fresh: Bool = true) -> Listing {
        let listing = Listing(tasks: tasks, local: local.all)
        let changed = state.withLock { s -> [String] in
            let before = Dictionary(s.serverTasks.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            s.listing = listing
            s.serverTasks = tasks
            s.fetchedAt = fresh ? Date() : nil
            s.extra = s.extra.filter { listing.folderByID[$0.key] == nil }
            return tasks.filter { task in
                before[task.id].map { $0.updatedAt != task.updatedAt || $0.serverStatus != task.serverStatus } ?? false
            }.map(\.id)
        }
        if !changed.isEmpty { tasksChanged(changed) }
        return listing
    }

    /// Every page: numbered ones with a count a few at a time side by side, cursors one after
    /// another. The server's counts are hints, never sizes: reading stops at the first empty or
    /// short page, a page with no next, a page or cursor seen before, the count the server
    /// gave, or `maxPages` (with a log line), whichever comes first.
    private func fetchAllTasks() throws(RemoteError) -> [TaskSummary] {
        var tasks: [TaskSummary] = []
        var seen = Set<String>()
        /// Takes a page's new tasks; false when the listing ends with it.
        func take(_ page: TaskPage) -> Bool {
            // A page holds at most what was asked for: more would size memory by the server's word.
            // A server that repeats pages adds nothing twice.
            for task in page.items.prefix(Self.pageSize) where seen.insert(task.id).inserted { tasks.append(task) }
            return page.items.count >= Self.pageSize && page.next != nil
        }
        let first = try remote.listTasks(from: nil, pageSize: Self.pageSize)
        var pages = 1
        var more = take(first)
        if more, case .number(let start)? = first.next, let total = first.totalPages {
            let lastPage = min(max(total, 1), Self.maxPages)
            let remote = self.remote
            let window = PageWindow(first: start, last: lastPage, parallel: Self.parallelPages) { number in
                Result { () throws(RemoteError) -> TaskPage in try remote.listTasks(from: .number(number), pageSize: Self.pageSize) }
            }
            var page = start
            while more, page <= lastPage {
                more = take(try window.page(page).get())
                page += 1
                pages += 1
            }
            more = more && total > Self.maxPages
        } else {
            var next = more ? first.next : nil
            var visited = Set<PagePosition>()
            while let position = next, pages < Self.maxPages, visited.insert(position).inserted {
                let page = try remote.listTasks(from: position, pageSize: Self.pageSize)
                pages += 1
                next = take(page) ? page.next : nil
            }
            more = next != nil && pages >= Self.maxPages
        }
        if more {
            logger.warning("task list cut at \(Self.maxPages) pages (\(tasks.count) tasks); the server says there are more")
        }
        return tasks
    }
}
/// glibc's `malloc_trim` (malloc.h, which Swift's Glibc module leaves out): gives the free
/// memory of every malloc arena back to the system.
@_silgen_name("malloc_trim")
private func malloc_trim(_ pad: Int) -> Int32
