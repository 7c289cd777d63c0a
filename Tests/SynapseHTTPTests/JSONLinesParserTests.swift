import Testing
@testable import SynapseHTTP

@Suite struct JSONLinesParserTests {
    static let stream = Array((
        "{\"type\":\"delta\",\"i\":1}\n" +
        ": heartbeat\n" +
        "\n" +
        "{\"type\":\"delta\",\"text\":\"caf\u{E9}\"}\r\n" +
        "   \n" +
        "{\"type\":\"stream_end\"}\n" +
        "{\"incomplete\""
    ).utf8)

    static let expected = [
        "{\"type\":\"delta\",\"i\":1}",
        "{\"type\":\"delta\",\"text\":\"caf\u{E9}\"}",
        "{\"type\":\"stream_end\"}",
    ]

    func text(_ lines: [[UInt8]]) -> [String] { lines.map { String(decoding: $0, as: UTF8.self) } }

    @Test func heartbeatsAndBlankLinesAreNotValues() {
        var parser = JSONLinesParser()
        #expect(text(parser.feed(Self.stream)) == Self.expected)
        #expect(parser.linesSeen == 6)
        #expect(parser.finish().map { String(decoding: $0, as: UTF8.self) } == "{\"incomplete\"")
    }

    @Test func everySplitOfTheStreamGivesTheSameLines() {
        for cut in 0...Self.stream.count {
            var parser = JSONLinesParser()
            let lines = parser.feed(Self.stream[..<cut]) + parser.feed(Self.stream[cut...])
            #expect(text(lines) == Self.expected, "split at \(cut)")
        }
    }

    @Test func anOverlongLineIsDroppedWholeAndCounted() {
        // A small limit: the rule is the same at 16 MiB, and a debug build feeds bytes slowly.
        var parser = JSONLinesParser(maxLineBytes: 1000)
        let long = [UInt8](repeating: UInt8(ascii: "x"), count: 5000)
        let lines = parser.feed(long + Array("\n{\"after\":1}\n".utf8))
        #expect(text(lines) == ["{\"after\":1}"])
        #expect(parser.linesDropped == 1)
    }
}
