import Foundation
import Synchronization

/// Files written into `uploads/`, kept on disk until the server has them: `<id>.data` holds the
/// bytes, `<id>.json` the record. Survives unmount, restart and crash; nothing written is lost.
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
    }

    let directory: URL
    private let entries: Mutex<[String: Entry]>

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
            throw FSError(errno: EIO, "cannot create spool file for \(name)")
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

    /// Moves `pending`/`failed` entries that are due to `uploading`; the caller uploads them.
    public func claimDue(now: Date = Date()) -> [Entry] {
        let claimed = entries.withLock { e -> [Entry] in
            var due: [Entry] = []
            for (id, entry) in e where entry.phase == .pending || (entry.phase == .failed && (entry.nextAttemptAt ?? now) <= now) {
                e[id]?.phase = .uploading
                due.append(e[id]!)
            }
            return due
        }
        claimed.forEach(persist)
        return claimed
    }

    /// Claims one entry for an upload now (the writer's close or fsync); false if it is busy.
    public func claim(_ id: String) -> Bool {
        let claimed = entries.withLock { e -> Entry? in
            guard let entry = e[id], ![.uploading, .held, .uploaded].contains(entry.phase) else { return nil }
            e[id]?.phase = .uploading
            return e[id]
        }
        if let claimed { persist(claimed) }
        return claimed != nil
    }

    public func markUploaded(_ id: String) {
        update(id) { e in
            e.phase = .uploaded
            e.reason = nil
            e.nextAttemptAt = nil
        }
    }

    public func remove(_ id: String) {
        _ = entries.withLock { $0.removeValue(forKey: id) }
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
