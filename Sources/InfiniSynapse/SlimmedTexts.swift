import Foundation
import Logging
import Synchronization
import SynapseCore
import SynapseHTTP

/// `getUiMessageById` slims long texts (seed L142); `messagePayload` gives one message whole
/// (L143). The seed does not say how a cut text is marked, so a final text is completed when
/// - it carries a marker some deployments send (`truncated` and the like, or a `textLength`
///   longer than the text),
/// - it is about as long as a text this server was seen to cut, or
/// - no cut was seen yet and it is long, and longer than every text seen whole: it is checked
///   once, and what the check shows (cut at N, or whole up to N) is remembered on disk.
/// Whole texts are kept on disk, keyed by task, ts and the listed text, so each is fetched once.
/// A message still growing is not fetched: a cut marker at its end is dropped, so the listed
/// text stays the start of what follows.
final class SlimmedTexts: Sendable {
    /// A message as listed, with whether the server marked its text as cut.
    struct Listed {
        var message: UIMessage
        var markedCut: Bool
    }

    /// What this server was seen to do, in UTF-16 units (what a JavaScript server counts).
    struct Knowledge: Codable, Equatable {
        /// The shortest listed text seen cut.
        var cutAt: Int?
        /// The longest listed text seen whole.
        var longestWhole = 0
    }

    /// Shorter texts are never checked without a marker, nor learnt from (a server that
    /// slims keeps short texts whole).
    static let probeFloor = 256
    /// Servers count characters, code units or bytes: a text this close to a seen cut is checked.
    static let slack = 16
    /// The most whole texts fetched for one listing, and the most bytes of them held: a
    /// hostile list that marks every text cut costs bounded work per read; the rest come later.
    static let fetchesPerListing = 200
    static let bytesPerListing = 64 << 20
    /// After this many different messages in a row answer 404, the route is taken as missing
    /// until `missingRetry` seconds have passed.
    static let missingAfter = 3
    static let missingRetry = 600.0
    /// A text whose whole could not be had is not asked for again for this long.
    static let failureRetry = 60.0

    private struct Failures {
        var until: [String: Double] = [:]
        var notFoundInARow = 0
        var routeMissingUntil: Double?
    }

    private let directory: URL?
    private let knowledgeURL: URL?
    private let knowledge: Mutex<Knowledge>
    private let failures = Mutex(Failures())
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

    private static var now: Double { ProcessInfo.processInfo.systemUptime }

    /// The listed messages with every cut text made whole. `payload` fetches one message's whole
    /// text. A text it cannot get stays as listed and is tried again later, except when the
    /// server cannot be reached: then the whole listing fails, as any request would, so a cut
    /// text is never taken for a final one because of a network blip.
    func complete(_ listed: [Listed], taskId: String, payload: (Int64) throws(RemoteError) -> String?) throws(RemoteError) -> [UIMessage] {
        // A list over the mount's limit is refused by the caller: nothing to complete.
        guard listed.count <= TaskDetails.maxMessages else { return listed.map(\.message) }
        var fetches = 0
        var held = 0
        var messages: [UIMessage] = []
        messages.reserveCapacity(listed.count)
        for item in listed {
            var message = item.message
            defer { messages.append(message) }
            guard let text = message.text, looksCut(text, marked: item.markedCut) else { continue }
            if message.partial ?? false {
                message.text = Self.withoutMarker(text)
                continue
            }
            let key = Self.key(taskId, message.ts, text)
            if let whole = stored(key) {
                message.text = whole
                continue
            }
            guard fetches < Self.fetchesPerListing, held < Self.bytesPerListing, mayAsk(key) else { continue }
            fetches += 1
            do throws(RemoteError) {
                guard let whole = try payload(message.ts) else {
                    failed(key, notFound: false)
                    continue
                }
                answered()
                learn(listed: text, whole: whole)
                store(whole, key)
                held += whole.utf8.count
                message.text = whole
            } catch {
                switch error {
                case .unreachable, .timedOut, .interrupted, .rejectedKey, .untrustedServer: throw error
                case .server(let status, _) where status >= 500: throw error
                case .notFound: failed(key, notFound: true)
                case .routeMissing: failed(key, notFound: true, routeMissing: true)
                default: failed(key, notFound: false)
                }
                logger.debug("whole text of a message not fetched", metadata: ["task": "\(taskId)", "ts": "\(message.ts)", "error": "\(error)"])
            }
        }
        return messages
    }

    /// Whether a listed text may have been cut.
    private func looksCut(_ text: String, marked: Bool) -> Bool {
        if marked { return true }
        let length = Self.length(text)
        let known = current
        if let cutAt = known.cutAt { return length + Self.slack >= cutAt }
        return length >= Self.probeFloor && length > known.longestWhole
    }

    /// Learns from a text seen whole: cut at its listed length (only when the whole text
    /// starts with it and is longer), or whole up to it.
    private func learn(listed: String, whole: String) {
        let length = Self.length(listed)
        guard length >= Self.probeFloor else { return }
        let start = Self.withoutMarker(listed)
        knowledge.withLock { k in
            let before = k
            if whole.utf16.count > start.utf16.count, whole.hasPrefix(start) {
                k.cutAt = min(k.cutAt ?? .max, length)
            } else if whole == listed {
                k.longestWhole = max(k.longestWhole, length)
            }
            guard k != before, let knowledgeURL, let data = try? JSONEncoder().encode(k) else { return }
            try? writeAtomically(data, to: knowledgeURL)
        }
    }

    private func mayAsk(_ key: String) -> Bool {
        failures.withLock { f in
            if let until = f.routeMissingUntil {
                guard Self.now >= until else { return false }
                f.routeMissingUntil = nil
            }
            guard let until = f.until[key] else { return true }
            if Self.now >= until { f.until[key] = nil }
            return Self.now >= until
        }
    }

    private func answered() { failures.withLock { $0.notFoundInARow = 0 } }

    private func failed(_ key: String, notFound: Bool, routeMissing knownMissing: Bool = false) {
        let routeMissing = failures.withLock { f -> Bool in
            // Bounded: a hostile server cannot grow it past a few thousand keys.
            if f.until.count > 4096 { f.until.removeAll() }
            f.until[key] = Self.now + Self.failureRetry
            guard notFound else { return false }
            f.notFoundInARow += 1
            guard knownMissing || f.notFoundInARow >= Self.missingAfter else { return false }
            f.notFoundInARow = 0
            f.routeMissingUntil = Self.now + Self.missingRetry
            return true
        }
        if routeMissing {
            logger.warning("messagePayload answers 404: long messages are shown as getUiMessageById lists them (asking again in 10 minutes)")
        }
    }

    /// A listed text's length without a trailing cut marker.
    static func length(_ text: String) -> Int { withoutMarker(text).utf16.count }

    static func withoutMarker(_ text: String) -> String {
        for marker in ["…", "..."] where text.hasSuffix(marker) { return String(text.dropLast(marker.count)) }
        return text
    }

    private static func key(_ taskId: String, _ ts: Int64, _ listed: String) -> String {
        CacheDirectory.key(taskId) + "/\(ts)-\(CacheDirectory.key(listed).prefix(16)).txt"
    }

    private func stored(_ key: String) -> String? {
        directory.flatMap { try? Data(contentsOf: $0.appendingPathComponent(key)) }.map { String(decoding: $0, as: UTF8.self) }
    }

    private func store(_ whole: String, _ key: String) {
        guard let url = directory?.appendingPathComponent(key) else { return }
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o700])
        try? writeAtomically(Data(whole.utf8), to: url)
    }
}
