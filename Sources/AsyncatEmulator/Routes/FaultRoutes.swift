import Foundation
import Hummingbird

/// `GET`/`POST /_emulator/faults`: read or replace the injected faults (behind the bearer check).
struct FaultRoutes {
    let faults: AsyncatFaults

    func register(on router: Router<some RequestContext>) {
        router.get("/_emulator/faults") { _, _ in try Self.response(faults.current) }
        router.post("/_emulator/faults") { request, _ in
            let body = try await request.body.collect(upTo: 1 << 16)
            guard let settings = try? JSONDecoder().decode(AsyncatFaults.Settings.self, from: Data(buffer: body)) else {
                throw AsyncatError.invalid("expected {failPrompts, dropStreamsAfter, stallSeconds, truncateDownloadsAt, failSaves}")
            }
            faults.replace(with: settings)
            return try Self.response(settings)
        }
    }

    static func response(_ settings: AsyncatFaults.Settings) throws -> Response {
        AsyncatResponse.ok(["faults": try JSONSerialization.jsonObject(with: JSONEncoder().encode(settings))])
    }
}
