import Logging
import Synchronization

/// A log handler that records each line that reaches it, with its level and metadata.
struct LogRecorder: LogHandler {
    final class Lines: Sendable {
        let all = Mutex<[String]>([])
        let levels = Mutex<[Logger.Level]>([])

        /// The lines logged at `level` or above.
        func atLeast(_ level: Logger.Level) -> [String] {
            let (all, levels) = (all.withLock { $0 }, levels.withLock { $0 })
            return zip(all, levels).filter { $0.1 >= level }.map(\.0)
        }
    }

    let lines: Lines
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        lines.all.withLock { $0.append(([event.message.description] + fields).joined(separator: " ")) }
        lines.levels.withLock { $0.append(event.level) }
    }
}
