import Foundation
import Testing
import SynapseHTTP
import SynapseCore
@testable import InfiniSynapse

/// InfiniSynapse's words in the core's: speakers, entries, status words, feed events.
@Suite struct UIMessageTests {
    @Test func theServersStatusWordsMeanWhatTheySay() {
        #expect(UIMessage.status(ofWord: "completed") == .completed)
        #expect(UIMessage.status(ofWord: "Canceled") == .cancelled)
        #expect(UIMessage.status(ofWord: "failed") == .failed)
        #expect(UIMessage.status(ofWord: "something-new") == nil)
        #expect(UIMessage.status(ofWord: nil) == nil)
    }

    @Test func aMessageIsAnEntryWithItsTsAsIdAndTime() {
        let ask = UIMessage(ts: 1_700_000_000_123, type: "ask", ask: "upload_file_to_sandbox", text: "sales.csv")
        #expect(ask.entry.id == "1700000000123" && ask.entry.time == 1_700_000_000_123 && ask.entry.isFinal)
        #expect(ask.entry.speaker == .agentAsks(Question(kind: "upload_file_to_sandbox", isPlain: false, wantsFile: true)))
        #expect(ask.entry.attributes == ["ts": "1700000000123", "type": "ask", "ask": "upload_file_to_sandbox"])
        #expect(UIMessage(ts: 1, type: "ask", ask: "followup").speaker == .agentAsks(Question(kind: "followup", isPlain: true)))
        #expect(UIMessage(ts: 1, type: "say", say: "completion_result").speaker == .result)
        #expect(UIMessage(ts: 1, type: "ask", ask: "completion_result").speaker == .result)
        #expect(UIMessage(ts: 1, type: "say", say: "error").speaker == .error)
        #expect(UIMessage(ts: 1, type: "say", say: "tool").speaker == .agentSays("tool"))
        #expect(UIMessage(ts: 1, type: "say", say: "text", text: "x", partial: true).entry.isFinal == false)
    }

    @Test func sseEventsBecomeFeedEvents() {
        let partial = InfiniSynapseClient.feedEvent(ServerEvent(type: "message.partial", data: #"{"taskId":"t","message":{"ts":5,"type":"say","say":"text","text":"Hel","partial":true}}"#))
        guard case .partial("t", let entry)? = partial else { Issue.record("\(String(describing: partial))"); return }
        #expect(entry.id == "5" && entry.text == "Hel" && !entry.isFinal)
        #expect(InfiniSynapseClient.feedEvent(ServerEvent(type: "message.remove", data: #"{"taskId":"t","messageTs":[5,6]}"#)) == .removed(taskId: "t", ids: ["5", "6"]))
        #expect(InfiniSynapseClient.feedEvent(ServerEvent(type: "state.ready", data: #"{"taskId":"t"}"#)) == .changed(taskId: "t"))
        #expect(InfiniSynapseClient.feedEvent(ServerEvent(type: "state.ready", data: #"{"taskId":null}"#)) == nil)
        #expect(InfiniSynapseClient.feedEvent(ServerEvent(type: "notification", data: #"{"type":"error","title":"Billing","message":"quota"}"#))
                == .notice(title: "Billing", text: "quota", isError: true))
        #expect(InfiniSynapseClient.feedEvent(ServerEvent(type: "heartbeat", data: "\"ping\"")) == .heartbeat)
    }
}

extension UIMessageTests {
    /// A framework's 404 or an empty one says the route is missing; a JSON 404 envelope may
    /// mean either (the route falls back on both).
    @Test func a404SaysWhetherTheRouteIsMissing() {
        #expect(Envelope.error(status: 404, code: nil, message: "Cannot GET /api/ai_task/messagePayload", what: "x") == .routeMissing("x: Cannot GET /api/ai_task/messagePayload"))
        #expect(Envelope.error(status: 404, code: nil, message: "", what: "x") == .routeMissing("x: 404"))
        #expect(Envelope.error(status: 404, code: 404, message: "task t not found", what: "x") == .notFound("x: task t not found"))
        #expect(Envelope.error(status: 404, code: 404, message: "task t not found", what: "x")?.errno == ENOENT)
    }
}
