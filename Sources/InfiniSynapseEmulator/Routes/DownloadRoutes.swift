import Foundation
import Hummingbird
import SynapseEmulatorKit

/// `downloadTaskFile` under the current and the older path: raw bytes streamed from disk,
/// HTTP Range honoured (unless configured not to), an error envelope when the task or file is missing.
struct DownloadRoutes {
    let store: TaskStore
    let faults: Faults
    let honoursRange: Bool
    let fileIO = FileIO()

    func register(on router: Router<some RequestContext>) {
        for prefix in ["/api/tools/storage/downloadTaskFile/:taskId", "/api/storage/downloadTaskFile/:taskId"] {
            router.get(RouterPath(stringLiteral: prefix)) { request, context in try await serve(request, context: context) }
        }
    }

    private func serve(_ request: Request, context: some RequestContext) async throws -> Response {
        let taskId = context.parameters.get("taskId") ?? ""
        guard let task = store.task(taskId) else { throw APIError.notFound("task \(taskId) not found") }
        let path = try request.requireQuery("path")
        guard let file = try store.resolve(path, in: task) else { throw APIError.notFound("file \(path) not found") }
        let name = (path as NSString).lastPathComponent.replacingOccurrences(of: "\"", with: "")
        let disposition = request.query("inline") == "1" ? "inline" : "attachment; filename=\"\(name)\""
        var headers: HTTPFields = [.contentType: "application/octet-stream", .acceptRanges: honoursRange ? "bytes" : "none",
                                   .contentDisposition: disposition]
        // A strong validator of this version; If-Range naming another one gets the whole file.
        let etag = HTTPRange.etag(of: file.blob)
        headers[.eTag] = etag
        let settings = faults.current
        if settings.endlessDownloads {
            return Response(status: .ok, headers: headers, body: Self.endlessBody(file.blob))
        }
        guard file.size > 0 else {
            headers[.contentLength] = "0"
            return Response(status: .ok, headers: headers)
        }
        var range: ClosedRange<Int> = 0...Int(file.size - 1)
        var status = HTTPResponse.Status.ok
        if honoursRange, let header = request.headers[.range], request.headers[.ifRange].map({ $0 == etag }) ?? true {
            guard var requested = HTTPRange.parse(header, size: Int(file.size)) else {
                headers[.contentRange] = "bytes */\(file.size)"
                return Response(status: .rangeNotSatisfiable, headers: headers)
            }
            if settings.misplacedRanges { requested = 0...(requested.upperBound - requested.lowerBound) }
            range = requested
            status = .partialContent
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(file.size)"
        }
        headers[.contentLength] = "\(range.count)"
        let cut = settings.truncateDownloadsAt
        if cut > 0, cut < range.count {
            return Response(status: status, headers: headers, body: Self.truncatedBody(file.blob, range: range, after: Int(cut)))
        }
        let body = try await fileIO.loadFile(path: file.blob.path, range: range, context: context, chunkLength: 1 << 20)
        return Response(status: status, headers: headers, body: body)
    }

    /// Sends `limit` bytes of the range, then breaks the connection (the `truncateDownloadsAt` fault).
    static func truncatedBody(_ url: URL, range: ClosedRange<Int>, after limit: Int) -> ResponseBody {
        ResponseBody { writer in
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            try handle.seek(toOffset: UInt64(range.lowerBound))
            var sent = 0
            while sent < limit, let chunk = try handle.read(upToCount: min(1 << 16, limit - sent)), !chunk.isEmpty {
                try await writer.write(ByteBuffer(bytes: chunk))
                sent += chunk.count
            }
            throw SSEDropped()
        }
    }

    /// The file's bytes, then zeros until the client hangs up (the `endlessDownloads` fault).
    static func endlessBody(_ url: URL) -> ResponseBody {
        ResponseBody { writer in
            if let bytes = FileManager.default.contents(atPath: url.path), !bytes.isEmpty { try await writer.write(ByteBuffer(bytes: bytes)) }
            let zeros = ByteBuffer(repeating: 0, count: 1 << 16)
            while true { try await writer.write(zeros) }
        }
    }
}
