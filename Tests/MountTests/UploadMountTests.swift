import Foundation
import Testing

/// Dropping files into tasks/ID/uploads/ with cp, against a live emulator.
extension MountTests { @Suite struct Uploads {
    let helper = TaskWrites()

    func makeFile(_ path: String, megabytes: Int) throws {
        let result = try run(["sh", "-c", "head -c \(megabytes * 1_048_576) /dev/urandom > '\(path)'"])
        guard result.status == 0 else { throw HarnessError("cannot make \(path): \(result.stderr)") }
    }

    func serverCopy(_ emulator: EmulatorProcess, _ taskId: String, _ path: String) -> String {
        emulator.dataDirectory.appendingPathComponent("workspaces/\(taskId)/\(path)").path
    }

    @Test func cpOfA50MBFileReachesTheServerIntact() throws {
        try withMountedEmulator([]) { (emulator: EmulatorProcess, mount: MountProcess) throws in
            #expect(try run(["mkdir", mount.path("tasks/docs")]).status == 0)
            let source = mount.cacheDirectory.deletingLastPathComponent().appendingPathComponent("source.bin").path
            try makeFile(source, megabytes: 50)
            let cp = try run(["cp", source, mount.path("tasks/docs/uploads/source.bin")], timeout: 120)
            #expect(cp.status == 0, "\(cp.stderr)")
            let id = try helper.taskId(mount, "docs")
            #expect(try sha256(serverCopy(emulator, id, "upload_documents/source.bin")) == (try sha256(source)))
            #expect(try FileManager.default.contentsOfDirectory(atPath: mount.path("tasks/docs/uploads")) == ["source.bin"])
            #expect(try run(["stat", "-c", "%s", mount.path("tasks/docs/uploads/source.bin")]).stdout == "\(50 * 1_048_576)\n")
            // Then the first prompt: the draft becomes a task that completes with its upload in place.
            #expect(try run(["sh", "-c", "echo 'Use the upload [emu:words 5] [emu:delay 1]' > '\(mount.path("tasks/docs/prompt.txt"))'"]).status == 0)
            #expect(helper.waitForStatus(mount, "docs", "completed") == "completed\n")
            #expect(FileManager.default.fileExists(atPath: mount.path("tasks/docs/workspace/report.md")))
            #expect(FileManager.default.fileExists(atPath: mount.path("tasks/docs/workspace/upload_documents/source.bin")))
        }
    }

    @Test func rsyncUploadsOnlyUnderTheFinalName() throws {
        try withMountedEmulator([]) { (emulator: EmulatorProcess, mount: MountProcess) throws in
            #expect(try run(["mkdir", mount.path("tasks/sync")]).status == 0)
            let source = mount.cacheDirectory.deletingLastPathComponent().appendingPathComponent("src")
            try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
            try makeFile(source.appendingPathComponent("a.pdf").path, megabytes: 1)
            try makeFile(source.appendingPathComponent("b.csv").path, megabytes: 1)
            let rsync = try run(["rsync", "-r", source.path + "/", mount.path("tasks/sync/uploads/")], timeout: 60)
            #expect(rsync.status == 0, "\(rsync.stderr)")
            let id = try helper.taskId(mount, "sync")
            // rsync writes .a.pdf.XXXXXX and renames it: the upload starts at the rename.
            let onServer = { (try? FileManager.default.contentsOfDirectory(atPath: serverCopy(emulator, id, "upload_documents")).sorted()) ?? [] }
            #expect(waitUntil(10) { onServer() == ["a.pdf", "b.csv"] }, "server has \(onServer())")
            for name in ["a.pdf", "b.csv"] {
                #expect(try sha256(serverCopy(emulator, id, "upload_documents/\(name)")) == (try sha256(source.appendingPathComponent(name).path)))
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: mount.path("tasks/sync/uploads")).sorted() == ["a.pdf", "b.csv"])
        }
    }

    @Test func aFileWrittenWhileTheAgentAsksAnswersIt() throws {
        try withMountedEmulator([]) { (emulator: EmulatorProcess, mount: MountProcess) throws in
            #expect(try run(["mkdir", mount.path("tasks/ask")]).status == 0)
            #expect(try run(["sh", "-c", "echo 'Check my file [emu:words 5] [emu:delay 1] [emu:upload evidence.csv]' > '\(mount.path("tasks/ask/prompt.txt"))'"]).status == 0)
            #expect(helper.waitForStatus(mount, "ask", "waiting") == "waiting\n")
            let source = mount.cacheDirectory.deletingLastPathComponent().appendingPathComponent("evidence.csv").path
            try makeFile(source, megabytes: 2)
            #expect(try run(["cp", source, mount.path("tasks/ask/uploads/evidence.csv")]).status == 0)
            #expect(helper.waitForStatus(mount, "ask", "completed") == "completed\n")
            let log = try String(contentsOfFile: mount.path("tasks/ask/stream.log"), encoding: .utf8)
            #expect(log.contains("Received evidence.csv: \(2 * 1_048_576) bytes, sha256 \(try sha256(source))."))
        }
    }

    @Test func aFailedUploadFailsCpStaysListedAndIsRetried() throws {
        try withMountedEmulator([]) { (emulator: EmulatorProcess, mount: MountProcess) throws in
            #expect(try run(["mkdir", mount.path("tasks/retry")]).status == 0)
            try helper.setFaults(emulator, #"{"failUploads": 1}"#)
            let source = mount.cacheDirectory.deletingLastPathComponent().appendingPathComponent("retry.bin").path
            try makeFile(source, megabytes: 3)
            let cp = try run(["cp", source, mount.path("tasks/retry/uploads/retry.bin")])
            #expect(cp.status != 0)
            #expect(cp.stderr.contains("Input/output error"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: mount.path("tasks/retry/uploads")) == ["retry.bin"])
            let id = try helper.taskId(mount, "retry")
            let copy = serverCopy(emulator, id, "upload_documents/retry.bin")
            #expect(waitUntil(20) { FileManager.default.fileExists(atPath: copy) })
            #expect(waitUntil(5) { ((try? sha256(copy)) ?? "") == ((try? sha256(source)) ?? "-") })
            let status = try String(contentsOfFile: mount.path(".synapsefs/status.json"), encoding: .utf8)
            #expect(!status.contains("\"failed\""))
        }
    }

    @Test func anUploadInterruptedByKill9CompletesAfterRemount() throws {
        try withScene([]) { scene in
            let source = scene.root.appendingPathComponent("big.bin").path
            try makeFile(source, megabytes: 20)
            var taskId = ""
            do {
                let mount = try scene.mount()
                defer { mount.unmount() }
                #expect(try run(["mkdir", mount.path("tasks/crash")]).status == 0)
                taskId = try helper.taskId(mount, "crash")
                // Requests hang, so the upload is in flight when the daemon dies.
                try helper.setFaults(scene.emulator, #"{"stallSeconds": 30}"#)
                let cp = try ChildProcess(["cp", source, mount.path("tasks/crash/uploads/big.bin")])
                let spool = scene.cache.appendingPathComponent("state/spool").path
                #expect(waitUntil(20) {
                    let records = (try? FileManager.default.contentsOfDirectory(atPath: spool))?.filter { $0.hasSuffix(".json") } ?? []
                    return records.contains { (try? String(contentsOfFile: "\(spool)/\($0)", encoding: .utf8))?.contains("uploading") == true }
                })
                mount.process.signal(SIGKILL)
                #expect(mount.process.wait(timeout: 10))
                cp.stop()
                try helper.setFaults(scene.emulator, #"{"stallSeconds": 0}"#)
            }
            #expect(!isMounted(scene.mountpoint.path))
            let mount = try scene.mount()
            defer { mount.unmount() }
            let copy = serverCopy(scene.emulator, taskId, "upload_documents/big.bin")
            #expect(waitUntil(30) { ((try? sha256(copy)) ?? "") == ((try? sha256(source)) ?? "-") })
            #expect(try FileManager.default.contentsOfDirectory(atPath: mount.path("tasks/crash/uploads")) == ["big.bin"])
        }
    }
}}
