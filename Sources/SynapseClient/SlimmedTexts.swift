import Foundation
import Logging
import Synchronization
import SynapseCore

/// `getUiMessageById` slims long texts (seed L142); `messagePayload` gives one message whole
/// (L143). The seed does not say how a cut text is marked, so a final text is completed when
/// - it carries a marker some deployments send (`truncated` and the like, or a `textLength`
///   longer than the text),
/// - it is about as long as a text this server was seen to cut, or
/// - no cut was seen yet and it is long, and longer than every text seen whole: it is checked
///   once, and what the check shows (cut at N, or whole up to N) is remembered on disk.
/// Whole texts are kept on disk, keyed by task, ts and the listed text, so each is fetched once.
final class SlimmedTexts: Sendable {
    /// A message as listed, with whether the server marked its text as cut.
    struct Listed {
        var message: TaskMessage
        var markedCut: Bool
    }

    /// What this server was seen to do, in UTF-16 units (what a JavaScript server counts).
    struct Knowledge: Codable, Equatable {
        /// The shortest listed text seen cut.
        var cutAt: Int?
        /// The longest listed text seen whole.
        var longestWhole = 0
    }

    /// Shorter texts are never checked without a marker (a server that slims keeps short ones).
    static let probeFloor = 256
    /// Servers count characters, code units or bytes: a text this close to a seen cut is checked.
    static let slack = 16
    /// After this many payloads in a row answer 404, the route is taken as missing for this run.
    static let missingAfter = 3

    private let directory: URL?
    private let knowledgeURL: URL?
    private let knowledge: Mutex<Knowledge>
    private let notFoundInARow = Atomic<Int>(0)
    private let logger: Logger

    /// `directory` holds the whole texts and what was learnt (nil: nothing kept).
    init(directory: URL?, server: String, logger: Logger) {
        self.directory = directory
        self.logger = logger
        knowledgeURL = directory?.appendingPathComponent("slimming-\(CacheDirectory.key(server)).json")
        if let directory {
            try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let saved = knowledgeURL.flatMap { try? Data(contentsOf: $0) }.flatMap { try? JSONDecoder().decode(Knowledge.self, from: $0) }
        knowledge = Mutex(saved ?? Knowledge())
    }

    var current: Knowledge { knowledge.withLock { $0 } }

    /// The listed messages with every cut text made whole. `payload` fetches one message's whole
    /// text; a text it cannot get stays as listed (and is tried again next time).
    func complete(_ listed: [Listed], taskId: String, payload: (Int64) throws(RemoteError) -> String?) -> [TaskMessage] {
        listed.map { item in
            var message = item.message
            guard let text = message.text, !(message.partial ?? false), needsCheck(text, marked: item.markedCut) else { return message }
            if let whole = stored(taskId: taskId, ts: message.ts, listed: text) {
                message.text = whole
                return message
            }
            guard notFoundInARow.load(ordering: .relaxed) < Self.missingAfter else { return message }
            do throws(RemoteError) {
                guard let whole = try payload(message.ts) else { return message }
                notFoundInARow.store(0, ordering: .relaxed)
                learn(listed: text, whole: whole)
                store(whole, taskId: taskId, ts: message.ts, listed: text)
                message.text = whole
            } catch .notFound {
                if notFoundInARow.add(1, ordering: .relaxed).newValue == Self.missingAfter {
                    logger.warning("messagePayload answers 404: long messages are shown as getUiMessageById lists them")
                }
            } catch {
                logger.debug("whole text of a message not fetched", metadata: ["task": "\(taskId)", "ts": "\(message.ts)", "error": "\(error)"])
            }
            return message
        }
    }

    private func needsCheck(_ text: String, marked: Bool) -> Bool {
        if marked { return true }
        let length = Self.length(text)
        let known = current
        if let cutAt = known.cutAt { return length + Self.slack >= cutAt }
        return length >= Self.probeFloor && length > known.longestWhole
    }

    private func learn(listed: String, whole: String) {
        let length = Self.length(listed)
        let updated = knowledge.withLock { k -> Knowledge? in
            let before = k
            if whole.utf16.count > listed.utf16.count || whole != listed && !whole.hasPrefix(listed) {
                k.cutAt = min(k.cutAt ?? .max, length)
            } else {
                k.longestWhole = max(k.longestWhole, length)
            }
            return k == before ? nil : k
        }
        guard let updated, let knowledgeURL, let data = try? JSONEncoder().encode(updated) else { return }
        try? writeAtomically(data, to: knowledgeURL)
    }

    /// A listed text's length without a trailing cut marker.
    static func length(_ text: String) -> Int {
        for marker in ["…", "..."] where text.hasSuffix(marker) { return text.utf16.count - marker.utf16.count }
        return text.utf16.count
    }

    private func url(taskId: String, ts: Int64, listed: String) -> URL? {
        directory?.appendingPathComponent(CacheDirectory.key(taskId), isDirectory: true)
            .appendingPathComponent("\(ts)-\(CacheDirectory.key(listed).prefix(16)).txt")
    }

    private func stored(taskId: String, ts: Int64, listed: String) -> String? {
        url(taskId: taskId, ts: ts, listed: listed).flatMap { try? Data(contentsOf: $0) }.map { String(decoding: $0, as: UTF8.self) }
    }

    private func store(_ whole: String, taskId: String, ts: Int64, listed: String) {
        guard let url = url(taskId: taskId, ts: ts, listed: listed) else { return }
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o700])
        try? writeAtomically(Data(whole.utf8), to: url)
    }
}
