import Foundation
import Testing
import SynapseHTTP
@testable import InfiniSynapse
import SynapseCore

/// Ids and paths from the server go into URLs: none can change which route is asked.
@Suite struct URLBuildingTests {
    @Test(arguments: [(".", "%2E"), ("..", "%2E%2E"), ("a/../b", "a%2F%2E%2E%2Fb"), ("x\ny", "x%0Ay"), ("t?id=1#f", "t%3Fid%3D1%23f")])
    func pathSegmentsAreEncodedWhole(id: String, encoded: String) {
        #expect(URLEncoding.segment(id) == encoded)
    }

    @Test func aTaskIdOfDotDotStaysInItsRoute() {
        let client = InfiniSynapseClient(baseURL: "http://127.0.0.1:9", apiKey: "k", logger: .init(label: "test"))
        #expect(client.url("/api/ai_task/getTaskInfo/" + URLEncoding.segment(".."), query: []) == "http://127.0.0.1:9/api/ai_task/getTaskInfo/%2E%2E")
    }

    @Test func contentRangesAreReadStrictly() {
        #expect(ResponseHead.parseContentRange("bytes 0-99/1000")?.range == 0...99)
        #expect(ResponseHead.parseContentRange("bytes 0-99/1000")?.total == 1000)
        #expect(ResponseHead.parseContentRange("bytes 5-9/*")?.total == nil)
        #expect(ResponseHead.parseContentRange("bytes 5-9/*")?.range == 5...9)
        for bad in ["bytes 9-5/100", "bytes 0-99/50", "bytes -1-5/100", "items 0-1/2", "bytes 0-99", "bytes a-b/c"] {
            #expect(ResponseHead.parseContentRange(bad) == nil, "\(bad)")
        }
    }
}

@Suite struct WireDecodingTests {
    @Test func everyListingShapeDecodes() throws {
        let page = try WireDecoding.page(Data(#"{"code":200,"data":{"items":[{"id":"a","task_name":"A","created_at":"2024-01-02T03:04:05Z"},{"taskId":7,"name":"B"},{"no":"id"}],"meta":{"totalPages":"3","totalItems":21}}}"#.utf8), requested: 1, pageSize: 2, what: "t")
        #expect(page.items.map(\.id) == ["a", "7"])
        #expect(page.totalPages == 3 && page.totalItems == 21)
        // Two of the two asked for (one without an id is dropped, not counted): page 2 is next.
        #expect(page.next == .number(2))
        #expect(page.items[0].createdAt == Date(timeIntervalSince1970: 1_704_164_645))
        let bare = try WireDecoding.messages(Data(#"{"data":[{"ts":1,"type":"say","text":"x","partial":"true"},{"ts":"2","type":"ask","ask":"followup"},{"type":"say"}]}"#.utf8), what: "m").map(\.message)
        #expect(bare.map(\.ts) == [1, 2] && bare[0].partial == true && bare[1].ask == "followup")
        let nested = try WireDecoding.messages(Data(#"{"data":{"uiMessages":[{"ts":3,"type":"say"}]}}"#.utf8), what: "m")
        #expect(nested.map(\.message.ts) == [3])
        #expect(try WireDecoding.messages(Data(#"{"data":null}"#.utf8), what: "m").isEmpty)
        let files = try WireDecoding.workspace(Data(#"{"data":{"files":["a.txt",{"path":"b/c.csv","size":"12","mtime":1704164645000},{"name":"d","type":"directory"}]}}"#.utf8), what: "w")
        #expect(files.map(\.path) == ["a.txt", "b/c.csv"])
        #expect(files[1].size == 12 && files[1].mtime == Date(timeIntervalSince1970: 1_704_164_645))
        #expect(throws: RemoteError.self) { try WireDecoding.workspace(Data(#"{"data":{"nofiles":[]}}"#.utf8), what: "w") }
        #expect(throws: RemoteError.self) { try WireDecoding.page(Data("<html>".utf8), requested: 1, pageSize: 100, what: "t") }
    }
}

@Suite struct StatusMappingTests {
    @Test func refusalsAreNotConnectivityProblems() {
        #expect(Envelope.error(status: 413, code: nil, message: "Payload Too Large", what: "upload") == .refused("Payload Too Large"))
        #expect(Envelope.error(status: 400, code: nil, message: "too big", what: "upload") == .refused("too big"))
        #expect(Envelope.error(status: 200, code: 1105, message: "expired", what: "x") == .rejectedKey("expired"))
        #expect(Envelope.error(status: 503, code: nil, message: "busy", what: "x")?.isConnectivity == true)
    }
}
