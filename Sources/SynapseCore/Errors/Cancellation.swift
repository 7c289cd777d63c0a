import Foundation
import Synchronization

/// The cancellation of one filesystem operation: set when the kernel interrupts its request
/// (the caller was killed or got a signal) or the mount is stopping. The FUSE layer runs each
/// operation inside `run`, so whatever the operation waits on deep in the core (a request to
/// the server, bytes of a download, another upload of the same file) finds it as `current`
/// and gives up with EINTR instead of holding the caller in an unkillable wait.
public final class Cancellation: Sendable {
    private let cancelled = Atomic<Bool>(false)

    public init() {}

    public func cancel() { cancelled.store(true, ordering: .relaxed) }

    public var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    /// The error an operation ends with once cancelled.
    public static let interrupted = FSError(errno: EINTR, "interrupted: the caller gave up or the mount is stopping")

    /// A thread-specific slot (every FUSE request passes through `run`: a pthread key costs
    /// far less than Foundation's thread dictionary). It holds an unretained pointer, valid
    /// while `run` keeps the cancellation alive.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "no thread-specific key for cancellations")
        return key
    }()

    /// The cancellation of the operation this thread is running, if any.
    public static var current: Cancellation? {
        pthread_getspecific(key).map { Unmanaged<Cancellation>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Runs `body` with `cancellation` as this thread's current one.
    public static func run<T, E: Error>(_ cancellation: Cancellation, _ body: () throws(E) -> T) throws(E) -> T {
        let outer = pthread_getspecific(key)
        pthread_setspecific(key, Unmanaged.passUnretained(cancellation).toOpaque())
        defer {
            pthread_setspecific(key, outer)
            withExtendedLifetime(cancellation) {}
        }
        return try body()
    }

    /// Throws `interrupted` when the current operation is cancelled.
    public static func check() throws(FSError) {
        if current?.isCancelled == true { throw interrupted }
    }
}
