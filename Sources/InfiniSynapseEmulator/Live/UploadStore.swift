import Crypto
import Foundation
import SynapseEmulatorKit
import Hummingbird

/// Receives multipart uploads straight to disk (never whole in memory) and places them.
enum UploadStore {
    struct Received {
        var originalName: String
        var size: Int64
        var sha256: String
        var temporary: URL
    }

    /// Streams the `file` part of a multipart body into a temporary file inside `directory`.
    static func receive(_ request: Request, into directory: URL, maxBytes: Int64) async throws -> Received {
        guard let contentType = request.headers[.contentType],
              let boundary = contentType.firstMatch(of: /boundary="?([^";]+)"?/)?.output.1 else {
            throw APIError(status: .badRequest, code: 400, message: "expected multipart/form-data with a boundary")
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let sink = PartSink(directory: directory, maxBytes: maxBytes)
        var reader = MultipartReader(boundary: String(boundary))
        do {
            for try await buffer in request.body {
                try buffer.withUnsafeReadableBytes { bytes in
                    try reader.feed(bytes) { event in
                        switch event {
                        case .headers(let headers): sink.begin(headers)
                        case .body(let slice): sink.body(slice)
                        case .partEnd: sink.partComplete()
                        }
                    }
                }
                if let error = sink.error { throw error }
            }
        } catch {
            sink.abandon()
            throw error
        }
        guard let received = sink.received else {
            sink.abandon()
            throw APIError(status: .badRequest, code: 400, message: "no file uploaded (multipart field \"file\")")
        }
        return received
    }

    /// A name from a client, reduced to one safe file name.
    static func safeName(_ raw: String) -> String {
        let base = raw.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let cleaned = String(base.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F })
        return cleaned.isEmpty || cleaned == "." || cleaned == ".." ? "upload.bin" : String(cleaned.prefix(200))
    }

    /// Where `/api/ai/upload` puts files for the agent: the workspace's top folder.
    static func sandboxFile(named name: String, taskId: String, store: TaskStore) -> URL? {
        let url = store.workspaceDirectory(of: taskId).appendingPathComponent(safeName(name))
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    static func place(_ received: Received, at destination: URL) throws {
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        _ = try? FileManager.default.removeItem(at: destination)
        try FileManager.default.moveItem(at: received.temporary, to: destination)
    }
}

/// Collects the parts the parser reports; only the part named `file` is kept, on disk.
private final class PartSink {
    let directory: URL
    let maxBytes: Int64
    var headers: [String: String] = [:]
    var handle: FileHandle?
    var temporary: URL?
    var filename = ""
    var size: Int64 = 0
    var hasher = SHA256()
    var inFilePart: Bool?
    var received: PartSinkResult?
    var error: APIError?

    typealias PartSinkResult = UploadStore.Received

    init(directory: URL, maxBytes: Int64) {
        self.directory = directory
        self.maxBytes = maxBytes
    }

    func begin(_ partHeaders: [String: String]) {
        headers = partHeaders
        inFilePart = nil
    }

    func body(_ bytes: ArraySlice<UInt8>) {
        guard error == nil else { return }
        if inFilePart == nil {
            let disposition = headers["content-disposition"] ?? ""
            let field = disposition.firstMatch(of: /name="([^"]*)"/)?.output.1
            inFilePart = field == "file" && received == nil
            if inFilePart == true {
                filename = disposition.firstMatch(of: /filename="([^"]*)"/).map { String($0.output.1) } ?? "upload.bin"
                let url = directory.appendingPathComponent(".incoming-\(UUID().uuidString)")
                FileManager.default.createFile(atPath: url.path, contents: nil)
                temporary = url
                handle = try? FileHandle(forWritingTo: url)
            }
        }
        guard inFilePart == true, let handle else { return }
        size += Int64(bytes.count)
        if size > maxBytes {
            error = APIError(status: .badRequest, code: 400, message: "file too large: the limit is \(maxBytes) bytes")
            return
        }
        bytes.withUnsafeBytes { raw in
            hasher.update(bufferPointer: raw)
            handle.write(Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: raw.baseAddress!), count: raw.count, deallocator: .none))
        }
    }

    func partComplete() {
        // A part with an empty body never saw `body`: open it now, so empty files arrive too.
        if inFilePart == nil { body([]) }
        if inFilePart == true, error == nil, let temporary {
            try? handle?.close()
            let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
            received = UploadStore.Received(originalName: filename, size: size, sha256: digest, temporary: temporary)
        }
        handle = nil
        headers = [:]
        inFilePart = nil
    }

    func abandon() {
        try? handle?.close()
        if let temporary { try? FileManager.default.removeItem(at: temporary) }
    }
}
