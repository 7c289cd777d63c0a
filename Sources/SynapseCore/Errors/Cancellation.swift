import Foundation
import Synchronization

/// The cancellation of one filesystem operation: set when the kernel interrupts its request
/// (the caller was killed or got a signal) or the mount is stopping. The FUSE layer runs each
/// operation inside `run`, so whatever the operation waits on deep in the core (a request to
/// the server, bytes of a download, another upload of the same file) finds it as `current`
/// and gives up with EINTR instead of holding the caller in an unkillable wait.
public final class Cancellation: Sendable {
    private let cancelled = Atomic<Bool>(false)
    private static let threadKey = "synapsefs.cancellation"

    public init() {}

    public func cancel() { cancelled.store(true, ordering: .relaxed) }

    public var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    /// The error an operation ends with once cancelled.
    public static let interrupted = FSError(errno: EINTR, "interrupted: the caller gave up or the mount is stopping")

    /// The cancellation of the operation this thread is running, if any.
    public static var current: Cancellation? { Thread.current.threadDictionary[threadKey] as? Cancellation }

    /// Runs `body` with `cancellation` as this thread's current one.
    public static func run<T, E: Error>(_ cancellation: Cancellation, _ body: () throws(E) -> T) throws(E) -> T {
        let dictionary = Thread.current.threadDictionary
        let outer = dictionary[threadKey]
        dictionary[threadKey] = cancellation
        defer { dictionary[threadKey] = outer }
        return try body()
    }

    /// Throws `interrupted` when the current operation is cancelled.
    public static func check() throws(FSError) {
        if current?.isCancelled == true { throw interrupted }
    }
}
