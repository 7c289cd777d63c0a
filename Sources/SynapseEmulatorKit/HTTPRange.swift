import Foundation

/// What every emulator's file download needs of HTTP: one byte range, and a strong validator
/// of the file's version.
public enum HTTPRange {
    /// One `bytes=a-b`, `bytes=a-` or `bytes=-n` range; nil when it cannot be satisfied.
    public static func parse(_ header: String, size: Int) -> ClosedRange<Int>? {
        guard header.hasPrefix("bytes="), !header.contains(",") else { return nil }
        let spec = header.dropFirst(6).split(separator: "-", omittingEmptySubsequences: false)
        guard spec.count == 2 else { return nil }
        if spec[0].isEmpty {
            guard let n = Int(spec[1]), n > 0 else { return nil }
            return max(0, size - n)...(size - 1)
        }
        guard let start = Int(spec[0]), start < size else { return nil }
        let end = spec[1].isEmpty ? size - 1 : min(Int(spec[1]) ?? -1, size - 1)
        return end >= start ? start...end : nil
    }

    /// What a GET of a file of `size` bytes (> 0) in version `etag` answers: the whole file
    /// (200), the range asked (206, with its `Content-Range`), or none (416, `bytes */SIZE`).
    /// A `Range` with an `If-Range` naming another version gets the whole file.
    public struct Answer: Sendable, Equatable {
        public var status: Int
        public var range: ClosedRange<Int>?
        public var contentRange: String?
    }

    public static func answer(range header: String?, ifRange: String?, size: Int, etag: String) -> Answer {
        guard let header, ifRange.map({ $0 == etag }) ?? true else { return Answer(status: 200, range: 0...(size - 1)) }
        guard let requested = parse(header, size: size) else { return Answer(status: 416, range: nil, contentRange: "bytes */\(size)") }
        return Answer(status: 206, range: requested, contentRange: "bytes \(requested.lowerBound)-\(requested.upperBound)/\(size)")
    }

    /// Size and modification time, to the nanosecond: another version has another tag.
    public static func etag(of url: URL) -> String {
        var st = stat()
        guard stat(url.path, &st) == 0 else { return "\"0\"" }
        return "\"\(st.st_size)-\(st.st_mtim.tv_sec)-\(st.st_mtim.tv_nsec)\""
    }
}
