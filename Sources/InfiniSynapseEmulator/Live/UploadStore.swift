import Crypto
import Foundation
import Hummingbird
import SynapseEmulatorKit
import Synchronization

/// Receives multipart uploads straight to disk (the kit's receiver), hashed as they pass,
/// and places them.
enum UploadStore {
    struct Received {
        var originalName: String
        var size: Int64
        var sha256: String
        var temporary: URL
    }

    /// Streams the `file` part of a multipart body into a temporary file inside `directory`.
    static func receive(_ request: Request, into directory: URL, maxBytes: Int64) async throws -> Received {
        let hasher = Mutex(SHA256())
        do {
            let file = try await MultipartFileReceiver.receive(request, into: directory, maxBytes: maxBytes) { bytes in
                hasher.withLock { $0.update(bufferPointer: bytes) }
            }
            let digest = hasher.withLock { $0.finalize() }.map { String(format: "%02x", $0) }.joined()
            return Received(originalName: file.originalName, size: file.size, sha256: digest, temporary: file.temporary)
        } catch let failure as MultipartFileReceiver.Failure {
            switch failure {
            case .notMultipart: throw APIError(status: .badRequest, code: 400, message: "expected multipart/form-data with a boundary")
            case .tooLarge(let limit): throw APIError(status: .badRequest, code: 400, message: "file too large: the limit is \(limit) bytes")
            case .noFile: throw APIError(status: .badRequest, code: 400, message: "no file uploaded (multipart field \"file\")")
            }
        }
    }

    static func safeName(_ raw: String) -> String { MultipartFileReceiver.safeName(raw) }

    /// Where `/api/ai/upload` puts files for the agent: the workspace's top folder.
    static func sandboxFile(named name: String, taskId: String, store: TaskStore) -> URL? {
        let url = store.workspaceDirectory(of: taskId).appendingPathComponent(safeName(name))
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    static func place(_ received: Received, at destination: URL) throws {
        try MultipartFileReceiver.place(received.temporary, at: destination)
    }
}
