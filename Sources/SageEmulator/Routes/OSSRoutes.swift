import Foundation
import Hummingbird
import SynapseEmulatorKit

/// `POST /api/oss/upload`: a file stored apart from any conversation, answered with the URL a
/// prompt names it by; the URL serves it back.
struct OSSRoutes {
    let store: SageStore
    let faults: SageFaults
    let maxBytes: Int64

    var root: URL { store.root.appendingPathComponent("oss", isDirectory: true) }

    func register(on router: Router<some RequestContext>) {
        router.post("/api/oss/upload") { request, _ in
            let id = UUID().uuidString.lowercased()
            if faults.takeUploadFailure() {
                _ = try? await request.body.collect(upTo: .max)
                return SageResponse.error(SageError(code: 500, message: "Internal Server Error", detail: "upload failed (injected)"), withHTTP200: false)
            }
            let received: MultipartFileReceiver.Received
            do {
                received = try await MultipartFileReceiver.receive(request, into: root, maxBytes: maxBytes)
            } catch let failure as MultipartFileReceiver.Failure {
                throw SageError(code: 400, message: "upload refused", detail: "\(failure)")
            }
            let name = MultipartFileReceiver.safeName(received.originalName)
            try MultipartFileReceiver.place(received.temporary, at: root.appendingPathComponent(id).appendingPathComponent(name))
            let host = request.head.authority ?? "127.0.0.1"
            let encoded = name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? name
            return SageResponse.ok(["url": "http://\(host)/oss/\(id)/\(encoded)"])
        }
        router.get("/oss/:id/:name") { _, context in
            let id = context.parameters.get("id") ?? ""
            let name = (context.parameters.get("name") ?? "").removingPercentEncoding ?? ""
            let file = root.appendingPathComponent(MultipartFileReceiver.safeName(id)).appendingPathComponent(MultipartFileReceiver.safeName(name))
            guard let bytes = FileManager.default.contents(atPath: file.path) else { throw SageError.notFound("object \(id)/\(name)") }
            return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }
}
