import Foundation
import Hummingbird

/// `GET`/`POST /_emulator/faults`: read or replace the injected faults (JSON, same Bearer key).
struct FaultRoutes {
    let faults: Faults

    func register(on router: Router<some RequestContext>) {
        router.get("/_emulator/faults") { _, _ in try Self.response(faults.current) }
        router.post("/_emulator/faults") { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 16)
            guard let settings = try? JSONDecoder().decode(Faults.Settings.self, from: Data(buffer: body)) else {
                throw APIError.invalid("expected {failUploads, failMessages, dropSSEEvery, stallSeconds, truncateDownloadsAt}")
            }
            faults.replace(with: settings)
            return try Self.response(settings)
        }
    }

    static func response(_ settings: Faults.Settings) throws -> Response {
        APIResponse.ok(try JSONSerialization.jsonObject(with: JSONEncoder().encode(settings)))
    }
}
