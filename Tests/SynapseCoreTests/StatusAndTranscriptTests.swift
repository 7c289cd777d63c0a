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

    @Test func transcriptHasOneHeaderPerMessageThenItsText() {
        let log = TranscriptRenderer.render([say("task", "Do it"), say("text", "On it\nstill"), ask("followup"),
                                             say("completion_result", "Done")])
        let headers = log.split(separator: "\n").filter { $0.hasPrefix("[") }
        #expect(headers.count == 4)
        #expect(headers.map { $0.split(separator: "]").last!.trimmingCharacters(in: .whitespaces) }
            == ["user", "agent", "agent asks", "result"])
        #expect(log.contains("On it\nstill\n"))
    }
}
