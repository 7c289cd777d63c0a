import Testing
@testable import SynapseHTTP

@Suite struct SSEParserTests {
    static let stream = Array((
        ": comment\r\n" +
        "event: message.add\r\ndata: {\"a\":1}\r\n\r\n" +
        "data: line one\ndata: line two\n\n" +
        "event: heartbeat\rdata: \"ping\"\r\r" +
        "event: ignored-type\nunknown: field\nretry: 10\n\n" +
        "data:no space\n\n" +
        "event: message.partial\ndata: caf\u{E9}\n\n" +
        "data: incomplete at the end"
    ).utf8)

    static let expected = [
        ServerEvent(type: "message.add", data: "{\"a\":1}"),
        ServerEvent(type: "message", data: "line one\nline two"),
        ServerEvent(type: "heartbeat", data: "\"ping\""),
        ServerEvent(type: "message", data: "no space"),
        ServerEvent(type: "message.partial", data: "caf\u{E9}"),
    ]

    @Test func wholeBufferParse() {
        var parser = SSEParser()
        #expect(parser.feed(Self.stream) == Self.expected)
    }

    @Test func oneByteChunksGiveTheSameEvents() {
        var parser = SSEParser()
        var events: [ServerEvent] = []
        for byte in Self.stream { events += parser.feed([byte]) }
        #expect(events == Self.expected)
    }

    @Test(arguments: 1...20)
    func randomChunkingsGiveTheSameEvents(seed: Int) {
        var rng = SplitMix(seed: UInt64(seed))
        var parser = SSEParser()
        var events: [ServerEvent] = []
        var i = 0
        while i < Self.stream.count {
            let n = Int(rng.next() % 17) + 1
            events += parser.feed(Self.stream[i..<min(i + n, Self.stream.count)])
            i += n
        }
        #expect(events == Self.expected)
    }

    @Test func anOverlongLineIsDroppedAndTheStreamGoesOn() {
        var parser = SSEParser()
        var events = parser.feed(Array("data: ".utf8))
        let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
        for _ in 0..<5 { events += parser.feed(chunk) } // 5 MiB on one line: over the 4 MiB bound
        events += parser.feed(Array("\n\nevent: heartbeat\ndata: \"ping\"\n\n".utf8))
        #expect(events == [ServerEvent(type: "heartbeat", data: "\"ping\"")])
    }

    @Test func theEventTypeResetsAfterEachDispatch() {
        var parser = SSEParser()
        let events = parser.feed(Array("event: first\ndata: 1\n\ndata: 2\n\n".utf8))
        #expect(events == [ServerEvent(type: "first", data: "1"), ServerEvent(type: "message", data: "2")])
    }

    @Test func aCRLFSplitBetweenChunksIsOneLineEnd() {
        var parser = SSEParser()
        var events = parser.feed(Array("data: a\r".utf8))
        events += parser.feed(Array("\ndata: b\r".utf8))
        events += parser.feed(Array("\n\r\n".utf8))
        #expect(events == [ServerEvent(type: "message", data: "a\nb")])
    }

    @Test func badUTF8BecomesReplacementCharacters() {
        var parser = SSEParser()
        let events = parser.feed(Array("data: a".utf8) + [0xFF, 0xFE] + Array("b\n\n".utf8))
        #expect(events == [ServerEvent(type: "message", data: "a\u{FFFD}\u{FFFD}b")])
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
