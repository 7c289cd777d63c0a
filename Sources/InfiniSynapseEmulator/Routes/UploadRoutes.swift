import Foundation
import Hummingbird

/// `taskUpload` (both paths) archives a file in the task workspace; `/api/ai/upload` answers
/// the agent's `upload_file_to_sandbox`. Bodies stream to disk.
struct UploadRoutes {
    let store: TaskStore
    let faults: Faults
    let maxBytes: Int64

    func register(on router: Router<some RequestContext>) {
        for path in ["/api/tools/taskUpload/:taskId", "/api/taskUpload/:taskId"] {
            router.post(RouterPath(stringLiteral: path)) { request, context in
                try await taskUpload(request, taskId: context.parameters.get("taskId") ?? "")
            }
        }
        router.post("/api/ai/upload") { request, _ in
            let taskId = try request.requireQuery("taskId")
            let received = try await UploadStore.receive(request, into: store.workspaceDirectory(of: taskId), maxBytes: maxBytes)
            try failIfAsked(discarding: received)
            let name = UploadStore.safeName(received.originalName)
            try UploadStore.place(received, at: store.workspaceDirectory(of: taskId).appendingPathComponent(name))
            return APIResponse.ok(["filename": name, "name": received.originalName, "size": received.size, "path": name])
        }
        router.get("/api/uploadConfig") { _, _ in
            APIResponse.ok(["maxFileSizeMB": maxBytes / 1_000_000, "maxFileSizeBytes": maxBytes, "chat": ["maxFiles": 10]])
        }
    }

    private func taskUpload(_ request: Request, taskId: String) async throws -> Response {
        guard TaskIDs.isValid(taskId) else { throw APIError.invalid("taskId is not valid") }
        let subdir = request.query("subdir").map(UploadStore.safeName) ?? "upload_documents"
        let workspace = store.workspaceDirectory(of: taskId)
        let received = try await UploadStore.receive(request, into: workspace, maxBytes: maxBytes)
        try failIfAsked(discarding: received)
        let original = UploadStore.safeName(received.originalName)
        let ext = (original as NSString).pathExtension
        let name = request.query("naming") == "hash" ? received.sha256 + (ext.isEmpty ? "" : "." + ext) : original
        let logicalPath = subdir + "/" + name
        try UploadStore.place(received, at: workspace.appendingPathComponent(logicalPath))
        return APIResponse.ok(["filename": name, "assetId": String(received.sha256.prefix(24)), "logicalPath": logicalPath,
                               "name": received.originalName, "size": received.size])
    }

    /// The `failUploads` fault strikes once the whole body has arrived, as a storage failure on
    /// the server would: the client has sent everything and still gets 500.
    private func failIfAsked(discarding received: UploadStore.Received) throws {
        guard faults.takeUploadFailure() else { return }
        try? FileManager.default.removeItem(at: received.temporary)
        throw APIError(status: .internalServerError, code: 500, message: "upload failed (injected fault)")
    }
}

/// Client-generated task ids: UUIDs in practice; anything safe as one path component is accepted.
enum TaskIDs {
    static func isValid(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 100 && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }
}
