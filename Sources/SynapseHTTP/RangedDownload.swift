import Foundation
import SynapseCore

extension CurlTransport {
    /// Streams `length` bytes of a file from `offset` (to its end when nil) into `sink`, for
    /// every backend's download route: asks with Range (and If-Range `ifRange`, so a changed
    /// file comes whole instead of mixing versions), places each chunk at its offset, and
    /// refuses a 206 that is not the range asked for. A non-2xx answer becomes the error
    /// `failure` throws for it (each backend reads its own envelope).
    public func download(_ request: HTTPRequest, path: String, offset: Int64, length: Int64?, ifRange: String?,
                         into sink: (DownloadChunk) -> Bool,
                         failure: (HTTPResponse) throws(RemoteError) -> Void) throws(RemoteError) -> DownloadResult {
        var request = request
        if offset > 0 || length != nil {
            request.headers.append("Range: bytes=\(offset)-" + (length.map { "\(offset + max(1, $0) - 1)" } ?? ""))
            if let ifRange { request.headers.append("If-Range: \(ifRange)") }
        }
        var written: Int64 = 0
        var refusal: RemoteError?
        let outcome = withoutActuallyEscaping(sink) { sink in
            stream(request) { head, chunk in
                // A 200 answer is the whole file; a 206 must be the range asked for, else its
                // bytes would be stored where they do not belong.
                var start: Int64 = 0
                if head.status == 206 {
                    guard let range = head.range, range.lowerBound == offset else {
                        refusal = .malformed("download of \(path): asked for bytes from \(offset), the server sent "
                                             + (head.range.map { "\($0.lowerBound)-\($0.upperBound)" } ?? "no Content-Range"))
                        return false
                    }
                    // (Compared as lengths: the bounds come from the server and may be huge.)
                    guard written + Int64(chunk.count) - 1 <= range.upperBound - range.lowerBound else {
                        refusal = .malformed("download of \(path): more bytes than its Content-Range \(range.lowerBound)-\(range.upperBound)")
                        return false
                    }
                    start = range.lowerBound
                }
                let position = start + written
                written += Int64(chunk.count)
                return sink(DownloadChunk(offset: position, bytes: chunk, fileSize: head.fileSize, validator: head.validator))
            }
        }
        if let refusal { throw refusal }
        switch outcome {
        case .failure(let transportFailure):
            throw transportFailure.remoteError(what: "download of \(path)")
        case .success(let (_, _, bodyError?)):
            throw bodyError
        case .success(let (response, bodyLength, nil)):
            if !(200..<300).contains(response.status) {
                try failure(response)
                throw .server(status: response.status, message: "unexpected status")
            }
            // (A length from the server may be anything: an overflowing sum is no size.)
            let total: Int64? = response.status == 206
                ? (length == nil ? bodyLength.flatMap { let (sum, over) = $0.addingReportingOverflow(offset); return over ? nil : sum } : nil)
                : bodyLength
            return DownloadResult(bytesWritten: written, totalSize: total)
        }
    }
}

extension TransportFailure {
    /// The failure in the core's words, saying what was being done.
    public func remoteError(what: String) -> RemoteError {
        switch self {
        case .unreachable(let m): .unreachable("\(what): \(m)")
        case .timedOut(let m): .timedOut("\(what): \(m)")
        case .aborted: .unreachable("\(what): transfer aborted")
        case .interrupted: .interrupted(what)
        case .untrusted(let m): .untrustedServer("\(what): \(m)")
        case .other(let m): .malformed("\(what): \(m)")
        }
    }
}

/// Percent-encoding for query values and path segments.
public enum URLEncoding {
    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    public static func value(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    /// One path segment: dots too are encoded, so an id of `.` or `..` can never be taken
    /// for a path step (by libcurl or a proxy) and reach another route.
    public static func segment(_ s: String) -> String { value(s).replacingOccurrences(of: ".", with: "%2E") }
}
