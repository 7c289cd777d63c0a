import Foundation
@testable import Sage
import SynapseCore
import Testing

/// A run's JSON lines summed into entries, with no server: deltas per message, the answer at
/// the end, counts that stay the server's, and error envelopes where a stream should be.
@Suite struct SageRunSumTests {
    func line(_ object: [String: Any]) -> [UInt8] { Array(try! JSONSerialization.data(withJSONObject: object)) }

    @Test func deltasAreSummedPerMessageAndTheLastIsTheAnswer() {
        var sum = SageRunSum()
        _ = sum.take(line(["message_id": "t", "role": "assistant", "type": "thinking", "content": "hmm "]), taskId: "c")
        _ = sum.take(line(["message_id": "a", "role": "assistant", "content": "The "]), taskId: "c")
        let partial = sum.take(line(["message_id": "a", "role": "assistant", "content": "answer."]), taskId: "c")
        #expect(partial == [.partial(taskId: "c", TranscriptEntry(id: "a", time: sum.liveEntries[1].time, speaker: .agent, text: "The answer.", isFinal: false))])
        #expect(sum.liveEntries.map(\.text) == ["hmm ", "The answer."])
        let end = sum.take(line(["type": "stream_end", "total_stream_count": 4]), taskId: "c")
        #expect(sum.ended && sum.chunksRead == 4)
        let finals = end.compactMap { if case .entry(_, let e) = $0 { e } else { nil } }
        #expect(finals.map(\.speaker) == [.agentSays("thinking"), .result])
        #expect(finals.allSatisfy(\.isFinal) && finals.last?.text == "The answer.")
        #expect(end.last == .changed(taskId: "c"))
        #expect(sum.liveEntries.isEmpty)
    }

    @Test func linesNotUnderstoodStillCountForTheResume() {
        var sum = SageRunSum()
        _ = sum.take(Array("not json".utf8), taskId: "c")
        _ = sum.take([], taskId: "c")  // a line too long to keep
        _ = sum.take(line(["message_id": "a", "content": "x"]), taskId: "c")
        #expect(sum.chunksRead == 3 && sum.liveEntries.map(\.text) == ["x"])
    }

    @Test func aResumeFromPastTheEndOnlySaysTheRunIsOver() {
        var sum = SageRunSum()
        let events = sum.take(line(["type": "stream_end", "resume_fallback": true, "session_id": "c"]), taskId: "c")
        #expect(sum.ended && events == [.changed(taskId: "c")])
    }

    @Test func anErrorChunkFailsTheRunAtOnce() {
        var sum = SageRunSum()
        let events = sum.take(line(["message_id": "e", "type": "error", "content": "model unavailable"]), taskId: "c")
        guard case .entry(_, let entry)? = events.first else { Issue.record("no entry: \(events)"); return }
        #expect(entry.speaker == .error && entry.isFinal)
        #expect(TaskStatus.derive(Transcript(entries: [entry]), listed: nil) == .failed)
    }

    @Test func aServerInventingMessagesCannotGrowTheSumWithoutBound() {
        var sum = SageRunSum()
        for index in 0..<(SageRunSum.maxMessages + 50) { _ = sum.take(line(["message_id": "m\(index)", "content": "w"]), taskId: "c") }
        #expect(sum.liveEntries.count == SageRunSum.maxMessages)
        #expect(sum.chunksRead == SageRunSum.maxMessages + 50)
    }

    @Test func anEnvelopeWhereTheStreamShouldBeIsItsError() {
        let rejected = SageStreaming.envelopeError(Array(#"{"code":401,"message":"未登录","error_detail":"missing auth session","data":null}"#.utf8))
        #expect(rejected?.errno == EACCES)
        #expect(SageStreaming.envelopeError(Array(#"{"message_id":"a","content":"hi","code":"x"}"#.utf8)) == nil)
        #expect(SageStreaming.envelopeError(Array(#"{"type":"stream_end","code":1}"#.utf8)) == nil)
    }
}
