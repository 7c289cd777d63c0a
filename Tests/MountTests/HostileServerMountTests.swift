import Foundation
import Testing

/// A server that answers downloads wrongly: the mount refuses what is not the file, serves no
/// wrong byte and keeps its disk use within the file's size.
extension MountTests { @Suite struct HostileServer {
    let helper = TaskWrites()

    /// Bytes the cache directory takes on disk (its data files are sparse).
    func cacheBytes(_ mount: MountProcess) throws -> Int64 {
        let du = try run(["du", "-s", "--block-size=1", mount.cacheDirectory.appendingPathComponent("objects").path])
        return Int64(du.stdout.split(separator: "\t").first ?? "") ?? -1
    }

    @Test func aRangeAnswerThatStartsElsewhereIsRefusedNeverStored() throws {
        try withMountedEmulator(["--seed-tasks", "1", "--seed-file", "doc.bin:4M"]) { emulator, mount in
            let file = mount.path("tasks/\(seededTask)/workspace/doc.bin")
            try helper.setFaults(emulator, #"{"misplacedRanges": true}"#)
            // The second MiB, asked for alone: the server sends the first one and says so.
            let dd = try run(["dd", "if=\(file)", "of=/dev/null", "bs=1M", "skip=2", "count=1", "iflag=direct", "status=none"])
            #expect(dd.status != 0)
            #expect(dd.stderr.contains("Input/output error"), "\(dd.stderr)")
            // Fixed server, fresh open: every byte is the file's.
            try helper.setFaults(emulator, #"{"misplacedRanges": false}"#)
            #expect(try sha256(file) == (try sha256(emulator.workspaceFile(seededTask, "doc.bin"))))
        }
    }

    @Test func aBodyThatNeverEndsIsCutAtTheFilesSize() throws {
        try withMountedEmulator(["--seed-tasks", "1", "--seed-file", "small.txt:100"]) { emulator, mount in
            try helper.setFaults(emulator, #"{"endlessDownloads": true}"#)
            let expected = try #require(FileManager.default.contents(atPath: emulator.workspaceFile(seededTask, "small.txt")))
            let cat = try run(["timeout", "20", "cat", mount.path("tasks/\(seededTask)/workspace/small.txt")])
            // The bytes that came before the body overran are the file's; nothing past them is
            // served (the reader may get them, or EIO if the overrun came in the same piece).
            #expect(cat.status == 0 || cat.stderr.contains("Input/output error"), "\(cat.status) \(cat.stderr)")
            #expect(expected.starts(with: cat.stdoutData) && cat.stdoutData.count <= 100)
            #expect(try cacheBytes(mount) < 1 << 20)
            try helper.setFaults(emulator, #"{"endlessDownloads": false}"#)
            let again = try run(["cat", mount.path("tasks/\(seededTask)/workspace/small.txt")])
            #expect(again.stdoutData == expected)
        }
    }
}}

/// A server that stops answering: a killed caller is released at once (FUSE interrupts), and
/// SIGTERM unmounts a daemon whose workers all wait on the server.
extension MountTests { @Suite struct StalledServer {
    let helper = TaskWrites()

    @Test func aCallerKilledWhileTheServerStallsReturnsAtOnce() throws {
        try withScene(["--seed-tasks", "1", "--seed-file", "cold.bin:4M"]) { scene in
            // An idle timeout far beyond the test's bound: only the interrupt can end the waits.
            let mount = try scene.mount(idleTimeout: 60)
            defer { mount.unmount() }
            #expect(try run(["ls", mount.path("tasks")]).stdout.contains(seededTask))
            #expect(try run(["ls", mount.path("tasks/\(seededTask)/workspace")]).status == 0)
            try helper.setFaults(scene.emulator, #"{"stallSeconds": 120}"#)
            defer { try? helper.setFaults(scene.emulator, #"{"stallSeconds": 0}"#) }
            for path in ["tasks/\(seededTask)/messages.json", "tasks/\(seededTask)/workspace/cold.bin"] {
                let start = Date()
                let result = try run(["timeout", "2", "cat", mount.path(path)], timeout: 30)
                #expect(result.status == 124, "\(path): \(result.status) \(result.stderr)")
                #expect(Date().timeIntervalSince(start) < 5, "\(path) held its caller \(Date().timeIntervalSince(start)) s")
            }
            // The mount still answers what it knows.
            #expect(try run(["timeout", "5", "ls", mount.path("tasks")]).status == 0)
        }
    }

    @Test func sigtermUnmountsADaemonWhoseWorkersWaitOnTheServer() throws {
        try withScene(["--seed-tasks", "1"]) { scene in
            let mount = try scene.mount(idleTimeout: 60)
            defer { mount.unmount() }
            #expect(try run(["ls", mount.path("tasks")]).stdout.contains(seededTask))
            try helper.setFaults(scene.emulator, #"{"stallSeconds": 120}"#)
            defer { try? helper.setFaults(scene.emulator, #"{"stallSeconds": 0}"#) }
            let readers = try (0..<4).map { _ in try ChildProcess(["cat", mount.path("tasks/\(seededTask)/messages.json")]) }
            defer { readers.forEach { $0.stop() } }
            Thread.sleep(forTimeInterval: 1)
            let start = Date()
            mount.process.signal(SIGTERM)
            #expect(mount.process.wait(timeout: 10))
            #expect(Date().timeIntervalSince(start) < 5, "unmounting took \(Date().timeIntervalSince(start)) s")
            #expect(!isMounted(mount.mountpoint.path))
        }
    }
}}

/// Listings a hostile server inflates: numbers that would size allocations are hints, lists
/// beyond the documented limits are refused with EIO, and other tasks keep answering.
extension MountTests { @Suite struct HostileListings {
    let helper = TaskWrites()

    @Test func anAbsurdPageCountListsWhatThereIs() throws {
        try withMountedEmulator(["--seed-tasks", "3"]) { emulator, mount in
            try helper.setFaults(emulator, #"{"claimTotalPages": 1000000000000000}"#)
            let ls = try run(["timeout", "20", "ls", mount.path("tasks")])
            #expect(ls.status == 0, "\(ls.stderr)")
            #expect(ls.stdout.split(separator: "\n").filter { $0 != "by-name" }.count == 3)
        }
    }

    @Test func listingsBeyondTheLimitsAreRefusedAndOtherTasksAnswer() throws {
        try withMountedEmulator(["--seed-tasks", "2"]) { emulator, mount in
            let other = "5eed0000-0000-4000-8000-000000000002"
            try helper.setFaults(emulator, #"{"inflateListings": 100001}"#)
            let ws = try run(["timeout", "60", "ls", mount.path("tasks/\(seededTask)/workspace")])
            #expect(ws.status != 0)
            #expect(ws.stderr.contains("Input/output error"), "\(ws.stderr)")
            let messages = try run(["timeout", "60", "cat", mount.path("tasks/\(seededTask)/messages.json")])
            #expect(messages.stderr.contains("Input/output error"), "\(messages.stderr)")
            #expect(mount.logText.contains("more than the 100000 the mount shows"))
            let status = try run(["timeout", "5", "cat", mount.path("tasks/\(other)/status")])
            #expect(status.status == 0 && status.stdout == "completed\n", "\(status.stdout) \(status.stderr)")
        }
    }
}}
