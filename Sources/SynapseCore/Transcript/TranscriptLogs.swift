import Foundation
import Synchronization

/// The transcript logs of the tasks this run has touched, and what is known about their
/// freshness: reconciled with the server once after start, when events last came.
final class TranscriptLogs: Sendable {
    private struct State {
        var logs: [String: TranscriptLog] = [:]
        var reconciled: Set<String> = []
        var lastEventAt: [String: Date] = [:]
        /// Open stream.log handles per task: those tasks are followed.
        var readers: [String: Int] = [:]
        /// Logs in use whose task the server says changed: reconciled by the follower.
        var reconcileRequests: Set<String> = []
    }

    private let directory: URL
    /// What partial events carry, learnt once for every task of the server.
    private let partials: PartialKind
    private let state = Mutex(State())
    private let growth = Mutex<[@Sendable (String) -> Void]>([])

    init(stateDirectory: URL) {
        directory = stateDirectory.appendingPathComponent("logs", isDirectory: true)
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        partials = PartialKind(directory: directory)
    }

    func log(for taskId: String) throws(FSError) -> TranscriptLog {
        if let log = state.withLock({ $0.logs[taskId] }) { return log }
        let log = try TranscriptLog(taskId: taskId, directory: directory, partials: partials) { [weak self] in self?.grew(taskId) }
        return state.withLock { s in
            if let existing = s.logs[taskId] { return existing }
            s.logs[taskId] = log
            return log
        }
    }

    func onGrowth(_ listener: @escaping @Sendable (String) -> Void) { growth.withLock { $0.append(listener) } }

    private func grew(_ taskId: String) {
        for listener in growth.withLock({ $0 }) { listener(taskId) }
    }

    /// Brings a log in use this run up to `messages`, just fetched for another reason (status,
    /// messages.json): what the server says and what stream.log shows arrive together, so
    /// `status` never says completed while the log still lacks the result.
    func catchUp(_ taskId: String, with transcript: Transcript) {
        guard let log = state.withLock({ $0.reconciled.contains(taskId) ? $0.logs[taskId] : nil }) else { return }
        let missing = transcript.entries.filter { !log.showsFinal($0) }
        if !missing.isEmpty { log.apply(contentsOf: missing) }
    }

    /// True once per run per task: the caller reconciles the log with the server.
    func claimFirstUse(_ taskId: String) -> Bool { state.withLock { $0.reconciled.insert(taskId).inserted } }

    /// The server says these tasks changed (`state.ready`, a new `updated_at` or status in the
    /// list): those whose stream.log is open are reconciled soon (the others catch up at
    /// their next open).
    func requestReconcile(_ taskIds: some Sequence<String>) {
        state.withLock { s in
            for id in taskIds where s.readers[id] != nil { s.reconcileRequests.insert(id) }
        }
    }

    func takeReconcileRequests() -> Set<String> {
        state.withLock { s in
            defer { s.reconcileRequests.removeAll() }
            return s.reconcileRequests
        }
    }

    func markEvent(_ taskId: String) { state.withLock { $0.lastEventAt[taskId] = Date() } }

    func lastEvent(_ taskId: String) -> Date? { state.withLock { $0.lastEventAt[taskId] } }

    /// Tasks that had events in the last `window` seconds (those a reconnect must catch up).
    func recentlyActive(within window: Double) -> [String] {
        let now = Date()
        return state.withLock { $0.lastEventAt.filter { now.timeIntervalSince($0.value) < window }.map(\.key) }
    }

    func readerOpened(_ taskId: String) { state.withLock { $0.readers[taskId, default: 0] += 1 } }

    func readerClosed(_ taskId: String) {
        state.withLock { s in
            s.readers[taskId, default: 1] -= 1
            if s.readers[taskId] == 0 { s.readers[taskId] = nil }
        }
    }

    var followed: [String] { state.withLock { Array($0.readers.keys) } }
}
