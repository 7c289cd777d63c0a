import Foundation
import Synchronization

/// Faults the Asyncat emulator injects, set at start, in process or by `POST /_emulator/faults`.
public final class AsyncatFaults: Sendable {
    public struct Settings: Codable, Sendable, Equatable {
        /// The next N runs answer HTTP 500 before any event.
        public var failPrompts = 0
        /// Every run stream is cut after this many events (0: never): the run stops with it.
        public var dropStreamsAfter = 0
        /// Every API request waits this long before it is answered.
        public var stallSeconds: Double = 0
        /// Artifact download bodies are cut after this many bytes (0: never).
        public var truncateDownloadsAt: Int64 = 0
        /// The next N chat saves answer HTTP 500.
        public var failSaves = 0

        public init() {}

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            failPrompts = try c.decodeIfPresent(Int.self, forKey: .failPrompts) ?? 0
            dropStreamsAfter = try c.decodeIfPresent(Int.self, forKey: .dropStreamsAfter) ?? 0
            stallSeconds = try c.decodeIfPresent(Double.self, forKey: .stallSeconds) ?? 0
            truncateDownloadsAt = try c.decodeIfPresent(Int64.self, forKey: .truncateDownloadsAt) ?? 0
            failSaves = try c.decodeIfPresent(Int.self, forKey: .failSaves) ?? 0
        }
    }

    private let settings: Mutex<Settings>

    init(_ initial: Settings) { settings = Mutex(initial) }

    public var current: Settings { settings.withLock { $0 } }

    public func replace(with new: Settings) { settings.withLock { $0 = new } }

    func takePromptFailure() -> Bool { settings.withLock { $0.failPrompts > 0 ? ($0.failPrompts -= 1, true).1 : false } }

    func takeSaveFailure() -> Bool { settings.withLock { $0.failSaves > 0 ? ($0.failSaves -= 1, true).1 : false } }
}
