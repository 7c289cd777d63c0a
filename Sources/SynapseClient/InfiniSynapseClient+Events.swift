import Foundation
import SynapseCore

extension InfiniSynapseClient {
    /// `GET /api/ai/events?connId=`: no total timeout (tasks run for hours), only an idle
    /// timeout that heartbeats and comments keep from firing.
    public func streamEvents(connId: String, onEvent: (ServerEvent) -> Bool) throws(RemoteError) {
        let request = HTTPRequest(url: url("/api/ai/events", query: [("connId", connId)]),
                                  headers: authHeaders.filter { !$0.hasPrefix("Accept:") } + ["Accept: text/event-stream"])
        var parser = SSEParser()
        let outcome = withoutActuallyEscaping(onEvent) { onEvent in
            transport.stream(request, idleTimeout: eventIdleTimeout) { _, chunk in
                parser.feed(chunk).allSatisfy(onEvent)
            }
        }
        switch outcome {
        case .failure(.aborted):
            return
        case .failure(let failure):
            throw Self.remoteError(failure, what: "event stream")
        case .success(let (_, _, bodyError?)):
            // An error envelope with HTTP 200 (a rejected key) instead of events: not a
            // stream that ended, to be reopened at once, but the error it is.
            throw bodyError
        case .success(let (response, _, nil)):
            if !(200..<300).contains(response.status) {
                _ = try Envelope.data(from: response, what: "event stream")
                throw .server(status: response.status, message: "event stream answered \(response.status)")
            }
        }
    }
}
