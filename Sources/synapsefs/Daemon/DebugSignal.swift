import Foundation
import Logging

/// SIGUSR2 toggles debug logging at run time, as mount-s3 does. The signal is blocked in
/// every thread and taken by `waitBriefly` on the daemon's housekeeping worker.
enum DebugSignal {
    /// Call before any thread starts, so every thread inherits the block.
    static func block() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGUSR2)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Waits up to `seconds` for SIGUSR2; true when it came.
    static func waitBriefly(_ seconds: Double) -> Bool {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGUSR2)
        var timeout = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
        return sigtimedwait(&set, nil, &timeout) == SIGUSR2
    }
}
