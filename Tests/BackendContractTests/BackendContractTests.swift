import Foundation
import Synchronization
import SynapseCore
import Testing

/// What every backend does, in the core's words, against its own emulator: list, transcripts
/// that read back what was sent, a prompt streamed to a final text, cancel, ranged download,
/// and the errors of what is not there. The core's tests trust these; a backend passing them
/// mounts with the same folders and guarantees.
@Suite(.serialized) struct BackendContractTests {
    static let deadline = 15.0

    /// Calls `read` until `done` holds of its result (or the deadline passes); the last result.
    func poll<T: Sendable>(_ read: @escaping @Sendable () throws -> T, until done: (T) -> Bool) async throws -> T {
        let end = Date().addingTimeInterval(Self.deadline)
        var last = try await offPool(read)
        while !done(last), Date() < end {
            try await Task.sleep(for: .milliseconds(50))
            last = try await offPool(read)
        }
        return last
    }

    /// Sends a draft's first prompt; the task's id from then on (the server's, where it names tasks).
    func start(_ backend: any AgentBackend, _ draftId: String, _ text: String) async throws -> String {
        let sent = try await offPool { try backend.send(Prompt(taskId: draftId, text: text, startsTask: true)) }
        return sent.serverTaskId ?? draftId
    }

    func isFinished(_ transcript: Transcript) -> Bool {
        TaskStatus.derive(transcript, listed: nil) == .completed
    }

    @Test(arguments: ContractSubject.all)
    func everyTaskIsListedOnceAcrossPages(_ subject: ContractSubject) async throws {
        let server = try await subject.start()
        defer { Task { await server.stop() } }
        let backend = server.backend
        var seen: [TaskSummary] = []
        var position: PagePosition? = nil
        var pages = 0
        repeat {
            let from = position
            let listed = try await offPool { try backend.listTasks(from: from, pageSize: 2) }
            #expect(listed.items.count <= 2)
            seen += listed.items
            position = listed.next
            pages += 1
        } while position != nil && pages <= server.seededTasks
        #expect(position == nil, "the last page says it is the last")
        #expect(seen.count == server.seededTasks)
        #expect(Set(seen.map(\.id)).count == seen.count, "a task listed twice")
        for task in seen {
            let info = try await offPool { try backend.taskInfo(id: task.id) }
            #expect(info.id == task.id)
            #expect(info.name == task.name)
        }
    }

    @Test(arguments: ContractSubject.all)
    func aTranscriptReadsBackWhatWasSentTurnAfterTurn(_ subject: ContractSubject) async throws {
        let server = try await subject.start()
        defer { Task { await server.stop() } }
        let backend = server.backend
        let taskId = try await start(backend, server.newTaskId(), "First turn [emu:words 12] [emu:delay 2]")
        let first = try await poll({ try backend.transcript(taskId: taskId) }, until: isFinished)
        #expect(isFinished(first))
        #expect(first.entries.contains { $0.speaker == .user && $0.text.contains("First turn") })
        #expect(Set(first.entries.map(\.id)).count == first.entries.count, "entry ids must be unique in a task")
        #expect(first.entries.allSatisfy { $0.isFinal })
        #expect(zip(first.entries, first.entries.dropFirst()).allSatisfy { $0.time <= $1.time }, "entries in time order")

        try await offPool { try backend.send(Prompt(taskId: taskId, text: "Second turn [emu:words 8] [emu:delay 2]", startsTask: false)) }
        let second = try await poll({ try backend.transcript(taskId: taskId) }) { transcript in
            isFinished(transcript) && transcript.entries.contains { $0.text.contains("Second turn") }
        }
        // What was final stays as it was: same ids, same texts, in the same order.
        #expect(Array(second.entries.prefix(first.entries.count)) == first.entries)
        let after = second.entries.dropFirst(first.entries.count)
        #expect(after.contains { $0.speaker == .user && $0.text.contains("Second turn") })
        #expect(after.last?.speaker == .result && after.last?.isFinal == true)
        let listed = try await offPool { try backend.taskInfo(id: taskId) }
        #expect(listed.id == taskId)
    }

    @Test(arguments: ContractSubject.all)
    func aPromptStreamsToTheFinalTextTheTranscriptHolds(_ subject: ContractSubject) async throws {
        let server = try await subject.start()
        defer { Task { await server.stop() } }
        let backend = server.backend
        try #require(backend.capabilities.feed, "a backend without a feed needs its run-following contract")
        let draftId = server.newTaskId()
        let events = Mutex<[FeedEvent]>([])
        let stop = Atomic<Bool>(false)
        let feed = Thread {
            try? backend.followFeed { event in
                events.withLock { $0.append(event) }
                return !stop.load(ordering: .relaxed)
            }
        }
        feed.start()
        defer { stop.store(true, ordering: .relaxed) }
        // Connected when it says anything (a state, a heartbeat); a feed silent for 5 s is
        // taken as connected too, and the test then says what it missed.
        let connect = Date().addingTimeInterval(5)
        while events.withLock({ $0.isEmpty }), Date() < connect { try await Task.sleep(for: .milliseconds(20)) }
        let taskId = try await start(backend, draftId, "Stream it [emu:words 40] [emu:delay 5]")
        // A first run's events name the task as the prompt did (the draft), later ones by the server's id.
        let eventIds: Set<String> = [draftId, taskId]
        let transcript = try await poll({ try backend.transcript(taskId: taskId) }, until: isFinished)
        let result = try #require(transcript.entries.last)
        #expect(result.speaker == .result)
        // The feed delivered the run as it happened: pieces while it grew, then the whole result.
        let end = Date().addingTimeInterval(Self.deadline)
        func wholeResult() -> TranscriptEntry? {
            events.withLock { all in
                all.compactMap { event -> TranscriptEntry? in
                    if case .entry(let id, let entry) = event, eventIds.contains(id), entry.id == result.id { return entry }
                    return nil
                }.last
            }
        }
        while wholeResult() == nil, Date() < end { try await Task.sleep(for: .milliseconds(20)) }
        #expect(wholeResult()?.text == result.text)
        #expect(wholeResult()?.isFinal == true)
        let partials = events.withLock { $0.filter { if case .partial(let id, _) = $0 { eventIds.contains(id) } else { false } } }
        #expect(partials.isEmpty != server.streamsInPieces, "a reply of 40 words streams in pieces where the server sends them")
    }

    @Test(arguments: ContractSubject.all)
    func cancelEndsARunAndFinalisesWhatWasStreaming(_ subject: ContractSubject) async throws {
        let server = try await subject.start()
        defer { Task { await server.stop() } }
        let backend = server.backend
        let taskId = try await start(backend, server.newTaskId(), "Never ends [emu:forever] [emu:delay 10]")
        // Cancelled while something streams, so "nothing streams after" can fail (a server
        // without pieces: while the agent speaks, before it answers).
        let streaming = try await poll({ try backend.transcript(taskId: taskId) }) { transcript in
            server.streamsInPieces ? transcript.entries.contains { !$0.isFinal } : transcript.entries.contains { $0.speaker != .user }
        }
        #expect(server.streamsInPieces ? streaming.entries.contains { !$0.isFinal } : TaskStatus.derive(streaming, listed: nil) == .running,
                "the endless reply streams")
        guard backend.capabilities.cancel else {
            // A backend that says it cannot cancel must not pretend to.
            await #expect(throws: RemoteError.self) { try await offPool { try backend.control(.cancel, taskId: taskId) } }
            return
        }
        try await offPool { try backend.control(.cancel, taskId: taskId) }
        // Cancelled as the mount shows it: what the list says, unless the transcript says more.
        @Sendable func shown() throws -> TaskStatus {
            TaskStatus.derive(try backend.transcript(taskId: taskId), listed: try backend.taskInfo(id: taskId).status)
        }
        #expect(try await poll(shown) { $0 == .cancelled } == .cancelled)
        let transcript = try await poll({ try backend.transcript(taskId: taskId) }) { $0.entries.allSatisfy(\.isFinal) }
        #expect(transcript.entries.allSatisfy { $0.isFinal }, "nothing streams after a cancel")
    }

    @Test(arguments: ContractSubject.all)
    func aRangedDownloadGivesExactlyTheBytesAsked(_ subject: ContractSubject) async throws {
        let server = try await subject.start()
        defer { Task { await server.stop() } }
        let backend = server.backend
        let sample = server.sample
        guard backend.capabilities.files else {
            // No files: none is listed, and a download is not found.
            #expect(try await offPool { try backend.workspace(taskId: sample.taskId) }.isEmpty)
            let error = await #expect(throws: RemoteError.self) {
                try await offPool { _ = try backend.download(taskId: sample.taskId, path: "any.txt", offset: 0, length: nil) { _ in true } }
            }
            #expect(error?.errno == ENOENT)
            return
        }
        let listing = try await offPool { try backend.workspace(taskId: sample.taskId) }
        let listed = try #require(listing.first { $0.path == sample.path })
        #expect(listed.size == Int64(sample.bytes.count))

        /// Downloads `length` bytes from `offset` and places each chunk where it says it belongs.
        @Sendable func download(_ offset: Int64, _ length: Int64?) throws -> (Data, DownloadResult, Int64?) {
            var bytes = Data()
            var first: Int64?
            let result = try backend.download(taskId: sample.taskId, path: sample.path, offset: offset, length: length) { chunk in
                if first == nil { first = chunk.offset }
                let at = Int(chunk.offset - offset)
                guard at >= 0 else { return true } // a server ignoring Range: before the range
                if bytes.count < at + chunk.bytes.count { bytes.count = at + chunk.bytes.count }
                bytes.replaceSubrange(at..<(at + chunk.bytes.count), with: chunk.bytes)
                return true
            }
            return (bytes, result, first)
        }
        let (whole, wholeResult, _) = try await offPool { try download(0, nil) }
        #expect(whole == sample.bytes)
        #expect(wholeResult.totalSize == Int64(sample.bytes.count))
        // The emulators honour Range: exactly the window, starting where it was asked.
        let (middle, _, middleStart) = try await offPool { try download(123_457, 65_536) }
        #expect(middleStart == 123_457)
        #expect(middle == sample.bytes[123_457..<(123_457 + 65_536)])
        let (tail, _, _) = try await offPool { try download(Int64(sample.bytes.count) - 10, nil) }
        #expect(tail == sample.bytes.suffix(10))
    }

    @Test(arguments: ContractSubject.all)
    func whatIsNotThereIsNotFound(_ subject: ContractSubject) async throws {
        let server = try await subject.start()
        defer { Task { await server.stop() } }
        let backend = server.backend
        let missing = "0000dead-0000-4000-8000-00000000beef"
        func expectNotFound(_ what: String, _ call: @escaping @Sendable () throws -> Void) async {
            let error = await #expect(throws: RemoteError.self, "\(what)") { try await offPool(call) }
            #expect(error?.errno == ENOENT, "\(what): \(String(describing: error))")
        }
        await expectNotFound("info of a missing task") { _ = try backend.taskInfo(id: missing) }
        await expectNotFound("transcript of a missing task") { _ = try backend.transcript(taskId: missing) }
        await expectNotFound("next prompt to a missing task") { try backend.send(Prompt(taskId: missing, text: "hi", startsTask: false)) }
        let sample = server.sample
        await expectNotFound("a missing file") {
            _ = try backend.download(taskId: sample.taskId, path: "contract/no-such-file", offset: 0, length: nil) { _ in true }
        }
        if backend.capabilities.delete {
            try await offPool { try backend.control(.delete, taskId: sample.taskId) }
            await expectNotFound("info of a deleted task") { _ = try backend.taskInfo(id: sample.taskId) }
            let page = try await offPool { try backend.listTasks(from: nil, pageSize: 100) }
            #expect(!page.items.contains { $0.id == sample.taskId })
            #expect(page.items.count == server.seededTasks - 1)
        }
    }
}
