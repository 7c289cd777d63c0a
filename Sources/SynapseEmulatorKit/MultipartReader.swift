import Foundation

/// A streaming `multipart/form-data` reader: chunks in, part headers and body bytes out.
/// Hand-written because a byte-at-a-time state machine (MultipartKit) ran at 2 MB/s in debug
/// builds; this one finds delimiters with memchr/memcmp and passes bodies through in large slices.
public struct MultipartReader {
    public enum Event {
        case headers([String: String])
        case body(ArraySlice<UInt8>)
        case partEnd
    }

    private enum Phase { case preamble, headers, body, afterDelimiter, done }

    private let firstDelimiter: [UInt8]
    /// Before every later part, and before the body's end: CRLF, then `--boundary`.
    private let delimiter: [UInt8]
    private var phase = Phase.preamble
    private var pending: [UInt8] = []
    public static let maxHeaderBytes = 64 << 10

    public init(boundary: String) {
        firstDelimiter = Array("--\(boundary)".utf8)
        delimiter = Array("\r\n--\(boundary)".utf8)
    }

    public var isComplete: Bool { phase == .done }

    public mutating func feed(_ chunk: some Collection<UInt8>, _ emit: (Event) throws -> Void) throws {
        pending.append(contentsOf: chunk)
        var i = 0
        loop: while i < pending.count {
            switch phase {
            case .preamble:
                guard let at = find(firstDelimiter, from: i) else {
                    i = max(i, pending.count - firstDelimiter.count + 1)
                    break loop
                }
                i = at + firstDelimiter.count
                phase = .afterDelimiter
            case .afterDelimiter:
                guard pending.count - i >= 2 else { break loop }
                if pending[i] == UInt8(ascii: "-"), pending[i + 1] == UInt8(ascii: "-") {
                    phase = .done
                } else {
                    phase = .headers
                }
                i += 2
            case .headers:
                guard let end = find(Array("\r\n\r\n".utf8), from: i) else {
                    if pending.count - i > Self.maxHeaderBytes { throw MultipartError.headersTooLong }
                    break loop
                }
                try emit(.headers(Self.parseHeaders(pending[i..<end])))
                i = end + 4
                phase = .body
            case .body:
                if let at = find(delimiter, from: i) {
                    if at > i { try emit(.body(pending[i..<at])) }
                    try emit(.partEnd)
                    i = at + delimiter.count
                    phase = .afterDelimiter
                } else {
                    // Keep a possible start of the delimiter for the next chunk.
                    let safe = pending.count - (delimiter.count - 1)
                    if safe > i { try emit(.body(pending[i..<safe])) }
                    i = max(i, safe)
                    break loop
                }
            case .done:
                i = pending.count
            }
        }
        pending.removeFirst(min(i, pending.count))
    }

    private func find(_ needle: [UInt8], from start: Int) -> Int? {
        guard start < pending.count else { return nil }
        return pending.withUnsafeBytes { hay in
            needle.withUnsafeBytes { n in
                let base = hay.baseAddress!
                var i = start
                while hay.count - i >= n.count {
                    guard let hit = memchr(base + i, Int32(needle[0]), hay.count - i - n.count + 1) else { return nil }
                    let at = base.distance(to: UnsafeRawPointer(hit))
                    if memcmp(base + at, n.baseAddress!, n.count) == 0 { return at }
                    i = at + 1
                }
                return nil
            }
        }
    }

    private static func parseHeaders(_ bytes: ArraySlice<UInt8>) -> [String: String] {
        var headers: [String: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return headers
    }
}

enum MultipartError: Error { case headersTooLong }
