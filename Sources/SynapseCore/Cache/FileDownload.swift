import Foundation

/// One transfer of a remote file into its cache item's `.partial` file. Every reader of the
/// file waits on it, each only until the bytes it asked for have arrived.
final class FileDownload: @unchecked Sendable {
    enum Phase {
        case running
        case complete(size: Int64)
        case failed(FSError)
    }

    /// Open on the partial file; stays valid after the rename that publishes it.
    let fd: Int32
    // Guards `received` and `phase`; never held across I/O.
    private let condition = NSCondition()
    private var received: Int64 = 0
    private var phase: Phase = .running

    init(fd: Int32) {
        self.fd = fd
    }

    deinit {
        close(fd)
    }

    /// Blocks until the first `end` bytes are present or the transfer ended; returns how many
    /// bytes from the start are readable now.
    func waitUntilAvailable(_ end: Int64) throws(FSError) -> Int64 {
        condition.lock()
        defer { condition.unlock() }
        while true {
            switch phase {
            case .complete(let size): return size
            case .failed(let error): throw error
            case .running:
                if received >= end { return received }
                condition.wait()
            }
        }
    }

    var isRunning: Bool {
        condition.lock()
        defer { condition.unlock() }
        if case .running = phase { return true }
        return false
    }

    func advance(by count: Int64) {
        condition.lock()
        received += count
        condition.broadcast()
        condition.unlock()
    }

    func finish(_ end: Phase) {
        condition.lock()
        phase = end
        condition.broadcast()
        condition.unlock()
    }
}
