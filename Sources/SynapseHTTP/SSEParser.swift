/// An incremental parser for `text/event-stream` (WHATWG rules): bytes in, events out.
/// UTF-8 with U+FFFD for bad bytes; CRLF, LF and CR line ends, also split across chunks;
/// comments ignored; multi-line `data`; the event type resets after each dispatch; unknown
/// fields ignored; an incomplete event at the end of the stream is discarded. Lines and events
/// are bounded so a broken server cannot grow memory without limit.
public struct SSEParser: Sendable {
    public static let maxLineBytes = 4 << 20
    public static let maxEventBytes = 16 << 20

    private var line: [UInt8] = []
    private var lastWasCR = false
    private var eventType = ""
    private var data: [UInt8] = []
    private var hasData = false
    private var skippingLongLine = false
    /// Counts comment lines too: any line is a sign of life for the idle timer.
    public private(set) var linesSeen = 0

    public init() {}

    /// Feeds bytes; returns the events they completed.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [ServerEvent] {
        var events: [ServerEvent] = []
        for byte in bytes {
            if lastWasCR {
                lastWasCR = false
                if byte == 0x0A { continue }
            }
            switch byte {
            case 0x0D:
                lastWasCR = true
                endLine(&events)
            case 0x0A:
                endLine(&events)
            default:
                if line.count < Self.maxLineBytes { line.append(byte) } else { skippingLongLine = true }
            }
        }
        return events
    }

    private mutating func endLine(_ events: inout [ServerEvent]) {
        defer {
            line.removeAll(keepingCapacity: true)
            skippingLongLine = false
        }
        linesSeen += 1
        if skippingLongLine { return }
        if line.isEmpty {
            dispatch(&events)
            return
        }
        if line.first == UInt8(ascii: ":") { return }
        let field: ArraySlice<UInt8>
        var value: ArraySlice<UInt8>
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            field = line[..<colon]
            value = line[(colon + 1)...]
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        } else {
            field = line[...]
            value = []
        }
        switch String(decoding: field, as: UTF8.self) {
        case "event":
            eventType = String(decoding: value, as: UTF8.self)
        case "data":
            if hasData { data.append(0x0A) }
            if data.count + value.count <= Self.maxEventBytes { data.append(contentsOf: value) }
            hasData = true
        default:
            break // id, retry and unknown fields: not used by this API
        }
    }

    private mutating func dispatch(_ events: inout [ServerEvent]) {
        defer {
            eventType = ""
            data.removeAll(keepingCapacity: true)
            hasData = false
        }
        guard hasData else { return }
        events.append(ServerEvent(type: eventType.isEmpty ? "message" : eventType, data: String(decoding: data, as: UTF8.self)))
    }
}

/// One server-sent event: its type and its data text.
public struct ServerEvent: Sendable, Equatable {
    public var type: String
    public var data: String

    public init(type: String, data: String) {
        self.type = type
        self.data = data
    }
}
