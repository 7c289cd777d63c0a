import Foundation
import Synchronization

/// Faults the Sage emulator injects, set at start, in process (`SageEmulatorServer.faults`)
/// or by `POST /_emulator/faults` (a JSON object; absent keys keep their defaults).
public final class SageFaults: Sendable {
    public struct Settings: Codable, Sendable, Equatable {
        /// The next N uploads answer HTTP 500.
        public var failUploads = 0
        /// The next N prompts (`POST /api/web-stream`) answer HTTP 500 and start no run.
        public var failPrompts = 0
        /// Every run stream connection (the prompt's, a resume) is cut after this many chunks
        /// (0: never): the run goes on, the reader has to resume.
        public var dropStreamsAfter = 0
        /// Every API request waits this long before it is answered.
        public var stallSeconds: Double = 0
        /// Download bodies are cut after this many bytes (0: never).
        public var truncateDownloadsAt: Int64 = 0
        /// Routes answered as missing (a bare 404, as the framework does): `active_sessions`,
        /// `resume`, `oauth2` (the token refresh).
        public var missingRoutes: [String] = []

        public init() {}

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            failUploads = try c.decodeIfPresent(Int.self, forKey: .failUploads) ?? 0
            failPrompts = try c.decodeIfPresent(Int.self, forKey: .failPrompts) ?? 0
            dropStreamsAfter = try c.decodeIfPresent(Int.self, forKey: .dropStreamsAfter) ?? 0
            stallSeconds = try c.decodeIfPresent(Double.self, forKey: .stallSeconds) ?? 0
            truncateDownloadsAt = try c.decodeIfPresent(Int64.self, forKey: .truncateDownloadsAt) ?? 0
            missingRoutes = try c.decodeIfPresent([String].self, forKey: .missingRoutes) ?? []
        }
    }

    private let settings: Mutex<Settings>

    init(_ initial: Settings) { settings = Mutex(initial) }

    public var current: Settings { settings.withLock { $0 } }

    public func replace(with new: Settings) { settings.withLock { $0 = new } }

    func isMissing(_ route: String) -> Bool { settings.withLock { $0.missingRoutes.contains(route) } }

    /// True (and one fewer left) when this upload should fail.
    func takeUploadFailure() -> Bool { settings.withLock { $0.failUploads > 0 ? ($0.failUploads -= 1, true).1 : false } }

    func takePromptFailure() -> Bool { settings.withLock { $0.failPrompts > 0 ? ($0.failPrompts -= 1, true).1 : false } }
}
