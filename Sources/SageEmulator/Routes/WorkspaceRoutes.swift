import Foundation
import Hummingbird
import SynapseEmulatorKit

/// Agents and their file workspaces: the list of agents, a flat recursive listing, and
/// downloads that honour Range (a missing file is HTTP 500, as the real server answers).
struct WorkspaceRoutes {
    let store: SageStore
    let faults: SageFaults
    let fileIO = FileIO()

    func register(on router: Router<some RequestContext>) {
        router.get("/api/agent/list") { _, _ in
            SageResponse.ok(store.agents.map { ["id": $0.id, "name": $0.name, "agentMode": $0.agentMode] as [String: Any] })
        }
        router.post("/api/agent/:agent/file_workspace") { _, context in try listing(context.parameters.get("agent") ?? "") }
        router.get("/api/agent/:agent/file_workspace/download") { request, context in
            try await download(request, agentId: context.parameters.get("agent") ?? "", context: context)
        }
    }

    private func folder(_ agentId: String) throws -> URL {
        guard store.agent(agentId) != nil else { throw SageError.notFound("agent \(agentId)") }
        return store.workspace(of: agentId)
    }

    private func listing(_ agentId: String) throws -> Response {
        let root = try folder(agentId)
        var files: [[String: Any]] = []
        let keys: [URLResourceKey] = [.isDirectoryKey, .fileSizeKey, .contentModificationDateKey]
        let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: keys)
        while let url = walker?.nextObject() as? URL {
            let values = try url.resourceValues(forKeys: Set(keys))
            let path = String(url.standardizedFileURL.path.dropFirst(root.standardizedFileURL.path.count + 1))
            files.append(["name": url.lastPathComponent, "path": path, "size": values.fileSize ?? 0,
                          "modified_time": values.contentModificationDate?.timeIntervalSince1970 ?? 0,
                          "is_directory": values.isDirectory ?? false])
        }
        return SageResponse.ok(files.sorted { ($0["path"] as? String ?? "") < ($1["path"] as? String ?? "") })
    }

    private func download(_ request: Request, agentId: String, context: some RequestContext) async throws -> Response {
        let root = try folder(agentId)
        let path = request.sageQuery("file_path") ?? ""
        let parts = path.split(separator: "/").map(String.init)
        let file = parts.reduce(root) { $0.appendingPathComponent($1) }
        var isDirectory: ObjCBool = false
        guard !parts.isEmpty, !parts.contains(".."), !parts.contains("."),
              FileManager.default.fileExists(atPath: file.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            return SageResponse.error(SageError(code: 500, message: "Internal Server Error", detail: "File not found: \(path)"), withHTTP200: false)
        }
        let size = (try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber)?.intValue ?? 0
        let etag = HTTPRange.etag(of: file)
        var headers: HTTPFields = [.contentType: "application/octet-stream", .acceptRanges: "bytes", .eTag: etag,
                                   .contentDisposition: "attachment; filename=\"\(file.lastPathComponent.replacingOccurrences(of: "\"", with: ""))\""]
        guard size > 0 else {
            headers[.contentLength] = "0"
            return Response(status: .ok, headers: headers)
        }
        let answer = HTTPRange.answer(range: request.headers[.range], ifRange: request.headers[.ifRange], size: size, etag: etag)
        headers[.contentRange] = answer.contentRange
        let status = HTTPResponse.Status(code: answer.status)
        guard let range = answer.range else { return Response(status: status, headers: headers) }
        headers[.contentLength] = "\(range.count)"
        let cut = faults.current.truncateDownloadsAt
        if cut > 0, range.count > cut {
            // The length promised, fewer bytes sent, then the connection cut: a broken transfer.
            let handle = try FileHandle(forReadingFrom: file)
            defer { try? handle.close() }
            try handle.seek(toOffset: UInt64(range.lowerBound))
            let sent = try handle.read(upToCount: Int(cut)) ?? Data()
            return Response(status: status, headers: headers, body: ResponseBody { writer in
                try await writer.write(ByteBuffer(bytes: sent))
                throw CancellationError()
            })
        }
        let body = try await fileIO.loadFile(path: file.path, range: range, context: context, chunkLength: 1 << 20)
        return Response(status: status, headers: headers, body: body)
    }
}
