import Foundation
import Synchronization

/// Faults the emulator injects, set by flags at start or by `POST /_emulator/faults`.
final class Faults: Sendable {
    struct Settings: Codable, Sendable, Equatable {
        /// The next N uploads answer HTTP 500.
        var failUploads = 0
        /// The next N `/api/ai/message` posts answer HTTP 500.
        var failMessages = 0
        /// SSE connections are dropped every this many seconds (0: never).
        var dropSSEEvery: Double = 0
        /// Every API request waits this long before it is answered.
        var stallSeconds: Double = 0
        /// Download bodies are cut after this many bytes (0: never).
        var truncateDownloadsAt: Int64 = 0
        /// Ranged downloads answer 206 with the file's bytes from 0, saying so in Content-Range
        /// (a server that mishandles ranges).
        var misplacedRanges = false
        /// Download bodies go on with zeros after the file's bytes, with no length, until the
        /// client hangs up (a server that never stops).
        var endlessDownloads = false
        /// The first seeded task's workspace listing and message list get this many more
        /// (synthetic) entries each: a hostile server's oversized answers.
        var inflateListings = 0
        /// The task list claims this many pages, whatever it holds (0: the truth).
        var claimTotalPages = 0
        /// Routes answered as missing (`list`, `taskInfo`, `download`, `upload`, `cancel`, `payload`),
        /// in `missingRouteStyle`: `envelope` (a JSON 404 envelope), `framework`
        /// (`{statusCode, message: "Cannot GET …"}`) or `empty` (a bare 404).
        var missingRoutes: [String] = []
        var missingRouteStyle = "envelope"
        /// Every API request is answered as with a rejected key (code 1101), with HTTP status
        /// `rejectKeysWithStatus` (200, as some deployments answer, or 401); 0: never.
        var rejectKeysWithStatus = 0
        /// How the `failMessages` failures answer, as the seed shows (L103–105): `http500`, or
        /// HTTP 200 with `{success: false, error}` (`error`) or `{success: false, notification}`
        /// (`notification`).
        var failMessagesAs = "http500"
        /// The shape of `getUiMessageById`'s answer (API notes): `array` (`data` is the list),
        /// `messages` or `uiMessages` (`data: {messages: […]}`), or `bare` (no envelope at all).
        var messageListShape = "array"
        /// `getUiMessageById` slims texts longer than this many characters (seed L142; the
        /// full text comes from `messagePayload`); 0: never.
        var slimMessagesOver = 4000
        /// How a slimmed text is marked: `none` (just cut), `ellipsis` (cut, then "…") or
        /// `flag` (`truncated: true` and the full `textLength`).
        var slimMarker = "none"
        /// `message.partial` as `snapshots` (the whole text so far) or `increments` (only
        /// what is new): the seed allows both (L69, L79).
        var partialsAs = "snapshots"

        init() {}

        /// Absent keys keep their defaults, so `{"failUploads": 1}` is a whole request.
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            failUploads = try c.decodeIfPresent(Int.self, forKey: .failUploads) ?? 0
            failMessages = try c.decodeIfPresent(Int.self, forKey: .failMessages) ?? 0
            dropSSEEvery = try c.decodeIfPresent(Double.self, forKey: .dropSSEEvery) ?? 0
            stallSeconds = try c.decodeIfPresent(Double.self, forKey: .stallSeconds) ?? 0
            truncateDownloadsAt = try c.decodeIfPresent(Int64.self, forKey: .truncateDownloadsAt) ?? 0
            misplacedRanges = try c.decodeIfPresent(Bool.self, forKey: .misplacedRanges) ?? false
            endlessDownloads = try c.decodeIfPresent(Bool.self, forKey: .endlessDownloads) ?? false
            inflateListings = try c.decodeIfPresent(Int.self, forKey: .inflateListings) ?? 0
            claimTotalPages = try c.decodeIfPresent(Int.self, forKey: .claimTotalPages) ?? 0
            missingRoutes = try c.decodeIfPresent([String].self, forKey: .missingRoutes) ?? []
            missingRouteStyle = try c.decodeIfPresent(String.self, forKey: .missingRouteStyle) ?? "envelope"
            rejectKeysWithStatus = try c.decodeIfPresent(Int.self, forKey: .rejectKeysWithStatus) ?? 0
            failMessagesAs = try c.decodeIfPresent(String.self, forKey: .failMessagesAs) ?? "http500"
            messageListShape = try c.decodeIfPresent(String.self, forKey: .messageListShape) ?? "array"
            slimMessagesOver = try c.decodeIfPresent(Int.self, forKey: .slimMessagesOver) ?? 4000
            slimMarker = try c.decodeIfPresent(String.self, forKey: .slimMarker) ?? "none"
            partialsAs = try c.decodeIfPresent(String.self, forKey: .partialsAs) ?? "snapshots"
        }
    }

    private let settings: Mutex<Settings>

    init(_ initial: Settings) { settings = Mutex(initial) }

    var current: Settings { settings.withLock { $0 } }

    func replace(with new: Settings) { settings.withLock { $0 = new } }

    /// True (and one fewer left) when this upload should fail.
    func takeUploadFailure() -> Bool { settings.withLock { $0.failUploads > 0 ? ($0.failUploads -= 1, true).1 : false } }

    func takeMessageFailure() -> Bool { settings.withLock { $0.failMessages > 0 ? ($0.failMessages -= 1, true).1 : false } }
}
