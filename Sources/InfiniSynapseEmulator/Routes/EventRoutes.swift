import Foundation
import Hummingbird
import ServiceLifecycle

/// `GET /api/ai/events?connId=`: the SSE stream, with heartbeats and the drop fault.
struct EventRoutes {
    let hub: EventHub
    let faults: Faults
    let heartbeatSeconds: Double

    func register(on router: Router<some RequestContext>) {
        router.get("/api/ai/events") { request, _ in
            let connId = request.query("connId").flatMap { $0.isEmpty ? nil : $0 } ?? UUID().uuidString
            let (events, ticks) = hub.subscribe(connId: connId)
            let heartbeat = heartbeatSeconds
            let faults = self.faults
            let body = ResponseBody { writer in
                let opened = Date()
                // Ticks wake the writer so heartbeats and the drop fault run without events.
                let ticker = Task {
                    var lastBeat = Date()
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(100))
                        if Date().timeIntervalSince(lastBeat) >= heartbeat {
                            ticks.yield(.heartbeat)
                            lastBeat = Date()
                        } else {
                            ticks.yield(.tick)
                        }
                    }
                }
                defer { ticker.cancel(); ticks.finish() }
                // The seed's sequence: `state.ready` on connect (no task yet), then events.
                try await writer.write(ByteBuffer(string: ": connected \(connId)\n\n" + ServerEvent.stateReady(nil).frame))
                // A stream never ends by itself: end it when the server shuts down.
                try await withGracefulShutdownHandler {
                    for await event in events {
                        let drop = faults.current.dropSSEEvery
                        if drop > 0, Date().timeIntervalSince(opened) >= drop { throw SSEDropped() }
                        if event.name.isEmpty { continue }
                        try await writer.write(ByteBuffer(string: event.frame))
                    }
                } onGracefulShutdown: {
                    ticks.finish()
                }
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
        }
    }
}

/// Ends an SSE response abruptly, as a dropped connection does.
struct SSEDropped: Error {}

extension ServerEvent {
    /// Not sent: wakes the writer.
    static let tick = ServerEvent(name: "", json: NSNull())
}
