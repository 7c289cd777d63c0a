import Foundation
import Hummingbird

/// Receives the `file` part of a multipart upload straight to disk (never whole in memory),
/// for every emulator's upload route. `observe` sees the file's bytes as they pass (a hash).
public enum MultipartFileReceiver {
    public struct Received: Sendable {
        public var originalName: String
        public var size: Int64
        /// A file in the folder given, which the caller moves or removes.
        public var temporary: URL
    }

    public enum Failure: Error, Equatable {
        case notMultipart
        case tooLarge(limit: Int64)
        case noFile
    }

    public static func receive(_ request: Request, into directory: URL, maxBytes: Int64,
                               observe: @escaping (UnsafeRawBufferPointer) -> Void = { _ in }) async throws -> Received {
        guard let contentType = request.headers[.contentType],
              let boundary = contentType.firstMatch(of: /boundary="?([^";]+)"?/)?.output.1 else { throw Failure.notMultipart }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let sink = PartSink(directory: directory, maxBytes: maxBytes, observe: observe)
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
            throw Failure.noFile
        }
        return received
    }

    /// A name from a client, reduced to one safe file name.
    public static func safeName(_ raw: String) -> String {
        let base = raw.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let cleaned = String(base.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F })
        return cleaned.isEmpty || cleaned == "." || cleaned == ".." ? "upload.bin" : String(cleaned.prefix(200))
    }

    /// Moves a received file (its `temporary`) to `destination`, replacing what is there.
    public static func place(_ temporary: URL, at destination: URL) throws {
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        _ = try? FileManager.default.removeItem(at: destination)
        try FileManager.default.moveItem(at: temporary, to: destination)
    }
}

/// Collects the parts the reader reports; only the part named `file` is kept, on disk.
private final class PartSink {
    let directory: URL
    let maxBytes: Int64
    let observe: (UnsafeRawBufferPointer) -> Void
    var headers: [String: String] = [:]
    var handle: FileHandle?
    var temporary: URL?
    var filename = ""
    var size: Int64 = 0
    var inFilePart: Bool?
    var received: MultipartFileReceiver.Received?
    var error: MultipartFileReceiver.Failure?

    init(directory: URL, maxBytes: Int64, observe: @escaping (UnsafeRawBufferPointer) -> Void) {
        self.directory = directory
        self.maxBytes = maxBytes
        self.observe = observe
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
            error = .tooLarge(limit: maxBytes)
            return
        }
        bytes.withUnsafeBytes { raw in
            observe(raw)
            handle.write(Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: raw.baseAddress!), count: raw.count, deallocator: .none))
        }
    }

    func partComplete() {
        // A part with an empty body never saw `body`: open it now, so empty files arrive too.
        if inFilePart == nil { body([]) }
        if inFilePart == true, error == nil, let temporary {
            try? handle?.close()
            received = MultipartFileReceiver.Received(originalName: filename, size: size, temporary: temporary)
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
