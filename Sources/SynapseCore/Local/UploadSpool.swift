import Foundation
import Synchronization

/// Files written into `uploads/`, kept on disk until the server has them: `<id>.data` holds the
/// bytes, `<id>.json` the record. Survives unmount, restart and crash; nothing written is lost.
///
/// Besides the record, each entry has in-memory activity: how many handles have it open for
/// writing, and a revision that every write bumps. An upload remembers the revision it
/// claimed; if the file changed meanwhile, the entry is not marked uploaded but queued again,
/// so whatever order writes, flushes and closes come in (dup'ed descriptors, writes after a
/// flush), the last upload carries the file's last bytes.
///
/// Lock order: `uploadEnded`'s lock, then `entries`, then `activity`. No lock is held across
/// I/O other than writing a record (a few hundred bytes), which `decide` does under `entries`
/// so records reach the disk in the order of the decisions.
public final class UploadSpool: Sendable {
    public enum Phase: String, Codable, Sendable {
        /// Open for writing; uploaded when its writer closes it.
        case writing
        /// A temporary name (editor or rsync): kept local until renamed to a final name.
        case held
        /// Waiting for the uploader.
        case pending
        case uploading
        /// The last attempt failed; retried with backoff.
        case failed
        /// On the server; kept (and readable) until the task's listing shows the file, which a
        /// draft's does not yet.
        case uploaded
    }

    public struct Entry: Codable, Sendable, Equatable {
        public var id: String
        public var taskId: String
        public var name: String
        public var phase: Phase
        public var reason: String?
        public var attempts = 0
        public var nextAttemptAt: Date?
        public var createdAt = Date()
        /// Uploaded, and to be named in the task's next prompt by this reference (nil once
        /// that prompt is sent, or where the server keeps files with the task).
        public var attachment: String?
    }

    /// What is happening to an entry now; not persisted (a restart has no open writers).
    struct Activity {
        var revision = 0
        var writers = 0
    }

    /// The outcome of asking to upload an entry now.
    public enum Claim: Equatable, Sendable {
        /// The caller uploads the entry's bytes as of this revision.
        case claimed(revision: Int)
        /// Another upload of it is in flight.
        case busy
        /// Nothing to upload: held under a temporary name, already uploaded, or gone.
        case nothingToDo
    }

    let directory: URL
    private let entries: Mutex<[String: Entry]>
    private let activity = Mutex<[String: Activity]>([:])
    /// Signalled whenever an upload ends, for writers waiting to upload the same entry.
    private let uploadEnded = NSCondition()

    public init(stateDirectory: URL) {
        directory = stateDirectory.appendingPathComponent("spool", isDirectory: true)
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var loaded: [String: Entry] = [:]
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names where name.hasSuffix(".json") {
            guard let data = try? Data(contentsOf: directory.appendingPathComponent(name)),
                  var entry = try? CacheCoding.decoder.decode(Entry.self, from: data) else { continue }
            switch entry.phase {
            case .uploading:
                // The mount stopped mid-upload: the file is whole, send it again.
                entry.phase = .pending
            case .writing:
                // The mount stopped while a writer had it open: the bytes may be incomplete.
                entry.phase = .failed
                entry.reason = "the mount stopped while this file was being written; write it again or delete it"
                entry.nextAttemptAt = .distantFuture
            default:
                break
            }
            loaded[entry.id] = entry
        }
        entries = Mutex(loaded)
        for entry in loaded.values { persist(entry) }
    }

    public var all: [Entry] { entries.withLock { Array($0.values) }.sorted { $0.createdAt < $1.createdAt } }

    public func entries(of taskId: String) -> [Entry] { all.filter { $0.taskId == taskId } }

    public func entry(_ taskId: String, named name: String) -> Entry? {
        entries.withLock { $0.values.first { $0.taskId == taskId && $0.name == name } }
    }

    public func entry(id: String) -> Entry? { entries.withLock { $0[id] } }

    /// A new, empty entry open for writing (replacing one of the same name).
    public func create(taskId: String, name: String) throws(FSError) -> Entry {
        if let old = entry(taskId, named: name) { remove(old.id) }
        let entry = Entry(id: UUID().uuidString.lowercased(), taskId: taskId, name: name, phase: .writing)
        guard FileManager.default.createFile(atPath: dataURL(entry.id).path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw .disk("cannot create spool file for \(name)")
        }
        entries.withLock { $0[entry.id] = entry }
        persist(entry)
        return entry
    }

    /// Applies `change` and saves the record; nil when the entry is gone (deleted meanwhile).
    @discardableResult
    public func update(_ id: String, _ change: (inout Entry) -> Void) -> Entry? {
        let updated = entries.withLock { e -> Entry? in
            guard var entry = e[id] else { return nil }
            change(&entry)
            e[id] = entry
            return entry
        }
        if let updated { persist(updated) }
        return updated
    }

    /// Moves `pending`/`failed` entries that are due to `uploading`; the caller uploads them,
    /// each as of the revision given.
    public func claimDue(now: Date = Date()) -> [(entry: Entry, revision: Int)] {
        let claimed = entries.withLock { e -> [(entry: Entry, revision: Int)] in
            var due: [(entry: Entry, revision: Int)] = []
            for (id, entry) in e where entry.phase == .pending || (entry.phase == .failed && (entry.nextAttemptAt ?? now) <= now) {
                e[id]?.phase = .uploading
                due.append((e[id]!, revision(of: id)))
            }
            return due
        }
        claimed.forEach { persist($0.entry) }
        return claimed
    }

    /// Claims one entry for an upload now (a writer's close or fsync).
    public func claim(_ id: String) -> Claim {
        let claimed = entries.withLock { e -> Claim in
            guard let entry = e[id] else { return .nothingToDo }
            switch entry.phase {
            case .uploading: return .busy
            case .held, .uploaded: return .nothingToDo
            case .writing, .pending, .failed:
                e[id]?.phase = .uploading
                return .claimed(revision: revision(of: id))
            }
        }
        if case .claimed = claimed, let entry = entry(id: id) { persist(entry) }
        return claimed
    }

    /// Claims the entry for an upload now, waiting while another upload of it is in flight
    /// (unless the operation is cancelled); nil when there is nothing to upload.
    public func claimWaiting(_ id: String) throws(FSError) -> Int? {
        uploadEnded.lock()
        defer { uploadEnded.unlock() }
        while true {
            switch claim(id) {
            case .claimed(let revision): return revision
            case .nothingToDo: return nil
            case .busy:
                try Cancellation.check()
                // Re-checked every 100 ms as well: a signal may come between claim and wait.
                _ = uploadEnded.wait(until: Date().addingTimeInterval(0.1))
            }
        }
    }

    /// The upload of `revision` succeeded: the entry is uploaded, unless it was written
    /// meanwhile; then it waits for its writer's close, or is queued if nobody writes it now.
    public func finishUpload(_ id: String, revision: Int, attachment: String? = nil) {
        decide(id) { e, a in
            e.reason = nil
            e.nextAttemptAt = nil
            e.phase = a.revision != revision ? (a.writers > 0 ? .writing : .pending) : .uploaded
            if e.phase == .uploaded { e.attachment = attachment }
        }
        signalUploadEnded()
    }

    /// The uploads of `taskId` waiting to be named in its next prompt.
    public func attachments(of taskId: String) -> [Entry] {
        entries(of: taskId).filter { $0.phase == .uploaded && $0.attachment != nil }
    }

    /// The prompt naming these uploads was sent: they wait no more.
    public func attachmentsSent(_ ids: [String]) {
        for id in ids { decide(id) { e, _ in e.attachment = nil } }
    }

    /// The upload failed: kept, and retried at `nextAttempt` (or by a writer's next close).
    public func failUpload(_ id: String, reason: String, attempts: Int, nextAttempt: Date) {
        decide(id) { e, _ in
            e.phase = .failed
            e.reason = reason
            e.attempts = attempts
            e.nextAttemptAt = nextAttempt
        }
        signalUploadEnded()
    }

    /// The upload was interrupted (its caller gave up, the mount is stopping): queued again,
    /// with no attempt counted, since nothing is known about the server.
    public func interruptUpload(_ id: String) {
        decide(id) { e, a in e.phase = a.writers > 0 ? .writing : .pending }
        signalUploadEnded()
    }

    private func signalUploadEnded() {
        uploadEnded.lock()
        uploadEnded.broadcast()
        uploadEnded.unlock()
    }

    /// Runs `change` on the entry and its activity as one step under the lock (lock order:
    /// `entries`, then `activity`), and saves the record if the entry changed; nil when the
    /// entry is gone. Every phase decision goes through here, so none acts on a stale look.
    @discardableResult
    private func decide<T>(_ id: String, _ change: (inout Entry, inout Activity) -> T) -> T? {
        entries.withLock { e -> T? in
            guard var entry = e[id] else { return nil }
            let before = entry
            let result = activity.withLock { a -> T in
                var current = a[id] ?? Activity()
                defer { a[id] = current }
                return change(&entry, &current)
            }
            e[id] = entry
            if entry != before { persist(entry) }
            return result
        }
    }

    // MARK: Writers and revisions

    /// A handle opens the entry for writing; nil when it is uploaded (its bytes are the
    /// server's now) or gone. A temporary name is held, a final one being written.
    public func openForWriting(_ id: String, temporary: Bool) -> Entry? {
        decide(id) { e, a -> Entry? in
            guard e.phase != .uploaded else { return nil }
            a.writers += 1
            if e.phase != .uploading { e.phase = temporary ? .held : .writing }
            return e
        } ?? nil
    }

    /// A writing handle was released; true when that was the last one and the entry, still
    /// unsent, is now queued for the uploader.
    @discardableResult
    public func writerReleased(_ id: String) -> Bool {
        decide(id) { e, a -> Bool in
            a.writers = max(0, a.writers - 1)
            guard a.writers == 0, e.phase == .writing else { return false }
            e.phase = .pending
            return true
        } ?? false
    }

    /// The entry's bytes or name changed (a write, a truncate, a rename): an upload in flight
    /// no longer stands for it, and a finished, queued or failed one must be made again, at
    /// the writer's close, or by the uploader if nobody has the file open (`truncate(1)`).
    public func contentChanged(_ id: String) {
        decide(id) { e, a in
            a.revision += 1
            if [.uploaded, .pending, .failed, .writing].contains(e.phase) { e.phase = a.writers > 0 ? .writing : .pending }
        }
    }

    /// Removes an uploaded entry nobody writes (the server lists the file now); false if it
    /// is still needed (written, or waiting to be named in the next prompt).
    public func removeIfDone(_ id: String) -> Bool {
        guard decide(id, { e, a in e.phase == .uploaded && e.attachment == nil && a.writers == 0 }) == true else { return false }
        remove(id)
        return true
    }

    public func revision(of id: String) -> Int { activity.withLock { $0[id]?.revision ?? 0 } }

    public func remove(_ id: String) {
        _ = entries.withLock { $0.removeValue(forKey: id) }
        _ = activity.withLock { $0.removeValue(forKey: id) }
        unlink(recordURL(id).path)
        unlink(dataURL(id).path)
    }

    public func size(of id: String) -> Int64 {
        var st = stat()
        return stat(dataURL(id).path, &st) == 0 ? Int64(st.st_size) : 0
    }

    public func dataURL(_ id: String) -> URL { directory.appendingPathComponent(id + ".data") }
    private func recordURL(_ id: String) -> URL { directory.appendingPathComponent(id + ".json") }

    private func persist(_ entry: Entry) {
        guard let data = try? CacheCoding.encoder.encode(entry) else { return }
        try? writeAtomically(data, to: recordURL(entry.id))
    }

    /// Names editors and rsync write before renaming to the final name.
    public static func isTemporary(_ name: String) -> Bool {
        name.hasPrefix(".") || name.hasSuffix("~") || name == "4913"
            || [".swp", ".swx", ".tmp", ".part", ".crdownload"].contains { name.hasSuffix($0) }
    }
}
