import Foundation
import Hummingbird

/// `GET`/`POST /_emulator/faults`: read or replace the injected faults (behind the session
/// check, as every product route).
struct FaultRoutes {
    let faults: SageFaults

    func register(on router: Router<some RequestContext>) {
        router.get("/_emulator/faults") { _, _ in try Self.response(faults.current) }
        router.post("/_emulator/faults") { request, _ in
            let body = try await request.body.collect(upTo: 1 << 16)
            guard let settings = try? JSONDecoder().decode(SageFaults.Settings.self, from: Data(buffer: body)) else {
                throw SageError.invalid("expected {failUploads, failPrompts, dropStreamsAfter, stallSeconds, truncateDownloadsAt, missingRoutes}")
            }
            faults.replace(with: settings)
            return try Self.response(settings)
        }
    }

    static func response(_ settings: SageFaults.Settings) throws -> Response {
        SageResponse.ok(try JSONSerialization.jsonObject(with: JSONEncoder().encode(settings)))
    }
}
