import CCurl
import Foundation
import SynapseCore
import Synchronization

/// Timeouts applied to every request: no call can hang on a dead or stalled server.
public struct Timeouts: Sendable {
    /// Time to establish the TCP connection.
    public var connect: Double
    /// A transfer slower than 1 byte/s for this long is abandoned (the idle timeout).
    public var idle: Double
    /// A whole JSON request; downloads have no total limit, only the idle one.
    public var request: Double

    public init(connect: Double = 5, idle: Double = 15, request: Double = 60) {
        self.connect = connect
        self.idle = idle
        self.request = request
    }
}

/// One HTTP request as a backend builds it.
public struct HTTPRequest {
    public var method = "GET"
    public var url: String
    public var headers: [String] = []
    public var body: Data?
    /// A file sent as the multipart field `field`, streamed by libcurl's mime API: from disk,
    /// or (size unknown, chunked) from an `UploadStream` as its bytes are written.
    public var upload: (field: String, body: UploadBody, filename: String)?

    public init(method: String = "GET", url: String, headers: [String] = [], body: Data? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// A finished exchange: status and (bounded) body.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var body: Data

    public init(status: Int, body: Data) {
        self.status = status
        self.body = body
    }
}

/// Runs requests on libcurl, on the calling thread, reusing pooled easy handles.
public final class CurlTransport: Sendable {
    /// JSON answers larger than this are refused rather than held in memory (a listing of
    /// 100,000 files is about 10 MiB; 100,000 short messages about 8 MiB).
    public static let maxBodyBytes = 16 << 20

    private let timeouts: Timeouts
    /// The CA bundle server certificates are checked against (libcurl's default when nil).
    private let caFile: String?
    /// The error a 2xx JSON answer stands for, in the server's own envelope (nil: none);
    /// every backend says, since a server may answer a rejected key with HTTP 200.
    private let errorInSuccess: @Sendable (HTTPResponse) -> RemoteError?
    /// The session's cookies, for servers that set one at login (nil: cookies are not kept).
    private let cookies: CookieJar?
    private let pool = Mutex<[CurlEasyBox]>([])

    public init(timeouts: Timeouts, caFile: String? = nil, cookies: CookieJar? = nil,
                errorInSuccess: @escaping @Sendable (HTTPResponse) -> RemoteError?) {
        self.timeouts = timeouts
        self.caFile = caFile
        self.cookies = cookies
        self.errorInSuccess = errorInSuccess
    }

    /// Performs `request` and returns its status and whole (bounded) body.
    public func perform(_ request: HTTPRequest) -> Result<HTTPResponse, TransportFailure> {
        let sink = BodySink(limit: Self.maxBodyBytes, stream: nil)
        // Uploads may take long: only the idle timeout applies to them.
        let total = request.upload == nil ? timeouts.request : nil
        return run(request, sink: sink, totalTimeout: total, idleTimeout: timeouts.idle).map { status, _ in
            HTTPResponse(status: status, body: sink.collected)
        }
    }

    /// Performs `request`, handing a 2xx body to `stream` chunk by chunk; other bodies are
    /// collected (bounded) so their error envelope can be read. A 2xx body that says it is
    /// JSON is held first: a server may answer an error (a rejected key, code 1101) with HTTP
    /// 200, and such an envelope must come back as `bodyError`, never reach `stream` as content.
    public func stream(_ request: HTTPRequest, idleTimeout: Double? = nil, into stream: @escaping (ResponseHead, _ bytes: UnsafeRawBufferPointer) -> Bool)
        -> Result<(response: HTTPResponse, contentLength: Int64?, bodyError: RemoteError?), TransportFailure>
    {
        let sink = BodySink(limit: 64 << 10, stream: stream)
        return run(request, sink: sink, totalTimeout: nil, idleTimeout: idleTimeout ?? timeouts.idle).flatMap { status, length in
            let response = HTTPResponse(status: status, body: sink.collected)
            guard let head = sink.heldHead else { return .success((response, length, nil)) }
            if let error = errorInSuccess(response) { return .success((response, length, error)) }
            // Held, and not an error: the content after all.
            let delivered = sink.collected.withUnsafeBytes { stream(head, $0) }
            return delivered ? .success((HTTPResponse(status: status, body: Data()), length, nil)) : .failure(.aborted)
        }
    }

    private func run(_ request: HTTPRequest, sink: BodySink, totalTimeout: Double?, idleTimeout: Double)
        -> Result<(Int, Int64?), TransportFailure>
    {
        // The operation this request serves may be cancelled (its caller was killed): then the
        // transfer stops at libcurl's next progress call.
        let cancellation = Cancellation.current
        if cancellation?.isCancelled == true { return .failure(.interrupted) }
        let easy = pool.withLock { $0.popLast() }?.easy ?? CurlEasy()
        defer { pool.withLock { $0.append(CurlEasyBox(easy: easy)) } }
        easy.reset()
        let cancellationBox = cancellation.map { Unmanaged.passRetained($0) }
        defer { cancellationBox?.release() }
        if let cancellationBox {
            easy.set(CURLOPT_NOPROGRESS, 0)
            easy.set(CURLOPT_XFERINFODATA, pointer: cancellationBox.toOpaque())
            easy.setProgress { data, _, _, _, _ in
                Unmanaged<Cancellation>.fromOpaque(data!).takeUnretainedValue().isCancelled ? 1 : 0
            }
        }
        easy.set(CURLOPT_URL, request.url)
        // The path is sent as built (ids are encoded): libcurl never squashes a `..` in it.
        easy.set(CURLOPT_PATH_AS_IS, 1)
        if let caFile { easy.set(CURLOPT_CAINFO, caFile) }
        cookies?.attach(to: easy)
        easy.set(CURLOPT_NOSIGNAL, 1)
        easy.set(CURLOPT_CONNECTTIMEOUT_MS, Int(timeouts.connect * 1000))
        easy.set(CURLOPT_LOW_SPEED_LIMIT, 1)
        easy.set(CURLOPT_LOW_SPEED_TIME, max(1, Int(idleTimeout.rounded(.up))))
        if let totalTimeout { easy.set(CURLOPT_TIMEOUT_MS, Int(totalTimeout * 1000)) }
        easy.set(CURLOPT_TCP_KEEPALIVE, 1)
        easy.set(CURLOPT_BUFFERSIZE, 512 << 10)
        // An empty `Expect:` stops libcurl from asking for `100 Continue` before a body and then
        // waiting a second for an answer servers do not send.
        let namesType = request.headers.contains { $0.lowercased().hasPrefix("content-type:") }
        let bodyHeaders = request.body != nil ? (namesType ? [] : ["Content-Type: application/json"]) + ["Expect:"]
            : request.upload != nil ? ["Expect:"] : []
        let headers = CurlHeaders(request.headers + bodyHeaders)
        easy.set(CURLOPT_HTTPHEADER, pointer: UnsafeMutableRawPointer(headers.list))
        switch request.method {
        case "GET": break
        case "POST":
            easy.set(CURLOPT_POST, 1)
        default:
            easy.set(CURLOPT_CUSTOMREQUEST, request.method)
        }
        let body = request.body ?? Data()
        let bodyPointer = body.withUnsafeBytes { raw -> UnsafeMutableRawPointer? in
            guard request.body != nil else { return nil }
            let copy = UnsafeMutableRawPointer.allocate(byteCount: max(1, raw.count), alignment: 1)
            if raw.count > 0 { copy.copyMemory(from: raw.baseAddress!, byteCount: raw.count) }
            return copy
        }
        defer { bodyPointer?.deallocate() }
        if let bodyPointer {
            easy.set(CURLOPT_POSTFIELDSIZE, body.count)
            easy.set(CURLOPT_POSTFIELDS, pointer: bodyPointer)
        }
        var mime: OpaquePointer?
        var streamBox: Unmanaged<StreamBox>?
        defer {
            curl_mime_free(mime)
            streamBox?.release()
        }
        if let upload = request.upload {
            mime = curl_mime_init(easy.handle)
            let part = curl_mime_addpart(mime)
            curl_mime_name(part, upload.field)
            switch upload.body {
            case .file(let file):
                guard curl_mime_filedata(part, file.path) == CURLE_OK else { return .failure(.other("cannot read \(file.path)")) }
            case .stream(let stream):
                streamBox = Unmanaged.passRetained(StreamBox(stream))
                curl_mime_data_cb(part, -1, { buffer, size, count, box in
                    let stream = Unmanaged<StreamBox>.fromOpaque(box!).takeUnretainedValue().stream
                    return stream.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: size * count)) ?? Int(CURL_READFUNC_ABORT)
                }, nil, nil, streamBox!.toOpaque())
            }
            curl_mime_filename(part, upload.filename)
            curl_mime_type(part, "application/octet-stream")
            easy.set(CURLOPT_MIMEPOST, pointer: UnsafeMutableRawPointer(mime))
            // 1 MiB reads of the file instead of 64 KiB: a big upload then costs far fewer syscalls.
            easy.set(CURLOPT_UPLOAD_BUFFERSIZE, 1 << 20)
        }
        sink.easy = easy
        let box = Unmanaged.passRetained(sink)
        defer { box.release() }
        easy.set(CURLOPT_WRITEDATA, pointer: box.toOpaque())
        easy.set(CURLOPT_WRITEFUNCTION, callback: { ptr, size, count, userdata in
            let sink = Unmanaged<BodySink>.fromOpaque(userdata!).takeUnretainedValue()
            let bytes = UnsafeRawBufferPointer(start: ptr, count: size * count)
            return sink.accept(bytes) ? size * count : 0
        })
        if let failure = easy.setupFailure {
            sink.easy = nil
            return .failure(.other(failure))
        }
        let code = easy.perform()
        sink.easy = nil
        switch code {
        case CURLE_OK:
            return .success((easy.responseCode(), easy.contentLength()))
        case CURLE_WRITE_ERROR where sink.abortedByCaller:
            return .failure(.aborted)
        case CURLE_ABORTED_BY_CALLBACK:
            return .failure(.interrupted)
        case CURLE_WRITE_ERROR where sink.overflowed:
            return .failure(.other("answer larger than \(Self.maxBodyBytes) bytes"))
        case CURLE_OPERATION_TIMEDOUT:
            return .failure(.timedOut(CurlEasy.describe(code)))
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE:
            return .failure(.untrusted(CurlEasy.describe(code)))
        default:
            return .failure(.unreachable(CurlEasy.describe(code)))
        }
    }
}

/// What the status line and headers of a streamed answer say.
public struct ResponseHead {
    public var status: Int
    /// The whole file's size: the total of `Content-Range: bytes a-b/total` in a 206, the
    /// length of a 200.
    public var fileSize: Int64?
    /// The bytes a 206 carries, from `Content-Range` (nil when it is missing or unreadable).
    public var range: ClosedRange<Int64>?
    /// The answer says it is JSON (`Content-Type`).
    public var isJSON = false
    /// What identifies this version of the file: a strong `ETag`, else `Last-Modified`.
    public var validator: String?

    public init(status: Int, fileSize: Int64?, range: ClosedRange<Int64>? = nil, validator: String? = nil) {
        self.status = status
        self.fileSize = fileSize
        self.range = range
        self.validator = validator
    }

    init(_ easy: CurlEasy) {
        status = easy.responseCode()
        if status == 206, let contentRange = easy.header("Content-Range").flatMap(Self.parseContentRange) {
            range = contentRange.range
            fileSize = contentRange.total
        } else if status != 206 {
            fileSize = easy.contentLength()
        }
        isJSON = easy.header("Content-Type")?.lowercased().contains("json") ?? false
        if let etag = easy.header("ETag"), !etag.hasPrefix("W/") {
            validator = etag
        } else {
            validator = easy.header("Last-Modified")
        }
    }

    /// `bytes a-b/total` (total may be `*`); nil for anything else, or a range that is not one.
    public static func parseContentRange(_ value: String) -> (range: ClosedRange<Int64>, total: Int64?)? {
        let value = value.trimmingCharacters(in: .whitespaces)
        guard value.hasPrefix("bytes ") else { return nil }
        let parts = value.dropFirst(6).split(separator: "/", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        let bounds = parts[0].split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard bounds.count == 2, let first = Int64(bounds[0]), let last = Int64(bounds[1]), first >= 0, last >= first else { return nil }
        let total = parts[1] == "*" ? nil : Int64(parts[1])
        if parts[1] != "*" { guard let total, total > last else { return nil } }
        return (first...last, total)
    }
}

/// Why a transfer did not complete.
public enum TransportFailure: Error {
    case unreachable(String)
    case timedOut(String)
    /// The caller's stream asked to stop.
    case aborted
    /// The operation the request served was cancelled.
    case interrupted
    /// The server's certificate did not verify.
    case untrusted(String)
    case other(String)
}

private final class StreamBox {
    let stream: any UploadStream
    init(_ stream: any UploadStream) { self.stream = stream }
}

private struct CurlEasyBox: @unchecked Sendable {
    let easy: CurlEasy
}

/// Receives a response body: streams 2xx bodies to the caller, collects the rest.
private final class BodySink {
    let limit: Int
    let stream: ((ResponseHead, UnsafeRawBufferPointer) -> Bool)?
    var easy: CurlEasy?
    var collected = Data()
    var abortedByCaller = false
    var overflowed = false
    private var streaming: Bool?
    /// A 2xx JSON body being held before it is streamed (up to `probeLimit`).
    private var probing = false
    private static let probeLimit = 64 << 10
    private var head = ResponseHead(status: 0, fileSize: nil)

    /// The head of a 2xx answer held whole (never streamed): its body is in `collected`.
    var heldHead: ResponseHead? { streaming == true && probing ? head : nil }

    init(limit: Int, stream: ((ResponseHead, UnsafeRawBufferPointer) -> Bool)?) {
        self.limit = limit
        self.stream = stream
    }

    func accept(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if streaming == nil {
            head = easy.map(ResponseHead.init) ?? head
            streaming = stream != nil && (200..<300).contains(head.status)
            probing = streaming == true && head.isJSON
        }
        if streaming == true {
            if probing {
                if collected.count + bytes.count <= Self.probeLimit {
                    collected.append(contentsOf: bytes)
                    return true
                }
                // Too long for an error envelope: content, streamed from its start.
                probing = false
                let held = collected
                collected = Data()
                guard held.withUnsafeBytes({ stream!(head, $0) }) else {
                    abortedByCaller = true
                    return false
                }
            }
            let keepGoing = stream!(head, bytes)
            if !keepGoing { abortedByCaller = true }
            return keepGoing
        }
        guard collected.count + bytes.count <= limit else {
            overflowed = true
            return false
        }
        collected.append(contentsOf: bytes)
        return true
    }
}
