import ArgumentParser
import Foundation
import Logging
import SynapseCore

enum LogSetup {
    /// Logs go to stderr: the terminal with `-f`, the log file in the background.
    static func bootstrap(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            // Names from the server reach log lines: none may break one.
            return EscapingLogHandler(handler)
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
