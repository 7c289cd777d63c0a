import Foundation
import Synchronization
import SynapseCore

/// Files dropped into a conversation's uploads/, kept on disk until its next run carries them
/// as `fileAttachments`, within the server's limits (which it enforces by dropping, silently):
/// 10 files a run, text up to 120,000 characters, images under 8,000,000 characters of data URL.
final class AsyncatAttachments: Sendable {
    static let maxFiles = 10
    static let maxTextBytes: Int64 = 120_000
    /// Base64 grows 4/3: an image this size stays under the server's 8,000,000-character data URL.
    static let maxImageBytes: Int64 = 5_900_000
    static let imageTypes = ["png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"]

    let directory: URL
    /// Files kept per task, in the order they came.
    private let kept = Mutex<[String: [URL]]>([:])

    init(directory: URL) {
        self.directory = directory
    }

    /// Keeps the upload for the task's next run; its reference is the file kept.
    func keep(_ body: UploadBody, as name: String, taskId: String) throws(RemoteError) -> String {
        // Files gone from disk (sent, or abandoned) wait no more.
        let count = kept.withLock { kept in
            kept[taskId]?.removeAll { !FileManager.default.fileExists(atPath: $0.path) }
            return kept[taskId]?.count ?? 0
        }
        guard count < Self.maxFiles else {
            throw .tooMany("\(name): a run takes at most \(Self.maxFiles) attached files, and \(count) wait for the next prompt")
        }
        let ext = (name as NSString).pathExtension.lowercased()
        let limit = Self.imageTypes[ext] != nil ? Self.maxImageBytes : Self.maxTextBytes
        let folder = directory.appendingPathComponent(UUID().uuidString.lowercased(), isDirectory: true)
        let file = folder.appendingPathComponent(SafeName.component(name))
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Self.copy(body, to: file, limit: limit, name: name)
        } catch let error as RemoteError {
            try? FileManager.default.removeItem(at: folder)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: folder)
            throw .refused("\(name): cannot keep it for the next run: \(error)")
        }
        kept.withLock { $0[taskId, default: []].append(file) }
        return file.path
    }

    /// The attachments of a run, from the references of its prompt (bounded: read whole).
    func attachments(_ references: [String]) -> [[String: Any]] {
        references.compactMap { path in
            let url = URL(fileURLWithPath: path)
            guard let data = try? Data(contentsOf: url) else { return nil }
            let name = url.lastPathComponent
            let ext = (name as NSString).pathExtension.lowercased()
            var attachment: [String: Any] = ["name": name, "path": name, "promptOnly": true, "ext": ext, "size": data.count]
            if let mime = Self.imageTypes[ext] {
                attachment["mime"] = mime
                attachment["dataUrl"] = "data:\(mime);base64," + data.base64EncodedString()
            } else {
                attachment["mime"] = "text/plain"
                attachment["content"] = String(decoding: data, as: UTF8.self)
            }
            return attachment
        }
    }

    /// The run carrying them was sent: they are gone from disk.
    func sent(_ references: [String], taskId: String) {
        let urls = Set(references.map { URL(fileURLWithPath: $0) })
        kept.withLock { $0[taskId]?.removeAll { urls.contains($0) } }
        for url in urls { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
    }

    private static func copy(_ body: UploadBody, to file: URL, limit: Int64, name: String) throws {
        switch body {
        case .file(let source):
            let size = (try FileManager.default.attributesOfItem(atPath: source.path)[.size] as? NSNumber)?.int64Value ?? 0
            guard size <= limit else { throw RemoteError.tooLarge("\(name) is \(size) bytes; Asyncat takes at most \(limit) in a run") }
            try FileManager.default.copyItem(at: source, to: file)
        case .stream(let stream):
            FileManager.default.createFile(atPath: file.path, contents: nil)
            let handle = try FileHandle(forWritingTo: file)
            defer { try? handle.close() }
            var buffer = [UInt8](repeating: 0, count: 64 << 10)
            var total: Int64 = 0
            while true {
                let count = buffer.withUnsafeMutableBytes { stream.read(into: $0) }
                guard let count else { throw RemoteError.interrupted("upload of \(name) abandoned") }
                if count == 0 { break }
                total += Int64(count)
                guard total <= limit else { throw RemoteError.tooLarge("\(name) is over \(limit) bytes; Asyncat takes at most that in a run") }
                try handle.write(contentsOf: buffer[0..<count])
            }
        }
    }
}
