import Foundation
import Testing
@testable import SynapseClient

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
