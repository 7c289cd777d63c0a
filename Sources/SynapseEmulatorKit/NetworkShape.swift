import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// A distant server, for benchmarks: every answer waits a round trip (`latency`) before it
/// starts, a streamed event (SSE) arrives half a round trip after it was sent, and bodies
/// flow at most at `bytesPerSecond`. Zero turns either off.
public struct NetworkShape: Sendable, Equatable {
    public var latency: Duration
    public var bytesPerSecond: Int

    public init(latencyMilliseconds: Int = 0, megabitsPerSecond: Int = 0) {
        latency = .milliseconds(latencyMilliseconds)
        bytesPerSecond = megabitsPerSecond * 1_000_000 / 8
    }

    public var isNone: Bool { latency == .zero && bytesPerSecond == 0 }
}

/// Shapes every answer of the router it is added to as `shape` says.
public struct NetworkShapeMiddleware<Context: RequestContext>: RouterMiddleware {
    let shape: NetworkShape

    public init(_ shape: NetworkShape) { self.shape = shape }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if shape.latency > .zero { try await Task.sleep(for: shape.latency) }
        var response = try await next(request, context)
        let isStream = response.headers[.contentType]?.hasPrefix("text/event-stream") == true
        if isStream, shape.latency > .zero {
            response.body = Self.delayed(response.body, by: shape.latency / 2)
        } else if shape.bytesPerSecond > 0 {
            // Paced chunk by chunk: a chunk leaves when the link would have carried it.
            let pace = Pace(bytesPerSecond: Double(shape.bytesPerSecond))
            let body = response.body
            // Built anew (not `map`), so the answer keeps its Content-Length.
            response.body = ResponseBody(contentLength: body.contentLength) { writer in
                try await body.write(PacedWriter(writer: writer, pace: pace))
            }
        }
        return response
    }

    /// Each part of the body written `delay` after it was produced, in order, without holding
    /// up the producer (events travel side by side, as on a link with latency).
    static func delayed(_ body: ResponseBody, by delay: Duration) -> ResponseBody {
        ResponseBody { writer in
            let clock = ContinuousClock()
            let (parts, sink) = AsyncStream<(ByteBuffer, ContinuousClock.Instant)>.makeStream()
            let producer = Task {
                defer { sink.finish() }
                try await body.write(ForwardingWriter { sink.yield(($0, clock.now + delay)) })
            }
            try await withTaskCancellationHandler {
                for await (buffer, due) in parts {
                    if due > clock.now { try await Task.sleep(until: due, clock: clock) }
                    try await writer.write(buffer)
                }
                try await producer.value
                try await writer.finish(nil)
            } onCancel: {
                // A client gone: the producer (an endless event stream, say) stops too.
                producer.cancel()
            }
        }
    }
}

/// A writer that lets each part go when the link would have carried it.
private struct PacedWriter: ResponseBodyWriter {
    var writer: any ResponseBodyWriter
    let pace: Pace

    mutating func write(_ buffer: ByteBuffer) async throws {
        try await pace.wait(for: buffer.readableBytes)
        try await writer.write(buffer)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws { try await writer.finish(trailingHeaders) }
}

/// A writer that hands each part on, and finishes nothing (its owner does).
private struct ForwardingWriter: ResponseBodyWriter {
    let forward: @Sendable (ByteBuffer) -> Void

    mutating func write(_ buffer: ByteBuffer) async throws { forward(buffer) }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

/// One body's pace: where the link would be in sending it.
private final class Pace: Sendable {
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    private let sent = Atomic<Int>(0)
    private let bytesPerSecond: Double

    init(bytesPerSecond: Double) {
        self.bytesPerSecond = bytesPerSecond
        start = clock.now
    }

    func wait(for bytes: Int) async throws {
        let total = sent.add(bytes, ordering: .relaxed).newValue
        let due = start + .seconds(Double(total) / bytesPerSecond)
        if due > clock.now { try await Task.sleep(until: due, clock: clock) }
    }
}
