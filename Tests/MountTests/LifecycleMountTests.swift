import Foundation
import Testing

/// Starting, stopping and refusing mounts, as a user does from the shell.
extension MountTests { @Suite struct Lifecycle {
    @Test func sigtermUnmountsCleanly() throws {
        try withMountedEmulator(["--seed-tasks", "1"]) { _, mount in
            mount.process.signal(SIGTERM)
            #expect(mount.process.wait(timeout: 10))
            #expect(!isMounted(mount.mountpoint.path))
            #expect(mount.process.terminationStatus == 0)
        }
    }

    @Test func aRejectedKeyFailsTheMountWithAClearMessage() throws {
        try withScene([]) { scene in
            let result = try run([synapsefsBinary, "mount", scene.mountpoint.path, "--server", scene.emulator.url,
                                  "--cache-dir", scene.cache.path],
                                 environment: ["INFINISYNAPSE_API_KEY": "not-the-key"], timeout: 30)
            #expect(result.status != 0)
            #expect(result.stderr.contains("rejected the API key"))
            #expect(!isMounted(scene.mountpoint.path))
            #expect(!result.stderr.contains("not-the-key"))
        }
    }

    @Test func backgroundMountThenSynapsefsUnmount() throws {
        try withScene(["--seed-tasks", "3"]) { scene in
            let mountpoint = scene.mountpoint
            let keyFile = scene.root.appendingPathComponent("key")
            try Data((EmulatorProcess.apiKey + "\n").utf8).write(to: keyFile)
            chmod(keyFile.path, 0o600)
            let mounted = try run([synapsefsBinary, "mount", mountpoint.path, "--server", scene.emulator.url, "--cache-dir", scene.cache.path,
                                   "--api-key-file", keyFile.path], environment: ["INFINISYNAPSE_API_KEY": ""], timeout: 30)
            #expect(mounted.status == 0, "\(mounted.stderr)")
            #expect(isMounted(mountpoint.path))
            #expect(try run(["ls", mountpoint.appendingPathComponent("tasks").path]).stdout.split(separator: "\n").filter { $0 != "by-name" }.count == 3)
            // The key reached the daemon through the key file, not argv or its environment.
            let daemons = try run(["pgrep", "-f", "synapsefs mount \(mountpoint.path)"]).stdout.split(separator: "\n")
            #expect(daemons.count == 1)
            for pid in daemons {
                let cmdline = try String(decoding: Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")), as: UTF8.self)
                let environ = try String(decoding: Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ")), as: UTF8.self)
                #expect(cmdline.contains("--api-key-file"))
                #expect(!cmdline.contains(EmulatorProcess.apiKey))
                #expect(!environ.contains(EmulatorProcess.apiKey))
            }
            let log = try String(contentsOf: scene.cache.appendingPathComponent("synapsefs.log"), encoding: .utf8)
            #expect(!log.contains(EmulatorProcess.apiKey))
            let unmounted = try run([synapsefsBinary, "unmount", mountpoint.path])
            #expect(unmounted.status == 0)
            #expect(waitUntil(10) { !isMounted(mountpoint.path) })
        }
    }

    @Test func aWorldReadableKeyFileIsRefused() throws {
        let root = try temporaryDirectory("keyfile")
        defer { try? FileManager.default.removeItem(at: root) }
        let keyFile = root.appendingPathComponent("key")
        try Data("secret".utf8).write(to: keyFile)
        chmod(keyFile.path, 0o644)
        let result = try run([synapsefsBinary, "mount", root.path, "--server", "http://127.0.0.1:9", "--api-key-file", keyFile.path],
                             environment: ["INFINISYNAPSE_API_KEY": ""], timeout: 30)
        #expect(result.status != 0)
        #expect(result.stderr.contains("readable by group or others"))
    }

    @Test func withNoServerTheBuiltInEmulatorIsMounted() throws {
        let root = try temporaryDirectory("builtin")
        defer { try? FileManager.default.removeItem(at: root) }
        let mountpoint = root.appendingPathComponent("mnt")
        try FileManager.default.createDirectory(at: mountpoint, withIntermediateDirectories: true)
        let log = root.appendingPathComponent("log")
        let process = try ChildProcess([synapsefsBinary, "mount", mountpoint.path, "-f", "--cache-dir", root.appendingPathComponent("cache").path],
                                       environment: ["XDG_CONFIG_HOME": root.path, "INFINISYNAPSE_API_KEY": ""], output: log)
        defer {
            _ = try? run(["fusermount3", "-u", mountpoint.path])
            if !process.wait(timeout: 10) { process.stop() }
        }
        #expect(waitUntil(30) { isMounted(mountpoint.path) })
        let tasks = try FileManager.default.contentsOfDirectory(atPath: mountpoint.appendingPathComponent("tasks/by-name").path)
        #expect(tasks.count == 5)
        let text = try String(contentsOf: log, encoding: .utf8)
        #expect(text.contains("built-in emulator"))
    }
}
}
