import Foundation
import Testing

let seededTask = "5eed0000-0000-4000-8000-000000000001"
let hostileTask = "5eedbad0-0000-4000-8000-000000000000"

/// Every real-mount suite nests here: one mount at a time, and none without /dev/fuse
/// unless CI=true (then a mount that cannot come up fails the test).
@Suite(.serialized, .enabled(if: MountSupport.available, "needs /dev/fuse"), .timeLimit(.minutes(5)))
struct MountTests {}

/// Real mounts of a live emulator, driven with ls, cat, sha256sum, stat and syscalls.
extension MountTests { @Suite struct ReadPath {
    @Test func lsTasksShowsEveryTaskOfTheServer() throws {
        try withMountedEmulator(["--seed-tasks", "250"]) { emulator, mount in
            let listing = try run(["ls", mount.path("tasks")])
            #expect(listing.status == 0)
            let names = listing.stdout.split(separator: "\n").filter { $0 != "by-name" }
            let server = try run(["curl", "-sf", "-H", "Authorization: Bearer \(EmulatorProcess.apiKey)",
                                  "\(emulator.url)/api/ai_task/list?page=1&pageSize=1"])
            let meta = (try JSONSerialization.jsonObject(with: server.stdoutData) as? [String: Any])?["data"] as? [String: Any]
            let total = (meta?["meta"] as? [String: Any])?["totalItems"] as? Int
            #expect(total == 250)
            #expect(names.count == total)
            #expect(names.contains(Substring(seededTask)))
            let long = try run(["ls", "-l", mount.path("tasks")])
            #expect(long.status == 0)
            #expect(long.stdout.split(separator: "\n").filter { $0.hasPrefix("d") && !$0.hasSuffix(" by-name") }.count == 250)
        }
    }

    @Test func catOfA64MiBFileEqualsTheEmulatorsBytes() throws {
        try withMountedEmulator(["--seed-tasks", "2", "--seed-file", "big.bin:64M"]) { emulator, mount in
            let file = mount.path("tasks/\(seededTask)/workspace/big.bin")
            let expected = try sha256(emulator.workspaceFile(seededTask, "big.bin"))
            #expect(try sha256(file) == expected)
            // Second read: from the cache (and page cache), still equal.
            #expect(try sha256(file) == expected)
            let copy = mount.cacheDirectory.deletingLastPathComponent().appendingPathComponent("copy.bin").path
            #expect(try run(["cp", file, copy]).status == 0)
            #expect(try sha256(copy) == expected)
        }
    }

    @Test func concurrentReadersOfAColdFileGetTheSameBytesFromOneDownload() throws {
        try withMountedEmulator(["--seed-tasks", "1", "--seed-file", "shared.bin:48M"]) { emulator, mount in
            let file = mount.path("tasks/\(seededTask)/workspace/shared.bin")
            let expected = try sha256(emulator.workspaceFile(seededTask, "shared.bin"))
            let outputs = (0..<4).map { mount.cacheDirectory.deletingLastPathComponent().appendingPathComponent("sum-\($0)") }
            let sums = try outputs.map { try ChildProcess(["sha256sum", file], output: $0) }
            for child in sums { #expect(child.wait(timeout: 120) && child.terminationStatus == 0) }
            let lines = try outputs.map { try String(contentsOf: $0, encoding: .utf8) }
            #expect(lines.allSatisfy { $0.hasPrefix(expected + " ") }, "\(lines)")
            // Each byte crossed the network once.
            let fetched = mount.fetchedRanges(of: "shared.bin")
            #expect(fetched.reduce(0) { $0 + $1.count } == 48 << 20, "\(fetched)")
        }
    }

    @Test func aReadFarIntoAColdFileFetchesAroundItOnly() throws {
        try withMountedEmulator(["--seed-tasks", "1", "--seed-file", "far.bin:256M"]) { emulator, mount in
            let file = mount.path("tasks/\(seededTask)/workspace/far.bin")
            let tail = try run(["dd", "if=\(file)", "bs=4096", "skip=\((200 << 20) / 4096)", "count=2", "status=none"])
            #expect(tail.status == 0)
            let truth = try FileHandle(forReadingFrom: URL(fileURLWithPath: emulator.workspaceFile(seededTask, "far.bin")))
            try truth.seek(toOffset: 200 << 20)
            #expect(tail.stdoutData == (try truth.read(upToCount: 8192)))
            let fetched = mount.fetchedRanges(of: "far.bin")
            #expect(!fetched.isEmpty && fetched.allSatisfy { $0.lowerBound >= 190 << 20 }, "\(fetched)")
            #expect(fetched.reduce(0) { $0 + $1.count } <= 8 << 20, "\(fetched)")
        }
    }

    @Test func withoutRangeSupportFilesStillReadExactlyAnywhere() throws {
        try withMountedEmulator(["--seed-tasks", "1", "--seed-file", "whole.bin:24M", "--no-range"]) { emulator, mount in
            let file = mount.path("tasks/\(seededTask)/workspace/whole.bin")
            let tail = try run(["dd", "if=\(file)", "bs=1M", "skip=20", "count=1", "status=none"])
            #expect(tail.status == 0)
            let truth = try Data(contentsOf: URL(fileURLWithPath: emulator.workspaceFile(seededTask, "whole.bin")))
            #expect(tail.stdoutData == truth.subdata(in: (20 << 20)..<(21 << 20)))
            #expect(try sha256(file) == (try sha256(emulator.workspaceFile(seededTask, "whole.bin"))))
            #expect(mount.logText.contains("ignores HTTP Range"))
        }
    }

    @Test(.enabled(if: getuid() == 0, "sysfs is writable by root only"))
    func kernelReadAheadIsRaisedToOneMiB() throws {
        try withMountedEmulator(["--seed-tasks", "1"]) { _, mount in
            var st = stat()
            #expect(stat(mount.mountpoint.path, &st) == 0)
            let device = "\(st.st_dev >> 8):\(st.st_dev & 0xff)"
            let readAhead = try String(contentsOfFile: "/sys/class/bdi/\(device)/read_ahead_kb", encoding: .utf8)
            #expect(readAhead == "1024\n")
        }
    }

    @Test func statSizesMatchTheServer() throws {
        try withMountedEmulator(["--seed-tasks", "1", "--seed-file", "data/blob.bin:3M"]) { emulator, mount in
            for path in ["report.md", "summary.csv", "charts/trend.svg", "data/blob.bin"] {
                let result = try run(["stat", "-c", "%s %F", mount.path("tasks/\(seededTask)/workspace/\(path)")])
                let size = try FileManager.default.attributesOfItem(atPath: emulator.workspaceFile(seededTask, path))[.size] as! Int
                #expect(result.stdout == "\(size) regular file\n", "\(path)")
            }
            let dir = try run(["stat", "-c", "%F", mount.path("tasks/\(seededTask)/workspace/charts")])
            #expect(dir.stdout == "directory\n")
            let files = try run(["ls", mount.path("tasks/\(seededTask)")])
            #expect(files.stdout.split(separator: "\n") == ["ctl", "info.json", "messages.json", "prompt.txt", "status", "stream.log", "uploads", "workspace"])
            #expect(try String(contentsOfFile: mount.path("tasks/\(seededTask)/status"), encoding: .utf8) == "completed\n")
            let log = try run(["cat", mount.path("tasks/\(seededTask)/stream.log")])
            #expect(log.stdout.contains("] result\nDone: report.md"))
        }
    }

    @Test func filesWithoutListedSizesReadToTheirEnd() throws {
        try withMountedEmulator(["--seed-tasks", "1", "--seed-file", "odd.bin:1234567", "--workspace-listing", "strings"]) { emulator, mount in
            let file = mount.path("tasks/\(seededTask)/workspace/odd.bin")
            let expected = try sha256(emulator.workspaceFile(seededTask, "odd.bin"))
            #expect(try run(["stat", "-c", "%s", file]).stdout == "0\n")
            #expect(try sha256(file) == expected)
            let copy = mount.cacheDirectory.deletingLastPathComponent().appendingPathComponent("odd.copy").path
            #expect(try run(["cp", file, copy]).status == 0)
            #expect(try FileManager.default.attributesOfItem(atPath: copy)[.size] as? Int == 1_234_567)
            // Once cached, the real size is known.
            let sizeAfterRead: () -> String? = { try? run(["stat", "-c", "%s", file]).stdout }
            #expect(waitUntil(5) { sizeAfterRead() == "1234567\n" })
        }
    }

    @Test func missingNamesAreENOENT() throws {
        try withMountedEmulator(["--seed-tasks", "1"]) { _, mount in
            for path in ["nope", "tasks/no-such-task", "tasks/\(seededTask)/nope", "tasks/\(seededTask)/workspace/nope.txt"] {
                let code = openErrno(mount.path(path))
                #expect(code == ENOENT, "\(path): errno \(code)")
            }
            let cat = try run(["cat", mount.path("tasks/\(seededTask)/workspace/nope.txt")])
            #expect(cat.status != 0)
            #expect(cat.stderr.contains("No such file or directory"))
        }
    }

    @Test func writesIntoTheWorkspaceFail() throws {
        try withMountedEmulator(["--seed-tasks", "1"]) { _, mount in
            let workspace = mount.path("tasks/\(seededTask)/workspace")
            for (path, flags) in [("\(workspace)/new.txt", O_WRONLY | O_CREAT), ("\(workspace)/report.md", O_WRONLY),
                                  ("\(workspace)/report.md", O_RDWR | O_TRUNC)] {
                let code = openErrno(path, flags)
                #expect(code == EROFS || code == EACCES, "\(path): errno \(code)")
            }
            #expect(mkdir("\(workspace)/dir", 0o755) == -1 && errno == EROFS)
            #expect(unlink("\(workspace)/report.md") == -1 && errno == EROFS)
            let shell = try run(["sh", "-c", "echo hi > '\(workspace)/report.md'"])
            #expect(shell.status != 0)
            #expect(shell.stderr.contains("Read-only file system"))
            #expect(try String(contentsOfFile: "\(workspace)/report.md", encoding: .utf8).hasPrefix("# Report 1"))
        }
    }

    @Test func hostileNamesAreListedSafely() throws {
        try withMountedEmulator(["--seed-tasks", "1", "--seed-hostile-names"]) { _, mount in
            let workspace = mount.path("tasks/\(hostileTask)/workspace")
            let top = try FileManager.default.contentsOfDirectory(atPath: workspace)
            for name in top {
                #expect(!name.contains("/") && name != ".." && name.utf8.count <= 255)
                #expect(!name.unicodeScalars.contains { $0.value < 0x20 }, "\(name.debugDescription)")
            }
            #expect(Set(top).isSuperset(of: ["escape.txt", "abs.txt", "a", "bell%07name.txt", "collide.txt", "collide~2.txt", "normal.txt"]))
            #expect(top.count == 8)
            // Each safe name serves the bytes of the hostile name it came from.
            let expectations = ["escape.txt": "../escape.txt", "abs.txt": "/abs.txt", "a/b": "a/../../b",
                                "bell%07name.txt": "bell\u{07}name.txt", "normal.txt": "normal.txt"]
            for (local, remote) in expectations {
                let text = try String(contentsOfFile: "\(workspace)/\(local)", encoding: .utf8)
                #expect(text == "content of \(remote.debugDescription)\n", "\(local)")
            }
            let collided = try Set(["collide.txt", "collide~2.txt"].map { try String(contentsOfFile: "\(workspace)/\($0)", encoding: .utf8) })
            #expect(collided == ["content of \"collide.txt\"\n", "content of \"./collide.txt\"\n"])
            let long = top.first { $0.hasPrefix("LLLL") }!
            #expect(try String(contentsOfFile: "\(workspace)/\(long)", encoding: .utf8).contains(".txt\""))
            // Nothing resolves outside the mount or the cache.
            let found = try run(["find", mount.mountpoint.path, "-name", "escape.txt"])
            #expect(found.stdout.split(separator: "\n").allSatisfy { $0.hasPrefix(Substring(workspace)) })
            let cacheFiles = try run(["find", mount.cacheDirectory.path, "-type", "f"]).stdout.split(separator: "\n")
            #expect(cacheFiles.allSatisfy { $0.hasPrefix(Substring(mount.cacheDirectory.path + "/")) && !$0.contains("..") })
        }
    }

    @Test func aTruncatedDownloadFailsCachesOnlyTrueBytesAndTheNextReadIsExact() throws {
        // Every fetch is at least 1 MiB, so every one of them breaks.
        try withMountedEmulator(["--seed-tasks", "1", "--seed-file", "cut.bin:4M", "--truncate-downloads-at", "524288"]) {
            (emulator: EmulatorProcess, mount: MountProcess) throws in
            let file = mount.path("tasks/\(seededTask)/workspace/cut.bin")
            let first = try run(["cat", file])
            #expect(first.status != 0)
            #expect(first.stderr.contains("Input/output error"))
            // Whatever the cache records as present is the file's true bytes.
            let truth = try Data(contentsOf: URL(fileURLWithPath: emulator.workspaceFile(seededTask, "cut.bin")))
            let objects = mount.cacheDirectory.appendingPathComponent("objects")
            var recorded = 0
            for name in try FileManager.default.contentsOfDirectory(atPath: objects.path) where name.hasSuffix(".json") {
                let record = try JSONSerialization.jsonObject(with: Data(contentsOf: objects.appendingPathComponent(name))) as! [String: Any]
                // The folder's other files may be cached too (walk-ahead): cut.bin's record is the one.
                guard record["remotePath"] as? String == "cut.bin" else { continue }
                let data = try Data(contentsOf: objects.appendingPathComponent(name.replacingOccurrences(of: ".json", with: ".data")))
                for pair in record["ranges"] as! [[Int]] {
                    #expect(data.subdata(in: pair[0]..<pair[1]) == truth.subdata(in: pair[0]..<pair[1]), "\(pair)")
                    recorded += pair[1] - pair[0]
                }
            }
            #expect(recorded > 0 && recorded < truth.count)
            try TaskWrites().setFaults(emulator, #"{"truncateDownloadsAt": 0}"#)
            #expect(try sha256(file) == (try sha256(emulator.workspaceFile(seededTask, "cut.bin"))))
        }
    }

    @Test func aStalledServerFailsWithEIOWithinTheIdleTimeout() throws {
        try withScene(["--seed-tasks", "1"]) { scene in
            let mount = try scene.mount(idleTimeout: 2)
            defer { mount.unmount() }
            try TaskWrites().setFaults(scene.emulator, #"{"stallSeconds": 20}"#)
            let start = Date()
            let code = openErrno(mount.path("tasks/\(seededTask)/workspace/report.md"))
            #expect(code == EIO, "errno \(code)")
            // The 2 s idle timeout ended it, not the server's 20 s stall.
            #expect(Date().timeIntervalSince(start) < 15)
            try TaskWrites().setFaults(scene.emulator, #"{"stallSeconds": 0}"#)
        }
    }

    @Test func remountServesCachedFilesWithTheEmulatorStopped() throws {
        try withScene(["--seed-tasks", "2", "--seed-file", "big.bin:8M"]) { scene in
            let expected = try sha256(scene.emulator.workspaceFile(seededTask, "big.bin"))
            do {
                let mount = try scene.mount()
                defer { mount.unmount() }
                #expect(try sha256(mount.path("tasks/\(seededTask)/workspace/big.bin")) == expected)
            }
            #expect(!isMounted(scene.mountpoint.path))
            do {
                // With the server up, the cached copy is used as it is: nothing is fetched again.
                let mount = try scene.mount()
                defer { mount.unmount() }
                #expect(try sha256(mount.path("tasks/\(seededTask)/workspace/big.bin")) == expected)
                #expect(mount.fetchedRanges(of: "big.bin").isEmpty, "\(mount.fetchedRanges(of: "big.bin"))")
            }
            scene.emulator.stop()
            let mount = try scene.mount()
            defer { mount.unmount() }
            #expect(try sha256(mount.path("tasks/\(seededTask)/workspace/big.bin")) == expected)
            // Not cached: fails at once with EIO rather than hanging.
            let start = Date()
            let code = openErrno(mount.path("tasks/5eed0000-0000-4000-8000-000000000002/workspace/report.md"))
            #expect(code == EIO, "errno \(code)")
            #expect(Date().timeIntervalSince(start) < 10)
            let status = try String(contentsOfFile: mount.path(".synapsefs/status.json"), encoding: .utf8)
            #expect(status.contains("\"offline\""))
            #expect(mount.logText.contains("unreachable"))
        }
    }
}
}
