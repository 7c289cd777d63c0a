import Foundation

/// `synapsefs mount -f` in its own process; always unmounted by `unmount()` or deinit.
final class MountProcess {
    let process: ChildProcess
    let mountpoint: URL
    let cacheDirectory: URL
    let log: URL

    /// Starts the mount and waits until it is live; throws with the daemon's output if it is not.
    init(server: String, mountpoint: URL, cacheDirectory: URL, apiKey: String = EmulatorProcess.apiKey, backend: TestBackend = .infiniSynapse,
         idleTimeout: Double = 5, extraArguments: [String] = [], environment: [String: String] = [:]) throws {
        self.mountpoint = mountpoint
        self.cacheDirectory = cacheDirectory
        log = cacheDirectory.deletingLastPathComponent().appendingPathComponent("mount-\(UUID().uuidString.prefix(6)).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process = try ChildProcess([synapsefsBinary, "mount", mountpoint.path, "--backend", backend.name, "--server", server, "--cache-dir", cacheDirectory.path,
                                    "-f", "--connect-timeout", "2", "--idle-timeout", "\(idleTimeout)", "--log-level", "debug"] + extraArguments,
                                   environment: backend.environment.merging([backend.secretVariable: apiKey]) { $1 }.merging(environment) { $1 }, output: log)
        let process = self.process
        let path = mountpoint.path
        guard waitUntil(30, { isMounted(path) || !process.isRunning }), isMounted(path) else {
            let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            unmount()
            throw HarnessError("mount did not come up (CI=\(MountSupport.isCI)): \(output)")
        }
    }

    var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// The byte ranges the daemon fetched from the server for `path`, from its debug log.
    func fetchedRanges(of path: String) -> [Range<Int>] {
        logText.split(separator: "\n").filter { $0.hasSuffix("fetched") && $0.contains("path=\(path) ") }.compactMap { line in
            func field(_ name: String) -> Int? {
                line.split(separator: " ").first { $0.hasPrefix(name + "=") }.flatMap { Int($0.dropFirst(name.count + 1)) }
            }
            guard let from = field("from"), let to = field("to") else { return nil }
            return from..<to
        }
    }

    /// A path below the mountpoint, joined as text: URL's appendingPathComponent stats the
    /// path, which would make the test itself wait on the mount.
    func path(_ relative: String) -> String { mountpoint.path + "/" + relative }

    /// Unmounts and waits for the daemon to exit; escalates to a lazy unmount and SIGKILL.
    func unmount() {
        if isMounted(mountpoint.path) { _ = try? run(["fusermount3", "-u", mountpoint.path], timeout: 20) }
        if !process.wait(timeout: 10) {
            _ = try? run(["fusermount3", "-uz", mountpoint.path], timeout: 20)
            process.stop()
        }
        if isMounted(mountpoint.path) { _ = try? run(["fusermount3", "-uz", mountpoint.path], timeout: 20) }
    }

    deinit { unmount() }
}

/// A live emulator with a mountpoint and a cache folder in one temporary folder, for tests that
/// mount, unmount and mount again themselves. `withScene` tears everything down afterwards.
struct MountScene {
    let root: URL
    let emulator: EmulatorProcess
    let mountpoint: URL
    let cache: URL

    /// Mounts the scene's emulator on its mountpoint with its cache (the caller unmounts).
    func mount(idleTimeout: Double = 5, extraArguments: [String] = [], environment: [String: String] = [:]) throws -> MountProcess {
        try MountProcess(server: emulator.url, mountpoint: mountpoint, cacheDirectory: cache, backend: emulator.backend, idleTimeout: idleTimeout,
                         extraArguments: extraArguments, environment: environment)
    }
}

func withScene(_ emulatorArguments: [String], backend: TestBackend = .infiniSynapse, _ body: (MountScene) throws -> Void) throws {
    let root = try temporaryDirectory("scene")
    defer { try? FileManager.default.removeItem(at: root) }
    let emulator = try EmulatorProcess(emulatorArguments, dataDirectory: root.appendingPathComponent("emulator"), backend: backend)
    defer { emulator.stop() }
    let mountpoint = root.appendingPathComponent("mnt")
    try FileManager.default.createDirectory(at: mountpoint, withIntermediateDirectories: true)
    defer { if isMounted(mountpoint.path) { _ = try? run(["fusermount3", "-uz", mountpoint.path]) } }
    try body(MountScene(root: root, emulator: emulator, mountpoint: mountpoint, cache: root.appendingPathComponent("cache")))
}

/// An emulator plus a mount of it in fresh temporary folders, torn down after `body`.
func withMountedEmulator(_ emulatorArguments: [String], backend: TestBackend = .infiniSynapse,
                         _ body: (EmulatorProcess, MountProcess) throws -> Void) throws {
    try withScene(emulatorArguments, backend: backend) { scene in
        let mount = try scene.mount()
        defer { mount.unmount() }
        try body(scene.emulator, mount)
    }
}
