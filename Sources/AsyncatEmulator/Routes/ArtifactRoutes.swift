import Foundation
import Hummingbird
import SynapseEmulatorKit

/// The working directory's artifacts: a flat list, and each file as JSON or raw (Range).
struct ArtifactRoutes {
    let store: AsyncatStore
    let faults: AsyncatFaults

    func register(on router: Router<some RequestContext>) {
        router.get("/api/ai/artifacts") { _, _ in try list() }
        router.get("/api/ai/artifacts/:filename") { request, context in
            try await file(request, name: context.parameters.get("filename") ?? "")
        }
    }

    private func list() throws -> Response {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: store.artifacts.path)) ?? []
        let rows: [[String: Any]] = names.filter { !$0.hasPrefix(".") }.compactMap { name in
            let url = store.artifacts.appendingPathComponent(name)
            guard let values = try? url.resourceValues(forKeys: [.fileSizeKey, .contentModificationDateKey, .isDirectoryKey]),
                  values.isDirectory != true else { return nil }
            return ["filename": name, "path": name, "type": name.hasSuffix(".md") ? "markdown" : "file", "size": values.fileSize ?? 0,
                    "modified": AsyncatResponse.iso(values.contentModificationDate ?? Date())]
        }.sorted { ($0["modified"] as? String ?? "") > ($1["modified"] as? String ?? "") }
        return AsyncatResponse.ok(["count": rows.count, "artifacts": rows])
    }

    private func file(_ request: Request, name: String) async throws -> Response {
        // The name is reduced to its last component, as the server's code does.
        let base = (name.removingPercentEncoding ?? name).split(separator: "/").last.map(String.init) ?? ""
        let url = store.artifacts.appendingPathComponent(base)
        guard !base.isEmpty, base != "..", let data = FileManager.default.contents(atPath: url.path) else { throw AsyncatError.notFound("Artifact not found") }
        guard request.asyncatQuery("download") == "1" else {
            return AsyncatResponse.ok(["filename": base, "type": "text/plain", "size": data.count, "content": String(decoding: data, as: UTF8.self)])
        }
        let etag = HTTPRange.etag(of: url)
        var headers: HTTPFields = [.contentType: "application/octet-stream", .acceptRanges: "bytes", .eTag: etag]
        if data.isEmpty {
            headers[.contentLength] = "0"
            return Response(status: .ok, headers: headers)
        }
        let answer = HTTPRange.answer(range: request.headers[.range], ifRange: request.headers[.ifRange], size: data.count, etag: etag)
        headers[.contentRange] = answer.contentRange
        let status = HTTPResponse.Status(code: answer.status)
        guard let range = answer.range else { return Response(status: status, headers: headers) }
        headers[.contentLength] = "\(range.count)"
        let slice = data[range]
        let cut = faults.current.truncateDownloadsAt
        if cut > 0, slice.count > cut {
            let sent = slice.prefix(Int(cut))
            return Response(status: status, headers: headers, body: ResponseBody { writer in
                try await writer.write(ByteBuffer(bytes: sent))
                throw CancellationError()
            })
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: slice)))
    }
}
