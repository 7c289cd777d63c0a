import Foundation

/// stream.log: kept on disk, fed by events, reconciled with `getUiMessageById` on first use,
/// after a reconnect, and every second for followed tasks that get no events.
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
        } else if TaskStatus.derive(messages: details.lastKnownMessages(of: taskId), serverStatus: nil).isFinished {
            _ = try? details.messages(of: taskId)
        } else {
            reconcileLog(taskId)
        }
        return log
    }

    /// Appends whatever the server's transcript holds that the log does not show yet.
    func reconcileLog(_ taskId: String) {
        guard !isDraft(taskId), let log = try? logs.log(for: taskId) else { return }
        details.invalidate(taskId)
        guard let messages = try? details.messages(of: taskId) else { return }
        log.apply(contentsOf: messages.filter { !log.showsFinal($0) })
    }

    /// One event from the stream, routed to its task's log.
    func handle(_ event: ServerEvent) {
        guard event.type != "heartbeat",
              let object = try? JSONSerialization.jsonObject(with: Data(event.data.utf8)) as? [String: Any] else { return }
        guard let taskId = object["taskId"] as? String else {
            if event.type == "notification" { attributeNotification(object) }
            return
        }
        logs.markEvent(taskId)
        details.invalidate(taskId)
        if event.type == "state.ready" || catalog.knownTask(id: taskId) == nil { catalog.markStale() }
        // The seed: after `state.ready`, fetch the task again (done off the event thread).
        if event.type == "state.ready" { logs.requestReconcile([taskId]) }
        guard let log = try? logs.log(for: taskId) else { return }
        switch event.type {
        case "message.add", "message.update", "message.partial":
            guard let raw = object["message"] as? [String: Any], let message = TaskMessage(json: raw) else { return }
            log.apply(message, from: event.type == "message.partial" ? .partialEvent : .whole)
            activity.observe(taskId, message.statusAfter, question: message.statusAfter == .waiting ? TaskStatus.question(in: [message]) : nil,
                             ts: message.ts)
        case "message.remove":
            for ts in (object["messageTs"] as? [Any] ?? []).compactMap({ ($0 as? NSNumber)?.int64Value }) { log.remove(ts: ts) }
        default:
            break
        }
    }

    /// A notification names no task: it goes to the one task with recent events, if only one.
    private func attributeNotification(_ object: [String: Any]) {
        let text = [object["title"], object["message"]].compactMap { $0 as? String }.joined(separator: ": ")
        let active = logs.recentlyActive(within: 60)
        if active.count == 1 {
            let kind = object["type"] as? String ?? "notification"
            notices.add("\(kind): \(text)", taskId: active[0])
            if kind == "error" {
                failures.record(active[0], lastTs: (try? logs.log(for: active[0]))?.newestMessageTs ?? 0)
                activity.observe(active[0], .failed, ts: (try? logs.log(for: active[0]))?.newestMessageTs)
                logger.warning("task failed (error notification)", metadata: ["task": "\(active[0])", "error": "\(text)"])
            }
        } else {
            logger.notice("server notification: \(text)")
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

extension TaskMessage {
    /// A message as events and `getUiMessageById` carry it.
    init?(json: [String: Any]) {
        guard let ts = (json["ts"] as? NSNumber)?.int64Value else { return nil }
        self.init(ts: ts, type: json["type"] as? String ?? "say", say: json["say"] as? String, ask: json["ask"] as? String,
                  text: json["text"] as? String, reasoning: json["reasoning"] as? String, partial: (json["partial"] as? NSNumber)?.boolValue)
    }
}
