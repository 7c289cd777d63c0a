import Foundation
import Testing

/// What a user does first with any backend's mount, with real tools: ls, cat and stat of an
/// agent's file, a prompt answered in stream.log, a file copied into uploads/. Each backend's
/// emulator and mount run it (`TestBackend.all`).
extension MountTests { @Suite struct EveryBackend {
    let helper = TaskWrites()

    /// The task folder whose workspace holds `path`, and the task's id (from its info.json).
    func folder(holding path: String, _ mount: MountProcess) throws -> (folder: String, id: String)? {
        let folders = try FileManager.default.contentsOfDirectory(atPath: mount.path("tasks")).filter { $0 != "by-name" }
        guard let folder = folders.first(where: { FileManager.default.fileExists(atPath: mount.path("tasks/\($0)/workspace/\(path)")) })
        else { return nil }
        return (folder, try helper.taskId(mount, folder))
    }

    @Test(arguments: TestBackend.all)
    func lsCatAndStatOfAnAgentsFile(_ backend: TestBackend) throws {
        try withMountedEmulator(["--seed-tasks", "3", "--seed-file", "reports/data.bin:3M"], backend: backend) { emulator, mount in
            let ls = try run(["ls", mount.path("tasks")])
            #expect(ls.status == 0)
            #expect(ls.stdout.split(separator: "\n").filter { $0 != "by-name" }.count == 3)
            let path = backend.workspacePath("reports/data.bin")
            let found = try #require(try folder(holding: path, mount))
            let file = mount.path("tasks/\(found.folder)/workspace/\(path)")
            #expect(try run(["stat", "-c", "%s", file]).stdout == "\(3 << 20)\n")
            let stored = emulator.dataDirectory.appendingPathComponent(backend.storedFile(found.id, "reports/data.bin")).path
            #expect(try sha256(file) == (try sha256(stored)))
            let tail = try run(["sh", "-c", "tail -c 1000 '\(file)' | sha256sum"])
            let expected = try run(["sh", "-c", "tail -c 1000 '\(stored)' | sha256sum"])
            #expect(tail.stdout == expected.stdout)
        }
    }

    @Test(arguments: TestBackend.all)
    func aPromptIsAnsweredInStreamLog(_ backend: TestBackend) throws {
        try withMountedEmulator(["--seed-tasks", "0"], backend: backend) { _, mount in
            #expect(try run(["mkdir", mount.path("tasks/question")]).status == 0)
            #expect(try run(["sh", "-c", "echo 'What is new [emu:words 12] [emu:delay 2]' > '\(mount.path("tasks/question/prompt.txt"))'"]).status == 0)
            #expect(helper.waitForStatus(mount, "question", "completed") == "completed\n")
            let log = try String(contentsOfFile: mount.path("tasks/question/stream.log"), encoding: .utf8)
            #expect(log.contains("What is new"))
            let messages = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: mount.path("tasks/question/messages.json"))))
            let last = (messages as? [[String: Any]])?.last
            #expect(last?["speaker"] as? String == "result")
            let answer = try #require(last?["text"] as? String)
            #expect(!answer.isEmpty && log.contains(answer), "stream.log holds the final answer")
        }
    }

    @Test(arguments: TestBackend.storingUploads)
    func aFileCopiedIntoUploadsArrivesIntact(_ backend: TestBackend) throws {
        try withMountedEmulator(["--seed-tasks", "0"], backend: backend) { emulator, mount in
            #expect(try run(["mkdir", mount.path("tasks/docs")]).status == 0)
            let source = mount.cacheDirectory.deletingLastPathComponent().appendingPathComponent("notes.bin").path
            #expect(try run(["sh", "-c", "head -c 2500000 /dev/urandom > '\(source)'"]).status == 0)
            let cp = try run(["cp", source, mount.path("tasks/docs/uploads/notes.bin")])
            #expect(cp.status == 0, "\(cp.stderr)")
            let id = try helper.taskId(mount, "docs")
            let upload = try #require(backend.storedUpload(emulator.dataDirectory, id, "notes.bin"), "the upload is stored")
            let stored = emulator.dataDirectory.appendingPathComponent(upload).path
            #expect(try sha256(stored) == (try sha256(source)))
            #expect(try FileManager.default.contentsOfDirectory(atPath: mount.path("tasks/docs/uploads")) == ["notes.bin"])
        }
    }
} }
