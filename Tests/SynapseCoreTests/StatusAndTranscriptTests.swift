import Testing
@testable import SynapseCore

@Suite struct StatusAndTranscriptTests {
    func say(_ kind: String, _ text: String = "", ts: Int64 = 1) -> TaskMessage {
        TaskMessage(ts: ts, type: "say", say: kind, text: text)
    }

    func ask(_ kind: String, ts: Int64 = 1) -> TaskMessage {
        TaskMessage(ts: ts, type: "ask", ask: kind, text: "?")
    }

    @Test func statusFollowsTheLastMessage() {
        #expect(TaskStatus.derive(Transcript([say("task"), say("text")]), listed: nil) == .running)
        #expect(TaskStatus.derive(Transcript([say("task"), say("completion_result")]), listed: nil) == .completed)
        #expect(TaskStatus.derive(Transcript([say("task"), ask("completion_result")]), listed: nil) == .completed)
        #expect(TaskStatus.derive(Transcript([say("task"), ask("followup")]), listed: nil) == .waiting)
        #expect(TaskStatus.derive(Transcript([say("task"), ask("api_req_failed")]), listed: nil) == .failed)
        #expect(TaskStatus.derive(Transcript([say("task")]), listed: .cancelled) == .cancelled)
    }

    /// (What a server's words mean is its backend's: `UIMessageTests` for InfiniSynapse's.)
    @Test func serverStatusDecidesOnlyWithoutATranscript() {
        #expect(TaskStatus.derive(nil, listed: .completed) == .completed)
        #expect(TaskStatus.derive(Transcript(entries: []), listed: .failed) == .failed)
        #expect(TaskStatus.derive(nil, listed: nil) == .running)
    }

    @Test func headersSayWhoSpeaks() {
        let speakers = [say("task", "Do it"), say("user_feedback", "More"), say("text", "On it"), ask("followup"),
                        say("completion_result", "Done"), ask("api_req_failed")].map(\.entry.speaker) + [.notice]
        #expect(speakers.map(TranscriptRenderer.speaker) == ["user", "user", "agent", "agent asks", "result", "error", "notice"])
        #expect(TranscriptRenderer.header(for: say("text", ts: 0).entry).hasSuffix("] agent"))
        #expect(TranscriptRenderer.header(for: say("text", ts: 0).entry).hasPrefix("[19"))
    }
}

extension StatusAndTranscriptTests {
    @Test func aWaitingTaskSaysWhatIsAsked() {
        let command = TaskMessage(ts: 2, type: "ask", ask: "command", text: "npm test\nin ./app")
        #expect(TaskStatus.question(in: Transcript([say("task"), command])) == "command: npm test")
        #expect(TaskStatus.question(in: Transcript([say("task"), say("completion_result", "Done")])) == nil)
        let long = TaskMessage(ts: 2, type: "ask", ask: "followup", text: String(repeating: "x", count: 500) + "\u{1b}")
        #expect(TaskStatus.question(in: Transcript([long]))!.count == "followup: ".count + TaskStatus.questionLimit)
        let escape = TaskMessage(ts: 2, type: "ask", ask: "followup", text: "red\u{1b}[31m")
        #expect(TaskStatus.question(in: Transcript([escape])) == "followup: red [31m")
        #expect(TranscriptRenderer.speaker(command.entry.speaker) == "agent asks (command)")
        #expect(String(decoding: GeneratedFiles.status(.waiting, question: "command: npm test"), as: UTF8.self) == "waiting\ncommand: npm test\n")
        #expect(String(decoding: GeneratedFiles.status(.completed, question: nil), as: UTF8.self) == "completed\n")
    }
}
