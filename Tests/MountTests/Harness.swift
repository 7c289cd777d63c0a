import Foundation
import Testing

/// Real mounts need /dev/fuse; under CI=true a test that cannot mount fails, never skips.
enum MountSupport {
    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"
    static let available = isCI || FileManager.default.fileExists(atPath: "/dev/fuse")
}

/// The built `synapsefs` binary, next to the test bundle (or SYNAPSEFS_BINARY).
let synapsefsBinary: String = {
    if let path = ProcessInfo.processInfo.environment["SYNAPSEFS_BINARY"] { return path }
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    while dir.path != "/" {
        let candidate = dir.appendingPathComponent("synapsefs")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
        dir.deleteLastPathComponent()
    }
    return ".build/debug/synapsefs"
}()

struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var stdoutData: Data
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs a command to completion with a time limit and returns its status and output.
@discardableResult
func run(_ arguments: [String], environment: [String: String] = [:], timeout: Double = 120) throws -> CommandResult {
    let dir = FileManager.default.temporaryDirectory
    let outURL = dir.appendingPathComponent("synapsefs-run-\(UUID().uuidString).out")
    let errURL = dir.appendingPathComponent("synapsefs-run-\(UUID().uuidString).err")
    defer { try? FileManager.default.removeItem(at: outURL); try? FileManager.default.removeItem(at: errURL) }
    let child = try ChildProcess(arguments, environment: environment, output: outURL, errorOutput: errURL)
    guard child.wait(timeout: timeout) else {
        child.signal(SIGKILL)
        child.wait(timeout: 10)
        throw HarnessError("\(arguments.joined(separator: " ")) did not finish within \(timeout) s")
    }
    let out = (try? Data(contentsOf: outURL)) ?? Data()
    let err = (try? Data(contentsOf: errURL)) ?? Data()
    return CommandResult(status: child.terminationStatus ?? -1, stdout: String(decoding: out, as: UTF8.self),
                         stderr: String(decoding: err, as: UTF8.self), stdoutData: out)
}

func waitUntil(_ timeout: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

func isMounted(_ path: String) -> Bool {
    let mounts = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
    return mounts.split(separator: "\n").contains { $0.split(separator: " ").dropFirst().first.map(String.init) == path }
}

func temporaryDirectory(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("synapsefs-\(name)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func sha256(_ path: String) throws -> String {
    let result = try run(["sha256sum", path])
    guard result.status == 0 else { throw HarnessError("sha256sum \(path): \(result.stderr)") }
    return String(result.stdout.prefix(64))
}

/// open(2) of `path`: 0 when it opened (the descriptor is closed again), else its errno.
func openErrno(_ path: String, _ flags: Int32 = O_RDONLY, mode: mode_t = 0o644) -> Int32 {
    errno = 0
    let fd = open(path, flags, mode)
    let code = errno
    if fd >= 0 { close(fd) }
    return fd >= 0 ? 0 : code
}
