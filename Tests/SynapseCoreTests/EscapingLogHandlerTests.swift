import Foundation
import Logging
import Synchronization
import Testing
@testable import SynapseCore

@Suite struct EscapingLogHandlerTests {
    @Test func aNewlineInATaskIdCannotInjectALogLine() {
        let lines = LogRecorder.Lines()
        let logger = Logger(label: "test") { _ in EscapingLogHandler(LogRecorder(lines: lines)) }
        let hostile = "t1\n2026-01-01T00:00:00 error synapsefs: forged\u{1B}[31m"
        logger.warning("upload failed for \(hostile)", metadata: ["task": "\(hostile)", "list": .array([.string("a\rb")])])
        let logged = lines.all
        #expect(logged.count == 1)
        #expect(!logged[0].contains("\n") && !logged[0].contains("\r") && !logged[0].contains("\u{1B}"))
        #expect(logged[0].contains("t1\\n2026-01-01T00:00:00 error synapsefs: forged\\u{1B}[31m"))
        #expect(EscapingLogHandler.escaped("plain text é 界") == "plain text é 界")
    }
}
