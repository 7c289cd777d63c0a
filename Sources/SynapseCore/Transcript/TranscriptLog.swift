import Foundation
import Synchronization

/// One task's stream.log: an append-only file in the state directory, fed by snapshots of
/// transcript entries (feed events, fetched transcripts) and local notices. Bytes once written
/// never change: growth of an entry appends its new suffix; anything else appends a notice.
public final class TranscriptLog: Sendable {
    /// What the log has shown of one entry.
    struct Shown: Codable, Equatable {
        var bytes: Int
        var hash: UInt64
        var final: Bool
        var removed = false
        /// Shown only from partial events (nil in records written before it was kept): only
        /// such a sequence tells what kind partials are, a poll may be ahead of them.
        var fromEvents: Bool?
        /// The entry's time (for notices about it; nil in records of older versions, whose ids
        /// were their times).
        var time: Int64?

        enum CodingKeys: String, CodingKey { case bytes, hash, final, removed, fromEvents, time }

        init(bytes: Int, hash: UInt64, final: Bool, removed: Bool = false, fromEvents: Bool? = nil, time: Int64? = nil) {
            self.bytes = bytes
            self.hash = hash
            self.final = final
            self.removed = removed
            self.fromEvents = fromEvents
            self.time = time
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            bytes = try c.decode(Int.self, forKey: .bytes)
            hash = try c.decode(UInt64.self, forKey: .hash)
            final = try c.decode(Bool.self, forKey: .final)
            removed = try c.decodeIfPresent(Bool.self, forKey: .removed) ?? false
            fromEvents = try c.decodeIfPresent(Bool.self, forKey: .fromEvents)
            time = try c.decodeIfPresent(Int64.self, forKey: .time)
        }
    }

    struct State: Codable {
        /// Entry id → what is shown.
        var entries: [String: Shown] = [:]
        /// The entry whose block is still open (its text may grow without a new header).
        var openId: String?
        /// The newest entry the log has shown.
        var lastId: String?
        /// The log length this state describes.
        var length: Int64 = 0
        /// Notices that arrived while a message was still growing: written when its block ends,
        /// so they never split a message's text.
        var waitingNotices: [String] = []
        /// When (seconds of uptime) a partial event last came for each open entry (not saved):
        /// while events feed an entry, polled snapshots of it are left out.
        var streamedAt: [String: Double] = [:]

        enum CodingKeys: String, CodingKey { case entries, openId, lastId, length, waitingNotices }
        /// What version 0.11 and earlier wrote: entries keyed by an Int64 `ts` (encoded as an
        /// array of alternating keys and values), the open one as `openTs`.
        enum LegacyKeys: String, CodingKey { case messages, openTs }

        init() {}

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            length = try c.decode(Int64.self, forKey: .length)
            waitingNotices = try c.decodeIfPresent([String].self, forKey: .waitingNotices) ?? []
            if c.contains(.entries) {
                entries = try c.decode([String: Shown].self, forKey: .entries)
                openId = try c.decodeIfPresent(String.self, forKey: .openId)
                lastId = try c.decodeIfPresent(String.self, forKey: .lastId)
                return
            }
            // A log of an older version: its ids were the messages' ts, which were their times.
            let legacy = try decoder.container(keyedBy: LegacyKeys.self)
            let messages = try legacy.decodeIfPresent([Int64: Shown].self, forKey: .messages) ?? [:]
            for (ts, shown) in messages {
                var migrated = shown
                migrated.time = ts
                entries[String(ts)] = migrated
            }
            openId = try legacy.decodeIfPresent(Int64.self, forKey: .openTs).map(String.init)
            lastId = messages.keys.max().map(String.init)
        }
    }

    /// Where a snapshot of an entry comes from.
    public enum Source: Sendable {
        /// A partial event of the feed: the whole text so far, or only what is new.
        case partialEvent
        /// A whole entry: an entry event, or a fetched transcript.
        case whole
    }

    /// How long an entry fed by partial events ignores polled snapshots of it.
    static let streamedWindow = 5.0
    /// Below this many bytes shown, a partial that repeats them and more may still be an
    /// increment that happens to start alike: it does not settle which kind partials are.
    static let settlingLength = 16

    let taskId: String
    private let dataURL: URL
    private let stateURL: URL
    // Lock order: `state`, then `partials`'s own (a leaf).
    private let state: Mutex<State>
    private let partials: PartialKind
    private let fd: Int32
    /// Called after every append (the kernel is told the file grew).
    private let onGrowth: @Sendable () -> Void

    /// `partials` is the mount's shared knowledge of partial events (its own, kept in
    /// `directory`, when nil).
    init(taskId: String, directory: URL, partials: PartialKind? = nil, onGrowth: @escaping @Sendable () -> Void) throws(FSError) {
        self.taskId = taskId
        self.onGrowth = onGrowth
        self.partials = partials ?? PartialKind(directory: directory)
        let key = CacheDirectory.key(taskId)
        dataURL = directory.appendingPathComponent(key + ".log")
        stateURL = directory.appendingPathComponent(key + ".json")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        fd = try Syscall.check(open(dataURL.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600), "opening the log of \(taskId)")
        var loaded = (try? Data(contentsOf: stateURL)).flatMap { try? CacheCoding.decoder.decode(State.self, from: $0) } ?? State()
        var st = stat()
        fstat(fd, &st)
        // A crash between an append and its state: cut the unrecorded tail; it is rendered again
        // from the same messages, so readers see the same bytes.
        if Int64(st.st_size) > loaded.length {
            ftruncate(fd, off_t(loaded.length))
        } else if Int64(st.st_size) < loaded.length {
            // The log lost bytes its state counts (restored from elsewhere?): start it again.
            loaded = State()
            ftruncate(fd, 0)
        }
        state = Mutex(loaded)
    }

    deinit { close(fd) }

    /// The newest entry the log has shown.
    var lastEntryId: String? { state.withLock { $0.lastId } }

    /// The readable length now.
    public var length: Int64 { state.withLock { $0.length } }

    public func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(FSError) -> Int {
        let end = length
        guard offset < end else { return 0 }
        return try Syscall.check(Glibc.pread(fd, buffer.baseAddress, min(buffer.count, Int(end - offset)), off_t(offset)),
                                 "reading the log of \(taskId)")
    }

    /// Applies one snapshot of a message from `source`; `partial` false says the text will not
    /// grow any more.
    public func apply(_ entry: TranscriptEntry, from source: Source = .whole) {
        append { s in
            // A partial event is partial unless it says otherwise.
            guard source == .partialEvent else { return Self.render(entry, into: &s, partials: partials) }
            return Self.renderPartialEvent(entry, into: &s, partials: partials)
        }
    }

    /// Applies a whole transcript (a reconcile) in one append and one state record: applying
    /// them one by one rewrote the record once per message, quadratic in their number.
    public func apply(contentsOf entries: [TranscriptEntry]) {
        append { s in
            var out = ""
            for entry in entries { out += Self.render(entry, into: &s, partials: partials) }
            return out
        }
    }

    static var uptime: Double { ProcessInfo.processInfo.systemUptime }

    /// The text a `message.partial` event adds: its text is the whole text so far, or only
    /// what is new. Which one is learnt from a message fed only by events: one that does not
    /// repeat what they showed is an increment; one that repeats at least `settlingLength`
    /// bytes of it and adds more is a snapshot. Until then, a partial that repeats what is
    /// shown is taken as a snapshot, and one that does not, after a poll, waits for the final text.
    private static func renderPartialEvent(_ entry: TranscriptEntry, into s: inout State, partials: PartialKind) -> String {
        let final = entry.isFinal
        let textBytes = Array(entry.text.utf8)
        guard var shown = s.entries[entry.id] else {
            if !final { s.streamedAt[entry.id] = uptime }
            let out = render(entry, into: &s, fromEvent: true, partials: partials)
            s.entries[entry.id]?.fromEvents = true
            return out
        }
        // After its final text, a partial is late news; an empty one says nothing.
        guard !shown.final, !shown.removed, !textBytes.isEmpty || final else { return "" }
        s.streamedAt[entry.id] = uptime
        let repeatsShown = textBytes.count >= shown.bytes && hash(textBytes[..<shown.bytes]) == shown.hash
        var kind = partials.current
        if kind == nil, shown.fromEvents == true {
            if !repeatsShown { kind = .increments }
            else if textBytes.count > shown.bytes, shown.bytes >= settlingLength { kind = .snapshots }
            if let kind { partials.learn(kind) }
        }
        switch kind {
        case .increments? where !(final && repeatsShown):
            var out = ""
            if s.openId != entry.id {
                out += closeOpenBlock(&s)
                out += TranscriptRenderer.header(for: entry) + " (continued)\n"
                s.openId = entry.id
            }
            out += String(decoding: textBytes, as: UTF8.self)
            shown.bytes += textBytes.count
            shown.hash = hash(textBytes[...], continuing: shown.hash)
            s.entries[entry.id] = shown
            if final { out += finish(entry.id, lastText: entry.text, into: &s) }
            return out
        case nil where !repeatsShown && !final:
            return ""
        default:
            return render(entry, into: &s, fromEvent: true, partials: partials)
        }
    }

    /// Ends a message's block: its text is final.
    private static func finish(_ id: String, lastText: String, into s: inout State) -> String {
        s.entries[id]?.final = true
        s.streamedAt[id] = nil
        guard s.openId == id else { return "" }
        s.openId = nil
        return ending(lastText) + flushNotices(&s)
    }

    /// The text one snapshot adds to the log, updating what the state says is shown.
    private static func render(_ entry: TranscriptEntry, into s: inout State, fromEvent: Bool = false, partials: PartialKind? = nil) -> String {
        let text = entry.text
        let isFinal = entry.isFinal
        let textBytes = Array(text.utf8)
        if isFinal { s.streamedAt[entry.id] = nil }
        do {
            var out = ""
            guard var shown = s.entries[entry.id] else {
                out += closeOpenBlock(&s)
                out += TranscriptRenderer.header(for: entry) + "\n" + text
                s.entries[entry.id] = Shown(bytes: textBytes.count, hash: Self.hash(textBytes[...]), final: isFinal, time: entry.time)
                s.lastId = entry.id
                out += isFinal ? Self.ending(text) + flushNotices(&s) : ""
                s.openId = isFinal ? nil : entry.id
                return out
            }
            guard !shown.removed else { return "" }
            let extends = textBytes.count >= shown.bytes && Self.hash(textBytes[..<shown.bytes]) == shown.hash
            if shown.final {
                // Text already complete: only a real change is reported, as a notice.
                guard !(extends && textBytes.count == shown.bytes) else { return "" }
                out += closeOpenBlock(&s)
                out += Self.notice("the message of \(TranscriptRenderer.timestamp(entry.time)) was changed:\n\(text)")
                shown = Shown(bytes: textBytes.count, hash: Self.hash(textBytes[...]), final: true, time: entry.time)
                s.entries[entry.id] = shown
                return out
            }
            // An older, shorter snapshot (a poll racing the stream), or the same one again, says
            // nothing new: no "(continued)" header for it. Nor does a poll of a message events
            // are feeding (it may be behind them, or partials may be increments).
            if !isFinal && textBytes.count < shown.bytes { return "" }
            if !isFinal, !fromEvent, let at = s.streamedAt[entry.id], uptime - at < streamedWindow { return "" }
            if !isFinal && extends && textBytes.count == shown.bytes { return "" }
            if s.openId != entry.id {
                out += closeOpenBlock(&s)
                out += TranscriptRenderer.header(for: entry) + " (continued)\n"
                s.openId = entry.id
            }
            if extends {
                out += String(decoding: textBytes[shown.bytes...], as: UTF8.self)
            } else {
                out += "\n~~ rewritten ~~\n" + text
                // Events built this text by the learnt kind, and the final text says otherwise.
                if isFinal, shown.fromEvents == true { partials?.forget() }
            }
            shown = Shown(bytes: textBytes.count, hash: Self.hash(textBytes[...]), final: isFinal,
                          fromEvents: fromEvent && shown.fromEvents == true, time: entry.time)
            s.entries[entry.id] = shown
            if isFinal {
                out += Self.ending(text)
                s.openId = nil
                out += flushNotices(&s)
            }
            return out
        }
    }

    /// An entry taken back: shown text stays; a notice says it was removed.
    public func remove(id: String) {
        append { s in
            guard var shown = s.entries[id], !shown.removed else { return "" }
            shown.removed = true
            s.entries[id] = shown
            s.streamedAt[id] = nil
            let when = shown.time ?? Int64(id) ?? 0
            let notice = Self.notice("the message of \(TranscriptRenderer.timestamp(when)) was removed")
            if s.openId == id { return Self.closeOpenBlock(&s) + notice }
            // Another message is growing: the notice waits for its end, as local notices do.
            if s.openId != nil {
                s.waitingNotices.append(notice)
                return ""
            }
            return notice
        }
    }

    /// A local notice (a failed send, a reconnect); it waits for a growing message to end.
    public func notice(_ text: String) {
        append { s in
            let block = Self.notice(text)
            if s.openId != nil {
                s.waitingNotices.append(block)
                return ""
            }
            return block
        }
    }

    /// Whether the log already shows this entry's final text.
    func showsFinal(_ entry: TranscriptEntry) -> Bool {
        guard let shown = state.withLock({ $0.entries[entry.id] }) else { return false }
        let bytes = Array(entry.text.utf8)
        return shown.final && shown.bytes == bytes.count && shown.hash == Self.hash(bytes[...])
    }

    /// Ends the block of a message that may still grow, before another block starts, and
    /// writes the notices that waited for it.
    private static func closeOpenBlock(_ s: inout State) -> String {
        let ending = s.openId == nil ? "" : "\n\n"
        s.openId = nil
        return ending + flushNotices(&s)
    }

    private static func flushNotices(_ s: inout State) -> String {
        defer { s.waitingNotices.removeAll() }
        return s.waitingNotices.joined()
    }

    /// Runs `render` under the lock, appends its text, records the new state.
    private func append(_ render: (inout State) -> String) {
        let grew = state.withLock { s -> Bool in
            var next = s
            let text = render(&next)
            guard !text.isEmpty else {
                if next.waitingNotices != s.waitingNotices, let data = try? CacheCoding.encoder.encode(next) {
                    try? writeAtomically(data, to: stateURL)
                }
                s = next
                return false
            }
            let bytes = Array(text.utf8)
            let written = bytes.withUnsafeBytes { Glibc.pwrite(fd, $0.baseAddress, $0.count, off_t(next.length)) }
            guard written == bytes.count else { return false } // disk full: nothing recorded, nothing shown
            next.length += Int64(bytes.count)
            s = next
            if let data = try? CacheCoding.encoder.encode(next) { try? writeAtomically(data, to: stateURL) }
            return true
        }
        if grew { onGrowth() }
    }

    private static func ending(_ text: String) -> String { text.hasSuffix("\n") ? "\n" : "\n\n" }

    private static func notice(_ text: String) -> String {
        "[\(TranscriptRenderer.timestamp(Int64(Date().timeIntervalSince1970 * 1000)))] notice\n\(text)\n\n"
    }

    /// The stable hash; `continuing` that of the bytes before these (so a text that grows by
    /// increments is hashed without its earlier bytes at hand).
    static func hash(_ bytes: ArraySlice<UInt8>, continuing start: UInt64 = StableHash.offsetBasis) -> UInt64 {
        StableHash.fnv1a(bytes, continuing: start)
    }
}
