import ArgumentParser
import Foundation

/// The exit codes of the commands for scripts (`status`, `send`, `wait`, `new`), each with
/// its reason on stderr. Codes 64 and up follow sysexits.h.
enum ScriptExit: Int32 {
    /// Done: sent, or the task completed.
    case ok = 0
    /// The task failed, or the server did not take what was sent.
    case failed = 1
    /// The task waits for an answer (`wait`).
    case waiting = 2
    /// The task was cancelled (`wait`).
    case cancelled = 3
    /// The mount refused the input: an empty or whitespace-only prompt, one over 1 MiB, not UTF-8.
    case badInput = 65
    /// No such task, or no synapsefs mount.
    case notFound = 66
    /// The server is unreachable.
    case unavailable = 69
    /// Not allowed: a rejected API key, a read-only mount, another user's mount.
    case notAllowed = 77
    /// `wait --timeout` ran out.
    case timedOut = 124

    var code: ExitCode { ExitCode(rawValue) }

    /// The exit for a failed syscall on the mount.
    static func from(errno code: Int32) -> ScriptExit {
        switch code {
        case EINVAL, EFBIG: .badInput
        case ENOENT, ENOTDIR: .notFound
        case EACCES, EPERM, EROFS: .notAllowed
        case ETIMEDOUT, ENOTCONN: .unavailable
        default: .failed
        }
    }
}

/// Stops a command with `exit` after saying why on stderr.
struct ScriptFailure: Error {
    var exit: ScriptExit
    var message: String
}

extension ScriptFailure {
    /// Prints the message and turns into the exit code.
    func report() -> ExitCode {
        FileHandle.standardError.write(Data("synapsefs: \(message)\n".utf8))
        return exit.code
    }
}
