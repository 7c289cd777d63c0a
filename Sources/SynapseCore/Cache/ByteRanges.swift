/// A set of byte offsets kept as sorted, disjoint, non-adjacent half-open ranges.
struct ByteRanges: Sendable, Equatable {
    private(set) var ranges: [Range<Int64>] = []

    init(_ ranges: [Range<Int64>] = []) {
        for range in ranges { insert(range) }
    }

    var isEmpty: Bool { ranges.isEmpty }

    var byteCount: Int64 { ranges.reduce(0) { $0 + $1.length } }

    mutating func insert(_ range: Range<Int64>) {
        guard !range.isEmpty else { return }
        var merged = range
        // Every range that overlaps or touches `range` is folded into it.
        let first = ranges.firstIndex { $0.upperBound >= range.lowerBound } ?? ranges.endIndex
        var last = first
        while last < ranges.endIndex, ranges[last].lowerBound <= range.upperBound {
            merged = min(merged.lowerBound, ranges[last].lowerBound)..<max(merged.upperBound, ranges[last].upperBound)
            last += 1
        }
        ranges.replaceSubrange(first..<last, with: [merged])
    }

    func contains(_ range: Range<Int64>) -> Bool {
        range.isEmpty || ranges.contains { $0.lowerBound <= range.lowerBound && range.upperBound <= $0.upperBound }
    }

    /// The parts of `range` not in the set, in order.
    func gaps(in range: Range<Int64>) -> [Range<Int64>] {
        var gaps: [Range<Int64>] = []
        var cursor = range.lowerBound
        for present in ranges where present.upperBound > cursor {
            if present.lowerBound >= range.upperBound { break }
            if present.lowerBound > cursor { gaps.append(cursor..<present.lowerBound) }
            cursor = max(cursor, present.upperBound)
            if cursor >= range.upperBound { break }
        }
        if cursor < range.upperBound { gaps.append(cursor..<range.upperBound) }
        return gaps
    }

    /// The end of the run of present bytes that starts at or spans `offset`; `offset` itself
    /// when that byte is missing.
    func contiguousEnd(from offset: Int64) -> Int64 {
        ranges.first { $0.lowerBound <= offset && offset < $0.upperBound }?.upperBound ?? offset
    }

    /// The first present offset at or after `offset`, if any.
    func nextPresent(from offset: Int64) -> Int64? {
        ranges.first { $0.upperBound > offset }.map { max($0.lowerBound, offset) }
    }
}

extension ByteRanges: Codable {
    // On disk as `[[start, end], …]`.
    init(from decoder: any Decoder) throws {
        let pairs = try [[Int64]](from: decoder)
        self.init()
        for pair in pairs {
            guard pair.count == 2, 0 <= pair[0], pair[0] <= pair[1] else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad range \(pair)"))
            }
            insert(pair[0]..<pair[1])
        }
    }

    func encode(to encoder: any Encoder) throws {
        try ranges.map { [$0.lowerBound, $0.upperBound] }.encode(to: encoder)
    }
}

extension Range<Int64> {
    /// The byte count (`count` is an `Int`).
    var length: Int64 { upperBound - lowerBound }
}
