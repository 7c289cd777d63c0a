import ArgumentParser
import Foundation
import Logging
import Synchronization
import SynapseCore

/// Where the daemon's log lines go: stderr (the terminal with `-f`, or the log file stderr is
/// pointed at), or syslog (journald) when backgrounded and the system has one.
enum LogDestination: Equatable {
    case standardError
    case syslog

    /// syslog when `/dev/log` (journald's or a syslog daemon's socket) exists.
    static var systemLogAvailable: Bool {
        var st = stat()
        return stat("/dev/log", &st) == 0 && (st.st_mode & S_IFMT) == S_IFSOCK
    }
}

/// The level every handler logs at, changed at run time (SIGUSR2 toggles debug).
final class LogLevelSwitch: Sendable {
    private static let levels = Logger.Level.allCases
    private let current: Atomic<Int>
    private let configured: Logger.Level

    init(_ level: Logger.Level) {
        configured = level
        current = Atomic(Self.levels.firstIndex(of: level) ?? 2)
    }

    var level: Logger.Level { Self.levels[current.load(ordering: .relaxed)] }

    /// Debug if it was not, else back to the configured level; returns the new level.
    func toggleDebug() -> Logger.Level {
        let next: Logger.Level = level <= .debug ? configured : .debug
        current.store(Self.levels.firstIndex(of: next)!, ordering: .relaxed)
        return next
    }
}

enum LogSetup {
    static func bootstrap(_ destination: LogDestination, levels: LogLevelSwitch) {
        if destination == .syslog { openlog("synapsefs", LOG_PID | LOG_NDELAY, LOG_DAEMON) }
        LoggingSystem.bootstrap { label in
            let inner: any LogHandler = destination == .syslog ? SyslogLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            // Names from the server reach log lines: none may break one.
            return EscapingLogHandler(SwitchedLevel(inner, levels: levels))
        }
    }
}

/// A handler whose level is the switch's.
struct SwitchedLevel: LogHandler {
    var inner: any LogHandler
    let levels: LogLevelSwitch

    init(_ inner: any LogHandler, levels: LogLevelSwitch) {
        self.inner = inner
        self.levels = levels
        self.inner.logLevel = .trace
    }

    var logLevel: Logger.Level {
        get { levels.level }
        set {}
    }

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        guard event.level >= levels.level else { return }
        inner.log(event: event)
    }
}

/// One syslog record per event: `label: message key=value…`, at the event's priority.
struct SyslogLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let fields = metadata.merging(event.metadata ?? [:]) { $1 }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let text = "\(label): \(event.message)" + (fields.isEmpty ? "" : " " + fields.joined(separator: " "))
        let priority: Int32 = switch event.level {
        case .trace, .debug: LOG_DEBUG
        case .info: LOG_INFO
        case .notice: LOG_NOTICE
        case .warning: LOG_WARNING
        case .error: LOG_ERR
        case .critical: LOG_CRIT
        }
        withVaList([text]) { vsyslog(priority, "%s", $0) }
    }
}

/// The log file stdout and stderr point at, rotated by size: `synapsefs.log` becomes
/// `synapsefs.log.1` (and so on, `keep` of them) once it passes `limit` bytes.
final class RotatingLogFile: Sendable {
    let url: URL
    let limit: Int64
    let keep: Int
    private let lock = Mutex(())

    init(_ url: URL, limit: Int64 = 10 << 20, keep: Int = 3) {
        self.url = url
        self.limit = limit
        self.keep = keep
    }

    /// Points stdout and stderr at the file (appending).
    func attach() throws {
        try lock.withLock { _ in try reopen() }
    }

    /// Rotates when the file has grown past the limit.
    func rotateIfNeeded() {
        lock.withLock { _ in
            var st = stat()
            guard stat(url.path, &st) == 0, Int64(st.st_size) > limit else { return }
            for n in stride(from: keep - 1, through: 1, by: -1) {
                rename(url.path + ".\(n)", url.path + ".\(n + 1)")
            }
            rename(url.path, url.path + ".1")
            try? reopen()
        }
    }

    private func reopen() throws {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw SettingsError("cannot open log file \(url.path): \(String(cString: strerror(errno)))") }
        dup2(fd, 1)
        dup2(fd, 2)
        close(fd)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
