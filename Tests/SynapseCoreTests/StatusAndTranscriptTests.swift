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
        #expect(TaskStatus.derive(messages: [say("task"), say("text")], serverStatus: nil) == .running)
        #expect(TaskStatus.derive(messages: [say("task"), say("completion_result")], serverStatus: nil) == .completed)
        #expect(TaskStatus.derive(messages: [say("task"), ask("completion_result")], serverStatus: nil) == .completed)
        #expect(TaskStatus.derive(messages: [say("task"), ask("followup")], serverStatus: nil) == .waiting)
        #expect(TaskStatus.derive(messages: [say("task"), ask("api_req_failed")], serverStatus: nil) == .failed)
        #expect(TaskStatus.derive(messages: [say("task")], serverStatus: "cancelled") == .cancelled)
    }

    @Test func serverStatusDecidesOnlyWithoutATranscript() {
        #expect(TaskStatus.derive(messages: nil, serverStatus: "completed") == .completed)
        #expect(TaskStatus.derive(messages: [], serverStatus: "failed") == .failed)
        #expect(TaskStatus.derive(messages: nil, serverStatus: "something-new") == .running)
    }

    @Test func headersSayWhoSpeaks() {
        let speakers = [say("task", "Do it"), say("user_feedback", "More"), say("text", "On it"), ask("followup"),
                        say("completion_result", "Done"), ask("api_req_failed"), TaskMessage(ts: 1, type: "notice", text: "n")]
            .map(TranscriptRenderer.speaker(of:))
        #expect(speakers == ["user", "user", "agent", "agent asks", "result", "error", "notice"])
        #expect(TranscriptRenderer.header(for: say("text", ts: 0)).hasSuffix("] agent"))
        #expect(TranscriptRenderer.header(for: say("text", ts: 0)).hasPrefix("[19"))
    }
}

extension StatusAndTranscriptTests {
    @Test func aWaitingTaskSaysWhatIsAsked() {
        let command = TaskMessage(ts: 2, type: "ask", ask: "command", text: "npm test\nin ./app")
        #expect(TaskStatus.question(in: [say("task"), command]) == "command: npm test")
        #expect(TaskStatus.question(in: [say("task"), say("completion_result", "Done")]) == nil)
        let long = TaskMessage(ts: 2, type: "ask", ask: "followup", text: String(repeating: "x", count: 500) + "\u{1b}")
        #expect(TaskStatus.question(in: [long])!.count == "followup: ".count + TaskStatus.questionLimit)
        let escape = TaskMessage(ts: 2, type: "ask", ask: "followup", text: "red\u{1b}[31m")
        #expect(TaskStatus.question(in: [escape]) == "followup: red [31m")
        #expect(TranscriptRenderer.speaker(of: command) == "agent asks (command)")
        #expect(String(decoding: GeneratedFiles.status(.waiting, question: "command: npm test"), as: UTF8.self) == "waiting\ncommand: npm test\n")
        #expect(String(decoding: GeneratedFiles.status(.completed, question: nil), as: UTF8.self) == "completed\n")
    }
}
