import Foundation
import Synchronization
import Testing
@testable import SynapseCore

@Suite struct TranscriptLogTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("synapsefs-log-\(UUID().uuidString)")

    func open() throws -> TranscriptLog { try TranscriptLog(taskId: "t1", directory: directory) {} }

    func contents(_ log: TranscriptLog) throws -> String {
        var out = Data()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            let n = try log.read(at: Int64(out.count), into: buffer)
            if n == 0 { return String(decoding: out, as: UTF8.self) }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }

    func snapshot(_ ts: Int64, _ text: String, partial: Bool = true) -> TranscriptEntry {
        TaskMessage(ts: ts, type: "say", say: "text", text: text, partial: partial).entry
    }

    func occurrences(of needle: String, in haystack: String) -> Int { haystack.components(separatedBy: needle).count - 1 }

    @Test func growingSnapshotsAppendOnlyTheirNewSuffix() throws {
        let log = try open()
        var seen: [String] = []
        for text in ["The", "The quick", "The quick brown", "The quick brown fox"] {
            log.apply(snapshot(1000, text))
            let now = try contents(log)
            if let previous = seen.last { #expect(now.hasPrefix(previous)) }
            seen.append(now)
        }
        log.apply(snapshot(1000, "The quick brown fox", partial: false))
        let final = try contents(log)
        #expect(occurrences(of: "The quick brown fox", in: final) == 1)
        #expect(occurrences(of: "] agent", in: final) == 1)
        log.apply(snapshot(1000, "The quick brown fox", partial: false))
        #expect(try contents(log) == final)
    }

    @Test func aSnapshotThatIsNotAnExtensionAppendsAMarkedRewrite() throws {
        let log = try open()
        log.apply(snapshot(1000, "Hello wrld"))
        let before = try contents(log)
        log.apply(snapshot(1000, "Hello world", partial: false))
        let after = try contents(log)
        #expect(after.hasPrefix(before))
        #expect(after.contains("~~ rewritten ~~\nHello world"))
    }

    @Test func changesAfterTheFinalTextBecomeNoticesAndEarlierBytesStay() throws {
        let log = try open()
        log.apply(snapshot(1000, "Final answer", partial: false))
        log.apply(snapshot(2000, "Second", partial: false))
        let before = try contents(log)
        log.apply(snapshot(1000, "Final answer, revised", partial: false))
        log.remove(id: "2000")
        log.remove(id: "2000")
        let after = try contents(log)
        #expect(after.hasPrefix(before))
        #expect(after.contains("] notice\nthe message of"))
        #expect(after.contains("was changed:\nFinal answer, revised"))
        #expect(occurrences(of: "was removed", in: after) == 1)
    }

    /// An old message still marked partial, applied again after newer ones (every catch-up
    /// does), adds nothing: no empty "(continued)" headers pile up.
    @Test func theSamePartialSnapshotAgainAddsNothing() throws {
        let log = try open()
        log.apply(snapshot(1000, "stuck partial"))
        log.apply(snapshot(2000, "later", partial: false))
        let before = try contents(log)
        for _ in 0..<3 {
            log.apply(contentsOf: [snapshot(1000, "stuck partial"), snapshot(2000, "later", partial: false)])
        }
        #expect(try contents(log) == before)
        #expect(occurrences(of: "(continued)", in: before) == 0)
    }

    @Test func aNoticeWaitsForAGrowingMessageSoItsTextStaysWhole() throws {
        let log = try open()
        log.apply(snapshot(1000, "Working on"))
        log.notice("a local notice")
        #expect(try !contents(log).contains("a local notice"))
        log.apply(snapshot(1000, "Working on it now", partial: false))
        let text = try contents(log)
        #expect(text.contains("Working on it now\n\n["))
        #expect(text.hasSuffix("] notice\na local notice\n\n"))
    }

    @Test func anInterruptedMessageContinuesUnderAContinuationHeader() throws {
        let log = try open()
        log.apply(snapshot(1000, "Working on"))
        log.apply(snapshot(2000, "Another voice", partial: false))
        log.apply(snapshot(1000, "Working on it now", partial: false))
        let text = try contents(log)
        #expect(text.contains("Working on\n\n"))
        #expect(text.contains(" (continued)\n it now\n"))
    }

    @Test func theLogSurvivesReopeningAndAppliesNothingTwice() throws {
        let first = try open()
        first.apply(snapshot(1000, "Stays", partial: false))
        first.notice("kept")
        let text = try contents(first)
        let reopened = try open()
        #expect(try contents(reopened) == text)
        reopened.apply(snapshot(1000, "Stays", partial: false))
        #expect(try contents(reopened) == text)
    }

    @Test func aCrashBetweenAppendAndStateIsRenderedAgainIdentically() throws {
        let log = try open()
        log.apply(snapshot(1000, "One", partial: false))
        let stateURL = directory.appendingPathComponent(CacheDirectory.key("t1") + ".json")
        let savedState = try Data(contentsOf: stateURL)
        log.apply(snapshot(2000, "Two", partial: false))
        let whole = try contents(log)
        // The daemon died after the append, before its state was written.
        try savedState.write(to: stateURL)
        let recovered = try open()
        #expect(whole.hasPrefix(try contents(recovered)))
        recovered.apply(snapshot(2000, "Two", partial: false))
        #expect(try contents(recovered) == whole)
    }

    @Test func growthIsAnnounced() throws {
        let count = Atomic<Int>(0)
        let log = try TranscriptLog(taskId: "t2", directory: directory) { count.add(1, ordering: .relaxed) }
        log.apply(snapshot(1, "a"))
        log.apply(snapshot(1, "a"))
        log.apply(snapshot(1, "ab"))
        #expect(count.load(ordering: .relaxed) == 2)
    }
}

/// What the server says of a task and what its stream.log shows arrive together.
@Suite struct StatusAndLogTests {
    @Test func whenStatusSaysCompletedTheLogAlreadyHoldsTheResult() throws {
        let remote = FakeRemote()
        remote.addTask("t1", messages: [TaskMessage(ts: 1000, type: "say", say: "task", text: "Do it")])
        let f = try Fixture(remote: remote, ttl: 0)
        // The log is in use (tail -f), then the event stream drops and the task finishes unseen.
        #expect(try f.text("tasks/t1/stream.log").contains("Do it"))
        remote.state.withLock { s in
            s.messages["t1"]!.append(TaskMessage(ts: 2000, type: "say", say: "text", text: "Working"))
            s.messages["t1"]!.append(TaskMessage(ts: 3000, type: "say", say: "completion_result", text: "All done: 42"))
        }
        #expect(try f.text("tasks/t1/status") == "completed\n")
        // No reconnect, no poll has run: the status read itself brought the log up to date.
        let log = try f.text("tasks/t1/stream.log")
        #expect(log.contains("Working") && log.contains("All done: 42"))
        #expect(log.components(separatedBy: "All done: 42").count == 2)
    }
}

@Suite struct ForeignTaskLogTests {
    /// A task driven by another client sends this mount no events: each open of its
    /// stream.log still shows what the server has, and every final text once.
    @Test func aTaskDrivenElsewhereIsCaughtUpAtEachOpen() throws {
        let remote = FakeRemote()
        remote.addTask("t1", messages: [TaskMessage(ts: 1000, type: "say", say: "task", text: "Foreign prompt"),
                                        TaskMessage(ts: 2000, type: "say", say: "text", text: "Reading", partial: true)])
        let f = try Fixture(remote: remote, ttl: 0)
        let first = try f.text("tasks/t1/stream.log")
        #expect(first.contains("Foreign prompt") && first.contains("Reading"))
        remote.state.withLock { s in
            s.messages["t1"]![1] = TaskMessage(ts: 2000, type: "say", say: "text", text: "Reading the data")
            s.messages["t1"]!.append(TaskMessage(ts: 3000, type: "say", say: "completion_result", text: "Result: 7"))
        }
        let second = try f.text("tasks/t1/stream.log")
        #expect(second.hasPrefix(first))
        #expect(second.contains("Reading the data") && second.contains("Result: 7"))
        #expect(second.components(separatedBy: "Result: 7").count == 2)
        #expect(try f.text("tasks/t1/stream.log") == second)
    }
}

@Suite struct ErrorNotificationTests {
    /// An error that arrives only as a `notification` (no task id, no `api_req_failed` ask)
    /// fails the one task that was active; a new prompt puts it back to running.
    @Test func anErrorNotificationFailsTheActiveTask() throws {
        let remote = FakeRemote()
        remote.addTask("t1", messages: [TaskMessage(ts: 1000, type: "say", say: "task", text: "Go"),
                                        TaskMessage(ts: 2000, type: "say", say: "text", text: "Working", partial: true)])
        let f = try Fixture(remote: remote, ttl: 0)
        #expect(try f.text("tasks/t1/status") == "running\n")
        f.fs.handle(ServerEvent(type: "message.partial", data: #"{"taskId":"t1","message":{"ts":2000,"type":"say","say":"text","text":"Working on","partial":true}}"#))
        f.fs.handle(ServerEvent(type: "notification", data: #"{"type":"error","title":"Billing","message":"quota exceeded"}"#))
        #expect(try f.text("tasks/t1/status") == "failed\n")
        #expect(try f.text("tasks/t1/stream.log").contains("error: Billing: quota exceeded"))
        try f.write(Data("try again".utf8), to: "tasks/t1/prompt.txt")
        #expect(try f.text("tasks/t1/status") == "running\n")
    }
}

/// `message.partial` events carry the whole text so far or only what is new (seed L69, L79):
/// the log reads the same for both.
extension TranscriptLogTests {
    func streamed(_ log: TranscriptLog, _ parts: [String], final: String) {
        for part in parts { log.apply(snapshot(7000, part), from: .partialEvent) }
        log.apply(snapshot(7000, final, partial: false))
    }

    @Test func incrementsAndSnapshotsReadTheSame() throws {
        let snapshots = try open()
        streamed(snapshots, ["The", "The quarterly", "The quarterly numbers show", "The quarterly numbers show steady growth"],
                 final: "The quarterly numbers show steady growth")
        // (Another server: what partials carry is learnt once per mount's log directory.)
        let increments = try TranscriptLog(taskId: "t2", directory: directory.appendingPathComponent("other")) {}
        streamed(increments, ["The", " quarterly", " numbers show", " steady growth"], final: "The quarterly numbers show steady growth")
        #expect(try contents(increments) == (try contents(snapshots)))
        #expect(occurrences(of: "The quarterly numbers show steady growth", in: try contents(increments)) == 1)
        #expect(!(try contents(increments)).contains("rewritten"))
    }

    @Test(arguments: [["Hello", " there", ", reader"], ["Hello", "Hello there", "Hello there, reader"]])
    func partialEventsGrowTheLogAsTheyArrive(parts: [String]) throws {
        let log = try open()
        var lengths: [Int64] = []
        for part in parts {
            log.apply(snapshot(7000, part), from: .partialEvent)
            lengths.append(log.length)
        }
        #expect(lengths == lengths.sorted() && Set(lengths).count == 3, "\(lengths)")
        #expect(try contents(log).hasSuffix("Hello there, reader"))
    }

    /// A removed message's notice comes after its text, on a line of its own; one removed while
    /// another message grows waits for that one to end.
    @Test func aRemovalIsNotedAfterTheTextItRemoves() throws {
        let log = try open()
        log.apply(snapshot(7000, "Let me"), from: .partialEvent)
        log.remove(id: "7000")
        #expect(try contents(log).contains("Let me\n\n["))
        log.apply(snapshot(7100, "Other"), from: .partialEvent)
        log.apply(snapshot(7200, "Growing"), from: .partialEvent)
        log.remove(id: "7100")
        log.apply(snapshot(7200, "Growing text", partial: false))
        let text = try contents(log)
        #expect(text.contains("Growing text\n\n[") && text.hasSuffix("was removed\n\n"), "\(text)")
    }

    /// Once increments are learnt, one that happens to repeat the text so far is still new text.
    @Test func aLearntIncrementThatRepeatsTheTextIsStillAppended() throws {
        let log = try open()
        streamed(log, ["Hello", " world"], final: "Hello world")
        log.apply(snapshot(8000, "ha"), from: .partialEvent)
        log.apply(snapshot(8000, "ha"), from: .partialEvent)
        log.apply(snapshot(8000, "haha", partial: false))
        let text = try contents(log)
        #expect(occurrences(of: "haha\n", in: text) == 1 && !text.contains("rewritten"), "\(text)")
    }

    /// A poll of a message that events are feeding is older news: it adds nothing, whichever
    /// kind the partials are; the final text still arrives once.
    @Test func aPollOfAStreamedMessageAddsNothing() throws {
        let log = try open()
        log.apply(snapshot(7000, "One"), from: .partialEvent)
        log.apply(snapshot(7000, " two"), from: .partialEvent)
        log.apply(contentsOf: [snapshot(7000, "One two three")])
        log.apply(snapshot(7000, " three"), from: .partialEvent)
        log.apply(snapshot(7000, "One two three", partial: false))
        let text = try contents(log)
        #expect(occurrences(of: "One two three\n", in: text) == 1 && !text.contains("rewritten") && !text.contains("continued"), "\(text)")
    }

    /// Partials after the final text (late events) change nothing.
    @Test func aPartialAfterTheFinalTextIsIgnored() throws {
        let log = try open()
        streamed(log, ["A", " B"], final: "A B")
        let before = try contents(log)
        log.apply(snapshot(7000, " C"), from: .partialEvent)
        #expect(try contents(log) == before)
    }

    /// What kind partials are survives a restart of the daemon.
    @Test func theKindOfPartialsIsRemembered() throws {
        do {
            let log = try open()
            streamed(log, ["x", " y"], final: "x y")
        }
        let again = try open()
        again.apply(snapshot(9000, "xy"), from: .partialEvent)
        again.apply(snapshot(9000, "xy"), from: .partialEvent)
        #expect(try contents(again).hasSuffix("xyxy"))
    }
}

/// A log in use is reconciled whenever the server says its task changed: `state.ready`, or a
/// new `updated_at` in the task list, with no new open of stream.log.
@Suite struct ServerChangeTests {
    func continuedElsewhere(_ remote: FakeRemote) {
        remote.state.withLock { s in
            s.messages["t1"]!.append(TaskMessage(ts: 3000, type: "say", say: "user_feedback", text: "And the south?"))
            s.messages["t1"]!.append(TaskMessage(ts: 4000, type: "say", say: "completion_result", text: "South: flat"))
        }
    }

    func fixture() throws -> (Fixture, UInt64) {
        let remote = FakeRemote()
        remote.addTask("t1", messages: [TaskMessage(ts: 1000, type: "say", say: "task", text: "North?"),
                                        TaskMessage(ts: 2000, type: "say", say: "completion_result", text: "North: up")])
        let f = try Fixture(remote: remote, ttl: 60)
        let fh = try f.fs.open(try f.resolve("tasks/t1/stream.log"), writing: false, truncating: false).handle
        #expect(String(decoding: try f.read(fh), as: UTF8.self).contains("North: up"))
        return (f, fh)
    }

    @Test func stateReadyReconcilesTheLogInUse() throws {
        let (f, fh) = try fixture()
        defer { f.fs.release(fh) }
        continuedElsewhere(f.remote)
        f.fs.followLogs()
        #expect(!String(decoding: try f.read(fh), as: UTF8.self).contains("South: flat"))
        f.fs.handle(ServerEvent(type: "state.ready", data: #"{"taskId":"t1"}"#))
        f.fs.followLogs()
        let log = String(decoding: try f.read(fh), as: UTF8.self)
        #expect(log.contains("And the south?") && log.components(separatedBy: "South: flat").count == 2, "\(log)")
    }

    @Test func aNewUpdatedAtInTheListReconcilesTheLogInUse() throws {
        let (f, fh) = try fixture()
        defer { f.fs.release(fh) }
        _ = try f.taskFolders()
        continuedElsewhere(f.remote)
        f.remote.state.withLock { s in s.tasks[0].updatedAt = Date() }
        f.fs.catalog.invalidate()
        _ = try f.taskFolders()
        f.fs.followLogs()
        #expect(String(decoding: try f.read(fh), as: UTF8.self).contains("South: flat"))
    }
}

@Suite struct PeriodicWorkerTests {
    /// `stop()` ends the loop, cancels the tick in progress, and a second call returns at once.
    @Test func stopCancelsTheTickInProgressAndEndsTheLoop() {
        let ticks = Mutex(0)
        let sawCancellation = Mutex(false)
        let worker = PeriodicWorker.start(name: "test-worker", interval: 0.01) {
            ticks.withLock { $0 += 1 }
            // A tick that waits on something: it ends once its cancellation is set.
            let deadline = Date().addingTimeInterval(5)
            while Cancellation.current?.isCancelled != true, Date() < deadline { usleep(1000) }
            sawCancellation.withLock { $0 = Cancellation.current?.isCancelled == true }
        }
        while ticks.withLock({ $0 }) == 0 { usleep(1000) }
        let start = Date()
        worker.stop()
        worker.stop()
        #expect(Date().timeIntervalSince(start) < 2)
        #expect(sawCancellation.withLock { $0 })
        let after = ticks.withLock { $0 }
        usleep(50_000)
        #expect(ticks.withLock { $0 } == after)
    }
}

extension TranscriptLogTests {
    /// A poll that is ahead of the events (a first reconcile, a status read) is no evidence:
    /// a lagging snapshot after it teaches nothing and adds nothing, and the final text ends
    /// the message once.
    @Test func aLaggingSnapshotAfterAPollTeachesNothing() throws {
        let log = try open()
        log.apply(contentsOf: [snapshot(7000, "Hello wor")])
        log.apply(snapshot(7000, "Hello"), from: .partialEvent)
        log.apply(snapshot(7000, "Hello world"), from: .partialEvent)
        log.apply(snapshot(7000, "Hello world!", partial: false))
        let text = try contents(log)
        #expect(occurrences(of: "Hello world!", in: text) == 1 && !text.contains("rewritten") && !text.contains("HelloHello"), "\(text)")
        // Snapshots elsewhere still read as snapshots.
        log.apply(snapshot(8000, "Second message, long enough"), from: .partialEvent)
        log.apply(snapshot(8000, "Second message, long enough to settle it"), from: .partialEvent)
        log.apply(snapshot(8000, "Second message, long enough to settle it.", partial: false))
        #expect(occurrences(of: "Second message, long enough to settle it.", in: try contents(log)) == 1)
    }

    /// A final text that contradicts what the learnt kind built makes the kind learnt again.
    @Test func aContradictingFinalTextForgetsTheKind() throws {
        let log = try open()
        streamed(log, ["abc", "abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz0123"], final: "abcdefghijklmnopqrstuvwxyz0123")
        // Wrongly taken as snapshots: these are increments repeating the start.
        log.apply(snapshot(9000, "abcdefghijklmnopqrstuvwxyz"), from: .partialEvent)
        log.apply(snapshot(9000, "abcdefghijklmnopqrstuvwxyz!"), from: .partialEvent)
        log.apply(snapshot(9000, "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz!", partial: false))
        log.apply(snapshot(9100, "one"), from: .partialEvent)
        log.apply(snapshot(9100, " two"), from: .partialEvent)
        log.apply(snapshot(9100, "one two", partial: false))
        let text = try contents(log)
        #expect(occurrences(of: "one two\n", in: text) == 1 && occurrences(of: "rewritten", in: text) == 1, "\(text)")
    }

    /// A `message.partial` whose message says `partial: false` in increments ends the message
    /// with its last piece.
    @Test func aFinalPartialEventOfIncrementsEndsWithItsLastPiece() throws {
        let log = try open()
        log.apply(snapshot(7000, "One"), from: .partialEvent)
        log.apply(snapshot(7000, " two"), from: .partialEvent)
        log.apply(snapshot(7000, " three", partial: false), from: .partialEvent)
        log.apply(snapshot(7100, "Next", partial: false))
        let text = try contents(log)
        #expect(text.contains("One two three\n\n[") && !text.contains("continued"), "\(text)")
    }
}

/// Logs written by version 0.11 (entries keyed by an Int64 `ts`) are read by this one: the
/// bytes stay, nothing is shown twice, and the log goes on.
@Suite struct LegacyLogTests {
    /// A task's log as 0.11 left it (a real mount of its built-in emulator: a prompt, a draft
    /// the agent took back, a reply, the result).
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/logs-0.11")
    static let taskId = "85f766d1-e82e-4a92-b4a4-409a46fe662a"

    @Test func aLogOfVersion0_11IsMigratedWithNothingLostOrRepeated() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("synapsefs-legacy-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.copyItem(at: Self.fixture, to: directory)
        let before = try Data(contentsOf: directory.appendingPathComponent(CacheDirectory.key(Self.taskId) + ".log"))
        let log = try TranscriptLog(taskId: Self.taskId, directory: directory) {}
        #expect(log.length == Int64(before.count))
        #expect(log.lastEntryId == "1796239219541")
        // The same transcript again (as a reconcile brings it): nothing new.
        let transcript = Transcript([
            TaskMessage(ts: 1_796_239_219_476, type: "say", say: "task", text: "Tell me [emu:words 12] [emu:delay 5] [emu:retract]"),
            TaskMessage(ts: 1_796_239_219_503, type: "say", say: "text", text: "the quarterly numbers show steady growth in the north while the south"),
            TaskMessage(ts: 1_796_239_219_541, type: "say", say: "completion_result", text: "Done: report.md and data/summary.csv are in the workspace."),
        ])
        log.apply(contentsOf: transcript.entries)
        // The draft taken back stays taken back.
        log.apply(TaskMessage(ts: 1_796_239_219_492, type: "say", say: "text", text: "Let me think about more", partial: true).entry, from: .partialEvent)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let n = try buffer.withUnsafeMutableBytes { try log.read(at: 0, into: $0) }
        #expect(Data(buffer[0..<n]) == before)
        // And it goes on: a new prompt and reply append after the old bytes.
        log.apply(TaskMessage(ts: 1_796_239_300_000, type: "say", say: "user_feedback", text: "And the south?").entry)
        #expect(log.length > Int64(before.count))
        let reopened = try TranscriptLog(taskId: Self.taskId, directory: directory) {}
        #expect(reopened.length == log.length && reopened.lastEntryId == "1796239300000")
    }
}
