import Foundation
import Logging
import Testing
@testable import SynapseCore

/// An `FSError` says where it comes from and how loudly to log it; the core leaves the
/// logging of a failure it throws to the one place that replies with it.
@Suite struct ErrorReportingTests {
    func fixture(_ lines: LogRecorder.Lines) throws -> Fixture {
        let remote = FakeRemote()
        remote.addTask("t1", messages: [TaskMessage(ts: 1, type: "say", say: "completion_result", text: "done")])
        return try Fixture(remote: remote, logger: Logger(label: "test") { _ in LogRecorder(lines: lines) })
    }

    /// What was logged at `level` or above, but the server's health changing (logged once
    /// per change, not per failure).
    func failures(_ lines: LogRecorder.Lines, _ level: Logger.Level) -> [String] {
        lines.atLeast(level).filter { !$0.hasPrefix("server unreachable") && !$0.hasPrefix("server reachable") }
    }

    @Test func aFailedSendIsTheServersFaultAndTheCoreDoesNotLogItToo() throws {
        let lines = LogRecorder.Lines()
        let f = try fixture(lines)
        f.remote.state.withLock { $0.failSends = 1 }
        let error = #expect(throws: FSError.self) { try f.write(Data("hello".utf8), to: "tasks/t1/prompt.txt") }
        #expect(error?.errno == EIO)
        #expect(error?.source == .server)
        // A 500 is the server's state, which ServerHealth logs once as it changes; each
        // operation it fails is noted at info.
        #expect(error?.level == .info)
        #expect(error?.message.contains("t1") == true)
        #expect(failures(lines, .info).isEmpty, "logged besides the reply: \(failures(lines, .info))")
        // Where the user looks, it is said all the same.
        #expect(try f.text("tasks/t1/stream.log").contains("prompt not sent"))
    }

    @Test func aServerAnsweringWhatItShouldNotIsAWarningAndAGoneCallerQuiet() {
        #expect(RemoteError.malformed("no items").fsError.level == .warning)
        #expect(RemoteError.server(status: 409, message: "conflict").fsError.level == .warning)
        #expect(RemoteError.unreachable("refused").fsError.level == .info)
        #expect(RemoteError.rejectedKey("1101").fsError.level == .info)
        #expect(RemoteError.interrupted("killed").fsError.level == .debug)
        #expect(RemoteError.notFound("t9").fsError.source == .request)
    }

    @Test func whatEveryShellProbesForIsQuietAndRefusalsAreNot() throws {
        let f = try fixture(LogRecorder.Lines())
        let missing = #expect(throws: FSError.self) { try f.resolve("tasks/t1/no-such-file") }
        #expect(missing?.errno == ENOENT)
        #expect(missing?.source == .request)
        #expect(missing?.level == .debug)
        let refused = #expect(throws: FSError.self) { try f.write(Data("delete\n".utf8), to: "tasks/t1/ctl") }
        #expect(refused?.errno == EPERM)
        #expect(refused?.level == .warning, "a refused delete is worth an operator's attention")
        let unknown = #expect(throws: FSError.self) { try f.write(Data("frobnicate\n".utf8), to: "tasks/t1/ctl") }
        #expect(unknown?.errno == EINVAL)
        #expect(unknown?.level == .info)
    }

    @Test func aSystemCallsFailureSaysWhetherTheDiskFailedOrTheNameWasWrong() {
        let missing = #expect(throws: FSError.self) { try Syscall.check(unlink("/nonexistent-\(UUID().uuidString)"), "removing") }
        #expect(missing?.errno == ENOENT)
        #expect(missing?.source == .request)
        let badDescriptor = #expect(throws: FSError.self) { try Syscall.check(fsync(-1), "fsync") }
        #expect(badDescriptor?.errno == EBADF)
        #expect(badDescriptor?.source == .disk)
        #expect(badDescriptor?.level == .error)
        #expect(badDescriptor?.message.hasPrefix("fsync: ") == true)
    }

    @Test func aBackgroundUploadFailureHasNoCallerSoTheWorkerLogsItOnce() throws {
        let lines = LogRecorder.Lines()
        let f = try fixture(lines)
        f.remote.state.withLock { $0.failUploads = 2 }
        let (_, opened) = try f.fs.create(parent: try f.resolve("tasks/t1/uploads"), name: "data.csv", exclusive: false, appending: false)
        _ = try f.fs.write(opened.handle, at: 0, data: bytes(1000))
        #expect((#expect(throws: FSError.self) { try f.fs.flush(opened.handle) })?.source == .server)
        f.fs.release(opened.handle)
        #expect(failures(lines, .warning).isEmpty, "close() replies with the failure; the core logs nothing")
        let workers = f.fs.startWorkers()
        defer { workers.stop() }
        let deadline = Date().addingTimeInterval(10)
        while f.remote.state.withLock({ $0.uploads.isEmpty }), Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(f.remote.state.withLock { $0.uploads.count } == 1)
        let warnings = failures(lines, .warning)
        #expect(warnings.count == 1, "\(warnings)")
        #expect(warnings.first?.contains("upload of data.csv to t1 failed") == true)
    }
}
