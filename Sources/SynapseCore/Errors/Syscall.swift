import Foundation

/// The one way the core calls the system: a call interrupted by a signal is made again, and
/// a failure becomes an `FSError` carrying its errno and what was being done.
enum Syscall {
    /// Checks a call that returns -1 on failure (and sets errno); retries on EINTR. A missing
    /// or existing name is the caller's request refused; anything else is the disk failing.
    @discardableResult
    static func check<T: BinaryInteger>(_ call: @autoclosure () -> T, _ what: @autoclosure () -> String) throws(FSError) -> T {
        while true {
            let result = call()
            if result >= 0 { return result }
            let code = errno
            if code == EINTR { continue }
            let source: FSError.Source = switch code {
            case ENOENT, EEXIST, ENOTEMPTY, EISDIR, ENOTDIR, ENAMETOOLONG: .request
            default: .disk
            }
            throw FSError(errno: code, "\(what()): \(String(cString: strerror(code)))", source: source)
        }
    }
}
