import Foundation
import Testing

/// The shell and program idioms of SEMANTICS.md's table, each writing into uploads/ through a
/// real mount: once the last descriptor is closed, the server holds exactly the file's bytes.
extension MountTests { @Suite struct UploadIdioms {
    let helper = TaskWrites()

    func serverBytes(_ emulator: EmulatorProcess, _ taskId: String, _ name: String) -> Data? {
        FileManager.default.contents(atPath: emulator.dataDirectory.appendingPathComponent("workspaces/\(taskId)/upload_documents/\(name)").path)
    }

    @Test func everyWritingIdiomLeavesExactlyTheFileOnTheServer() throws {
        try withMountedEmulator([]) { (emulator: EmulatorProcess, mount: MountProcess) throws in
            #expect(try run(["mkdir", mount.path("tasks/idioms")]).status == 0)
            let id = try helper.taskId(mount, "idioms")
            let uploads = mount.path("tasks/idioms/uploads")
            let big = mount.cacheDirectory.deletingLastPathComponent().appendingPathComponent("big.bin").path
            #expect(try run(["sh", "-c", "head -c 5000000 /dev/urandom > '\(big)'"]).status == 0)
            let bigBytes = try #require(FileManager.default.contents(atPath: big))
            let python = """
            import os, sys
            d = sys.argv[1]
            # open, dup, close the first descriptor, write through the duplicate
            fd = os.open(d + '/dup.txt', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            dup = os.dup(fd); os.close(fd); os.write(dup, b'through the dup\\n'); os.close(dup)
            # fsync before close
            fd = os.open(d + '/synced.txt', os.O_WRONLY | os.O_CREAT, 0o644)
            os.write(fd, b'synced\\n'); os.fsync(fd); os.close(fd)
            # writes after a flush: a duplicate closed between two writes
            fd = os.open(d + '/twice.txt', os.O_WRONLY | os.O_CREAT, 0o644)
            os.write(fd, b'first\\n'); os.close(os.dup(fd)); os.write(fd, b'second\\n'); os.close(fd)
            """
            let idioms: [(name: String, command: [String], expected: Data)] = [
                ("echo.txt", ["sh", "-c", "echo one > '\(uploads)/echo.txt'"], Data("one\n".utf8)),
                ("cat.bin", ["sh", "-c", "cat '\(big)' > '\(uploads)/cat.bin'"], bigBytes),
                ("tee.txt", ["sh", "-c", "printf 'via tee\\n' | tee '\(uploads)/tee.txt' > /dev/null"], Data("via tee\n".utf8)),
                ("cp.bin", ["cp", big, "\(uploads)/cp.bin"], bigBytes),
                ("dd.bin", ["dd", "if=\(big)", "of=\(uploads)/dd.bin", "bs=64k", "status=none"], bigBytes),
                ("vim.txt", ["vim", "-Nu", "NONE", "-es", "-c", "call setline(1, 'written by vim')", "-c", "wq", "\(uploads)/vim.txt"],
                 Data("written by vim\n".utf8)),
                ("dup.txt", ["python3", "-c", python, uploads], Data("through the dup\n".utf8)),
            ]
            for idiom in idioms {
                let result = try run(idiom.command, timeout: 60)
                #expect(result.status == 0, "\(idiom.name): \(result.stderr)")
                #expect(serverBytes(emulator, id, idiom.name) == idiom.expected, "\(idiom.name) on the server")
            }
            #expect(serverBytes(emulator, id, "synced.txt") == Data("synced\n".utf8))
            #expect(serverBytes(emulator, id, "twice.txt") == Data("first\nsecond\n".utf8))
            // Nothing pending or failed is left behind, and no temporary name reached the server.
            let status = try #require(FileManager.default.contents(atPath: mount.path(".synapsefs/status.json")))
            let pending = (try JSONSerialization.jsonObject(with: status) as? [String: Any])?["uploads"] as? [Any]
            #expect(pending?.isEmpty == true, "\(String(decoding: status, as: UTF8.self))")
            let onServer = try FileManager.default.contentsOfDirectory(
                atPath: emulator.dataDirectory.appendingPathComponent("workspaces/\(id)/upload_documents").path)
            #expect(onServer.allSatisfy { !$0.hasPrefix(".") && !$0.hasSuffix(".swp") }, "\(onServer)")

            // An uploaded file is read-only: the shell reports the refusal, the server copy stays.
            let append = try run(["sh", "-c", "echo two >> '\(uploads)/echo.txt'"])
            #expect(append.status != 0)
            #expect(append.stderr.contains("Read-only file system"), "\(append.stderr)")
            #expect(openErrno("\(uploads)/echo.txt", O_WRONLY | O_TRUNC) == EROFS)
            #expect(serverBytes(emulator, id, "echo.txt") == Data("one\n".utf8))

            // Links have no meaning on the server: refused with EPERM, not ENOSYS.
            for link in [["ln", "-s", "/etc/hosts", "\(uploads)/link"], ["ln", "\(uploads)/echo.txt", "\(uploads)/hard"]] {
                let result = try run(link)
                #expect(result.status != 0)
                #expect(result.stderr.contains("Operation not permitted"), "\(link): \(result.stderr)")
            }
        }
    }
}}
