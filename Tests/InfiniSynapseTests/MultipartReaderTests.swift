import Foundation
import SynapseEmulatorKit
import Testing
import SynapseHTTP

@Suite struct MultipartReaderTests {
    static let boundary = "XyZ123"
    /// Body bytes that look like the start of a delimiter, then a real second part.
    static let fileBody = Array("line one\r\n--XyZ12 almost\r\n--Xy\r\nend".utf8) + (0..<300).map { UInt8(truncatingIfNeeded: $0) }
    static let message: [UInt8] = Array("preamble\r\n--XyZ123\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--XyZ123\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
        + fileBody + Array("\r\n--XyZ123--\r\n".utf8)

    func parse(chunkSizes: () -> Int) throws -> (parts: [[String: String]], bodies: [[UInt8]], complete: Bool) {
        var reader = MultipartReader(boundary: Self.boundary)
        var parts: [[String: String]] = []
        var bodies: [[UInt8]] = []
        var i = 0
        while i < Self.message.count {
            let n = min(chunkSizes(), Self.message.count - i)
            try reader.feed(Self.message[i..<(i + n)]) { event in
                switch event {
                case .headers(let h): parts.append(h); bodies.append([])
                case .body(let b): bodies[bodies.count - 1] += b
                case .partEnd: break
                }
            }
            i += n
        }
        return (parts, bodies, reader.isComplete)
    }

    @Test(arguments: [1, 2, 7, 64, 100_000])
    func partsSurviveAnyChunking(size: Int) throws {
        let result = try parse { size }
        #expect(result.parts.count == 2)
        #expect(result.parts[1]["content-disposition"]?.contains("filename=\"a.bin\"") == true)
        #expect(result.bodies[0] == Array("hello".utf8))
        #expect(result.bodies[1] == Self.fileBody)
        #expect(result.complete)
    }

    @Test func randomChunkingsAgree() throws {
        var state: UInt64 = 42
        for _ in 0..<50 {
            let result = try parse {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Int(state >> 59) + 1
            }
            #expect(result.bodies.last == Self.fileBody)
        }
    }
}
