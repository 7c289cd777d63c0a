import Foundation

/// stream.log: kept on disk, fed by the backend's feed, reconciled with the fetched transcript
/// on first use, after a reconnect, and every second for followed tasks that get no events.
extension SynapseFilesystem {
    /// The task's log, reconciled with the server the first time it is used in this run.
    func streamLog(of taskId: String) throws(FSError) -> TranscriptLog {
        let log = try logs.log(for: taskId)
        if logs.claimFirstUse(taskId) { reconcileLog(taskId) }
        return log
    }

    /// The log as an open sees it: what the server has now (a task driven elsewhere sends this
    /// mount no events), with one fetch at most: none when the first use just reconciled it or
    /// the server is known to be offline (the log on disk is served), a fresh one for a task
    /// not known to be finished, one per messages TTL for a finished one.
    func streamLogCaughtUp(of taskId: String) throws(FSError) -> TranscriptLog {
        let log = try logs.log(for: taskId)
        guard !isDraft(taskId), health.current.state != .offline else { return log }
        if logs.claimFirstUse(taskId) {
            reconcileLog(taskId)
        } else if TaskStatus.derive(details.lastKnownTranscript(of: taskId), listed: nil).isFinished {
            _ = try? details.transcript(of: taskId)
        } else {
            reconcileLog(taskId)
        }
        return log
    }

    /// Appends whatever the server's transcript holds that the log does not show yet.
    func reconcileLog(_ taskId: String) {
        guard !isDraft(taskId), let log = try? logs.log(for: taskId) else { return }
        details.invalidate(taskId)
        guard let transcript = try? details.transcript(of: taskId) else { return }
        log.apply(contentsOf: transcript.entries.filter { !log.showsFinal($0) })
    }

    /// One event of the feed, routed to its task's log.
    func handle(_ event: FeedEvent) {
        switch event {
        case .heartbeat:
            return
        case .notice(let title, let text, let isError):
            attributeNotice(title: title, text: text, isError: isError)
        case .entry(let taskId, let entry), .partial(let taskId, let entry):
            guard let log = eventArrived(for: taskId) else { return }
            if case .partial = event { log.apply(entry, from: .partialEvent) } else { log.apply(entry, from: .whole) }
            let status = entry.statusAfter
            let question = status == .waiting ? TaskStatus.question(in: Transcript(entries: [entry])) : nil
            activity.observe(taskId, status, question: question, entryId: entry.id)
        case .removed(let taskId, let ids):
            guard let log = eventArrived(for: taskId) else { return }
            for id in ids { log.remove(id: id) }
        case .changed(let taskId):
            _ = eventArrived(for: taskId)
            catalog.markStale()
            // Fetched again (off the event thread), as InfiniSynapse's seed asks after `state.ready`.
            logs.requestReconcile([taskId])
        }
    }

    /// What every event of a task does first: the task's cached details are stale now.
    private func eventArrived(for taskId: String) -> TranscriptLog? {
        logs.markEvent(taskId)
        details.invalidate(taskId)
        if catalog.knownTask(id: taskId) == nil { catalog.markStale() }
        return try? logs.log(for: taskId)
    }

    /// A notice names no task: it goes to the one task with recent events, if only one.
    private func attributeNotice(title: String, text: String, isError: Bool) {
        let message = [title, text].filter { !$0.isEmpty }.joined(separator: ": ")
        let active = logs.recentlyActive(within: 60)
        if active.count == 1 {
            notices.add("\(isError ? "error" : "notification"): \(message)", taskId: active[0])
            if isError {
                let last = (try? logs.log(for: active[0]))?.lastEntryId
                failures.record(active[0], lastEntryId: last)
                activity.observe(active[0], .failed, entryId: last)
                logger.warning("task failed (error notification)", metadata: ["task": "\(active[0])", "error": "\(message)"])
            }
        } else {
            logger.notice("server notification: \(message)")
        }
    }

    /// After the stream came back: fill each active task's gap from the server.
    func eventStreamReconnected(after seconds: Double) {
        for taskId in logs.recentlyActive(within: 3600) {
            notices.add(String(format: "event stream reconnected after %.1f s", seconds), taskId: taskId)
            reconcileLog(taskId)
        }
    }

    /// One round of following, run every second by the daemon's log follower: reconciles the
    /// logs of tasks the server said changed, and polls tasks whose stream.log is open and
    /// that get no events (driven elsewhere).
    public func followLogs() {
        for taskId in logs.takeReconcileRequests() { reconcileLog(taskId) }
        for taskId in logs.followed where (logs.lastEvent(taskId).map { Date().timeIntervalSince($0) > 2 } ?? true) {
            let status = status(of: taskId)
            if status == .running || status == .waiting || status == .draft { reconcileLog(taskId) }
        }
    }

    /// Whether a read on the handle would return new data now, and the task a log handle
    /// belongs to (other handles are always readable).
    public func pollReadable(_ fh: UInt64) throws(FSError) -> (ready: Bool, taskId: String?) {
        guard case .log(let reader) = try handles.get(fh) else { return (true, nil) }
        return (reader.hasUnread, reader.taskId)
    }

    /// Registers a listener for log growth (the FUSE layer wakes pollers).
    public func onLogGrowth(_ listener: @escaping @Sendable (String) -> Void) { logs.onGrowth(listener) }
}
