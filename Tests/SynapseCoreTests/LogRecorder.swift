import Logging
import Synchronization

/// A log handler that records each line that reaches it, with its level and metadata.
struct LogRecorder: LogHandler {
    final class Lines: Sendable {
        let logged = Mutex<[(line: String, level: Logger.Level)]>([])

        var all: [String] { logged.withLock { $0.map(\.line) } }

        /// The lines logged at `level` or above.
        func atLeast(_ level: Logger.Level) -> [String] {
            logged.withLock { $0.filter { $0.level >= level }.map(\.line) }
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
        let line = ([event.message.description] + fields).joined(separator: " ")
        lines.logged.withLock { $0.append((line, event.level)) }
    }
}
