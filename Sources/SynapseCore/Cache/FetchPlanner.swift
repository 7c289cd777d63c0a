/// Decides which byte ranges to fetch for a read: the parts of it nothing covers yet, and,
/// for a sequential reader, the next stretch ahead before the reader gets there.
struct FetchPlanner {
    /// The smallest fetch worth a request.
    var minimumFetch: Int64 = 1 << 20

    /// New fetches for a read of `want` in a file of `size` bytes, given `coverage`: the bytes
    /// present or promised by running fetches. `readAhead` is how far ahead of the read the
    /// reader wants bytes (0 for random reads); the next stretch is fetched once less than
    /// half of that is covered and no stretch already waits ahead (`aheadStarted`: a running
    /// fetch begins past the read), so a sequential reader has one fetch feeding it and at
    /// most one more filling ahead. `isReadAhead` says whether the last range is such a stretch.
    func plan(want: Range<Int64>, size: Int64, coverage: ByteRanges, readAhead: Int64, aheadStarted: Bool = false)
        -> (ranges: [Range<Int64>], isReadAhead: Bool)
    {
        var coverage = coverage
        var ranges: [Range<Int64>] = []
        for gap in coverage.gaps(in: want) {
            let range = stretch(from: gap.lowerBound, length: max(minimumFetch, gap.length), size: size, coverage: coverage)
            ranges.append(range)
            coverage.insert(range)
        }
        guard readAhead > 0, !aheadStarted, want.upperBound < size else { return (ranges, false) }
        let horizon = coverage.contiguousEnd(from: want.upperBound)
        guard horizon < size, horizon - want.upperBound < readAhead / 2 else { return (ranges, false) }
        ranges.append(stretch(from: horizon, length: max(minimumFetch, readAhead), size: size, coverage: coverage))
        return (ranges, true)
    }

    /// `length` bytes from `start`, cut at the next covered byte; a remainder shorter than
    /// the stretch itself is taken along rather than left for a tiny request later.
    private func stretch(from start: Int64, length: Int64, size: Int64, coverage: ByteRanges) -> Range<Int64> {
        let limit = min(size, coverage.nextPresent(from: start) ?? size)
        var end = min(start + length, limit)
        if limit - end < length { end = limit }
        return start..<end
    }
}

/// One reader's read-ahead: grows while it reads sequentially, from `initial` doubling to
/// `maximum` (as mountpoint-s3 does), and drops to nothing on a jump.
struct ReadAhead {
    static let initial: Int64 = 1 << 20
    static let maximum: Int64 = 256 << 20
    // The kernel sends a sequential reader's requests a little out of order.
    private static let tolerance: Int64 = 4 << 20

    private var expected: Int64 = 0
    private(set) var window: Int64 = ReadAhead.initial

    /// The read-ahead for a read at `offset`: the current window when it continues the
    /// previous reads, 0 when it jumps elsewhere.
    mutating func observe(offset: Int64, length: Int64) -> Int64 {
        defer { expected = max(expected, offset + length) }
        if abs(offset - expected) <= Self.tolerance { return window }
        expected = 0
        window = Self.initial
        return 0
    }

    /// A read-ahead stretch was fetched: the next one is twice as long.
    mutating func grow() {
        window = min(window * 2, Self.maximum)
    }
}
