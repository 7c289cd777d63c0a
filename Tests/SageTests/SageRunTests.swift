import Foundation
import Sage
import SageEmulator
import SynapseCore
import SynapseEmulatorKit
import SynapseHTTP
import Synchronization
import Testing

/// The Sage client's prompts and runs against the emulator: the run's stream summed into
/// entries and handed to the feed, resumed after drops, one run at a time, runs started
/// elsewhere followed, refusals reported to the sender.
@Suite struct SageRunTests {
    /// The scripted agent's reply of `words` words.
    static func reply(words: Int) -> String { (0..<words).map { Directives.vocabularyWord($0) + " " }.joined() }

    /// Follows the client's feed on a thread until `done` says so (or `seconds` pass), and
    /// returns every event it handed on.
    static func feed(of client: SageClient, seconds: Double = 20, until done: @escaping @Sendable ([FeedEvent]) -> Bool) async throws -> [FeedEvent] {
        try await offPool {
            let events = Mutex<[FeedEvent]>([])
            // The feed may be quiet: the deadline ends it from outside, as unmount does.
            let deadline = Cancellation()
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { deadline.cancel() }
            try Cancellation.run(deadline) {
                try client.followFeed { event in
                    let all = events.withLock { $0.append(event); return $0 }
                    return !done(all)
                }
            }
            return events.withLock { $0 }
        }
    }

    /// The newest answer the feed handed on (a followed run first repeats the stored ones).
    static func finalResult(_ taskId: String, in events: [FeedEvent]) -> TranscriptEntry? {
        var found: TranscriptEntry?
        for case .entry(let id, let entry) in events where id == taskId && entry.speaker == .result && entry.isFinal { found = entry }
        return found
    }

    @Test func aPromptsRunIsSummedIntoItsAnswerAfterThePrompt() async throws {
        let live = try await LiveSage.start()
        defer { Task { await live.stop() }; }
        let client = try live.client()
        _ = try await offPool { try client.send(Prompt(taskId: "sess_new", text: "Hello [emu:words 12]", startsTask: true)) }
        let events = try await Self.feed(of: client) { Self.finalResult("sess_new", in: $0) != nil }
        let entries = events.compactMap { event -> TranscriptEntry? in
            switch event {
            case .entry(_, let e), .partial(_, let e): e
            default: nil
            }
        }
        #expect(entries.first?.speaker == .user && entries.first?.text == "Hello [emu:words 12]")
        #expect(Self.finalResult("sess_new", in: events)?.text == Self.reply(words: 12))
        // Every streaming update is the whole text so far: each one extends the one before.
        let partials = entries.filter { !$0.isFinal }.map(\.text)
        #expect(!partials.isEmpty && zip(partials, partials.dropFirst()).allSatisfy { $1.hasPrefix($0) })
        // The stored conversation says the same, under the same ids.
        let stored = try await offPool { try client.transcript(taskId: "sess_new") }
        #expect(stored.entries.map(\.id) == [entries.first?.id, Self.finalResult("sess_new", in: events)?.id])
        #expect(stored.entries.last?.speaker == .result)
    }

    @Test func aDroppedStreamIsResumedWithoutGapsOrRepeats() async throws {
        let live = try await LiveSage.start()
        defer { Task { await live.stop() } }
        var faults = SageFaults.Settings()
        faults.dropStreamsAfter = 4
        live.server.faults.replace(with: faults)
        let client = try live.client()
        _ = try await offPool { try client.send(Prompt(taskId: "sess_drop", text: "Go [emu:words 30] [emu:delay 5]", startsTask: true)) }
        let events = try await Self.feed(of: client) { Self.finalResult("sess_drop", in: $0) != nil }
        #expect(Self.finalResult("sess_drop", in: events)?.text == Self.reply(words: 30))
    }

    @Test func aSecondPromptWhileTheRunGoesOnIsBusy() async throws {
        let live = try await LiveSage.start()
        defer { Task { await live.stop() } }
        let client = try live.client()
        _ = try await offPool { try client.send(Prompt(taskId: "sess_busy", text: "Go [emu:forever] [emu:delay 20]", startsTask: true)) }
        let error = await #expect(throws: RemoteError.self) {
            try await offPool { try client.send(Prompt(taskId: "sess_busy", text: "more", startsTask: false)) }
        }
        #expect(error?.errno == EBUSY)
        let info = try await offPool { try client.taskInfo(id: "sess_busy") }
        #expect(info.status == .running)
        try await offPool { try client.control(.cancel, taskId: "sess_busy") }
        let after = try await offPool { try client.taskInfo(id: "sess_busy") }
        #expect(after.status == .cancelled)
    }

    @Test func aRefusedPromptFailsItsSendAndShowsNothing() async throws {
        let live = try await LiveSage.start()
        defer { Task { await live.stop() } }
        var faults = SageFaults.Settings()
        faults.failPrompts = 1
        live.server.faults.replace(with: faults)
        let client = try live.client()
        let error = await #expect(throws: RemoteError.self) {
            try await offPool { try client.send(Prompt(taskId: "sess_demo_1", text: "Hi", startsTask: false)) }
        }
        #expect(error?.errno == EIO)
        // The feed says only that it is open: the prompt that failed is not shown as sent.
        let events = try await Self.feed(of: client, seconds: 1) { _ in false }
        #expect(events.allSatisfy { $0 == .heartbeat })
    }

    @Test func aRunStartedElsewhereIsFollowed() async throws {
        let live = try await LiveSage.start()
        defer { Task { await live.stop() } }
        let mount = try live.client()
        let web = try live.client()
        let followed = Task {
            try await Self.feed(of: mount) { Self.finalResult("sess_demo_2", in: $0)?.text == Self.reply(words: 25) }
        }
        // The mount's feed is open (its watch sees the list) before the web client starts the run.
        try await Task.sleep(for: .milliseconds(500))
        _ = try await offPool { try web.send(Prompt(taskId: "sess_demo_2", text: "Again [emu:words 25] [emu:delay 30]", startsTask: false)) }
        let events = try await followed.value
        #expect(Self.finalResult("sess_demo_2", in: events)?.text == Self.reply(words: 25))
        #expect(events.contains(.changed(taskId: "sess_demo_2")))
    }
}
