/// An incremental reader of a JSON-lines stream (one JSON value per line, as Sage's chat
/// stream sends): bytes in, whole lines out. LF or CRLF line ends, also split across chunks;
/// blank lines and `:` comment lines (heartbeats) are signs of life, not values. A line over
/// `maxLineBytes` is dropped (what was held of it freed) and counted, so a broken server
/// cannot grow memory without limit and the caller can say what was lost.
public struct JSONLinesParser: Sendable {
    public static let defaultMaxLineBytes = 16 << 20

    public let maxLineBytes: Int

    private var line: [UInt8] = []
    private var skippingLongLine = false
    /// Every line seen, heartbeats included: any line is a sign of life for the idle timer.
    public private(set) var linesSeen = 0
    /// Lines dropped for being longer than `maxLineBytes`.
    public private(set) var linesDropped = 0

    public init(maxLineBytes: Int = Self.defaultMaxLineBytes) {
        self.maxLineBytes = maxLineBytes
    }

    /// Feeds bytes; returns the lines they completed (without their line end).
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        for byte in bytes {
            if byte == 0x0A {
                endLine(&lines)
            } else if skippingLongLine {
                continue
            } else if line.count < maxLineBytes {
                line.append(byte)
            } else {
                skippingLongLine = true
                line = []
            }
        }
        return lines
    }

    /// The last line, when the stream ended without a line end after it.
    public mutating func finish() -> [UInt8]? {
        var lines: [[UInt8]] = []
        if !line.isEmpty || skippingLongLine { endLine(&lines) }
        return lines.first
    }

    private mutating func endLine(_ lines: inout [[UInt8]]) {
        defer {
            line.removeAll(keepingCapacity: true)
            skippingLongLine = false
        }
        linesSeen += 1
        if skippingLongLine {
            linesDropped += 1
            return
        }
        if line.last == 0x0D { line.removeLast() }
        // Blank lines and comments (`: heartbeat`) carry no value.
        guard let first = line.first(where: { $0 != 0x20 && $0 != 0x09 }), first != UInt8(ascii: ":") else { return }
        lines.append(line)
    }
}
