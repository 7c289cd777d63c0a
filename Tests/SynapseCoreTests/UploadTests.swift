import Foundation
import Testing
@testable import SynapseCore

/// uploads/: spool, upload at close, temp names, failures kept and retried, restarts.
@Suite struct UploadTests {
    func uploads(_ f: Fixture) -> [(UploadDestination, String, String, Data)] { f.remote.state.withLock { $0.uploads } }

    /// Creates `name` in the task's uploads/, writes `data` in chunks and closes it; returns close()'s error.
    @discardableResult
    func put(_ f: Fixture, _ task: String, _ name: String, _ data: Data) throws -> FSError? {
        let (_, opened) = try f.fs.create(parent: try f.resolve("tasks/\(task)/uploads"), name: name, exclusive: false, appending: false)
        defer { f.fs.release(opened.handle) }
        var offset = 0
        while offset < data.count {
            let chunk = data.subdata(in: offset..<min(offset + 65536, data.count))
            _ = try f.fs.write(opened.handle, at: Int64(offset), data: chunk)
            offset += chunk.count
        }
        do { try f.fs.flush(opened.handle) } catch { return error }
        return nil
    }

    /// Creates `name` in t1's uploads/ and returns its handle (the caller releases it).
    func createInT1(_ f: Fixture, _ name: String) throws -> UInt64 {
        try f.fs.create(parent: try f.resolve("tasks/t1/uploads"), name: name, exclusive: false, appending: false).1.handle
    }

    /// How many uploads began while their file was still being written.
    func streamsStarted(_ f: Fixture) -> Int { f.remote.state.withLock { $0.streamedUploads } }

    func waitFor(_ seconds: Double = 10, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        return condition()
    }

    func fixture() throws -> Fixture {
        let remote = FakeRemote()
        remote.addTask("t1", messages: [TaskMessage(ts: 1, type: "say", say: "completion_result", text: "done")])
        return try Fixture(remote: remote, ttl: 0)
    }

    @Test func aClosedFileIsUploadedToTheWorkspaceAndListed() throws {
        let f = try fixture()
        let content = bytes(300_000)
        #expect(try put(f, "t1", "notes.pdf", content) == nil)
        #expect(uploads(f).count == 1)
        #expect(uploads(f).first?.0 == .workspace)
        #expect(uploads(f).first?.2 == "notes.pdf")
        #expect(uploads(f).first?.3 == content)
        #expect(try f.list("tasks/t1/uploads") == ["notes.pdf"])
        #expect(try f.readAll("tasks/t1/uploads/notes.pdf") == content)
        #expect(try f.list("tasks/t1/workspace/upload_documents") == ["notes.pdf"])
    }

    @Test func aFileWrittenFrontToBackIsUploadedWhileItIsWritten() throws {
        let f = try fixture()
        let content = bytes(1_000_000)
        let fh = try createInT1(f, "live.bin")
        defer { f.fs.release(fh) }
        _ = try f.fs.write(fh, at: 0, data: content.prefix(400_000))
        // The transfer is under way before the writer is done.
        #expect(waitFor { streamsStarted(f) == 1 })
        _ = try f.fs.write(fh, at: 400_000, data: content.suffix(from: 400_000))
        try f.fs.flush(fh)
        #expect(uploads(f).count == 1)
        #expect(uploads(f).first?.3 == content)
        #expect(try f.list("tasks/t1/uploads") == ["live.bin"])
    }

    @Test func aWriterThatGoesBackIsUploadedWholeAtClose() throws {
        let f = try fixture()
        var content = bytes(600_000)
        let fh = try createInT1(f, "patched.bin")
        defer { f.fs.release(fh) }
        _ = try f.fs.write(fh, at: 0, data: content)
        #expect(waitFor { streamsStarted(f) == 1 })
        Thread.sleep(forTimeInterval: 0.05)
        // A header patched after the body (as archivers do): bytes already sent change.
        content.replaceSubrange(0..<4, with: Data("HEAD".utf8))
        _ = try f.fs.write(fh, at: 0, data: Data("HEAD".utf8))
        try f.fs.flush(fh)
        #expect(uploads(f).count == 1)
        #expect(uploads(f).first?.3 == content)
    }

    @Test func aLiveUploadThatTimesOutWhileTheWriterPausesIsSentWholeAtClose() throws {
        let f = try fixture()
        f.remote.state.withLock { $0.timeOutStreamsAtOnce = true }
        let content = bytes(200_000)
        let fh = try createInT1(f, "slow.txt")
        defer { f.fs.release(fh) }
        _ = try f.fs.write(fh, at: 0, data: content.prefix(1000))
        #expect(waitFor { streamsStarted(f) == 1 })
        Thread.sleep(forTimeInterval: 0.05)
        _ = try f.fs.write(fh, at: 1000, data: content.suffix(from: 1000))
        try f.fs.flush(fh)
        #expect(uploads(f).count == 1)
        #expect(uploads(f).first?.3 == content)
    }

    @Test func aLiveUploadThatFailsFailsClose() throws {
        let f = try fixture()
        f.remote.state.withLock { $0.failUploads = 1 }
        #expect(try put(f, "t1", "fails.bin", bytes(300_000))?.errno == EIO)
        #expect(streamsStarted(f) == 1)
        #expect(uploads(f).isEmpty)
        #expect(try f.readAll("tasks/t1/uploads/fails.bin") == bytes(300_000))
    }

    @Test func aDraftTakesUploadsBeforeItsFirstPrompt() throws {
        let f = try Fixture()
        _ = try f.fs.mkdir(parent: try f.resolve("tasks"), name: "draft")
        #expect(try put(f, "draft", "brief.docx", Data("brief".utf8)) == nil)
        #expect(uploads(f).first?.2 == "brief.docx")
        #expect(try f.text("tasks/draft/status") == "draft\n")
    }

    @Test func temporaryNamesWaitForTheirRename() throws {
        let f = try fixture()
        let workers = f.fs.startWorkers()
        defer { workers.stop() }
        #expect(try put(f, "t1", ".report.pdf.Ab12Cd", Data("rsync".utf8)) == nil)
        Thread.sleep(forTimeInterval: 1.5)
        #expect(uploads(f).isEmpty)
        let folder = try f.resolve("tasks/t1/uploads")
        try f.fs.rename(parent: folder, name: ".report.pdf.Ab12Cd", newParent: folder, newName: "report.pdf")
        #expect(waitFor { uploads(f).count == 1 })
        #expect(uploads(f).first?.2 == "report.pdf")
        #expect(uploads(f).first?.3 == Data("rsync".utf8))
    }

    @Test func aFailedUploadFailsCloseIsKeptAndRetried() throws {
        let f = try fixture()
        f.remote.state.withLock { $0.failUploads = 1 }
        let content = bytes(100_000)
        let error = try put(f, "t1", "data.csv", content)
        #expect(error?.errno == EIO)
        #expect(try f.list("tasks/t1/uploads") == ["data.csv"])
        #expect(try f.readAll("tasks/t1/uploads/data.csv") == content)
        let status = try f.text(".synapsefs/status.json")
        #expect(status.contains("\"state\" : \"failed\""))
        #expect(status.contains("server error 500"))
        let workers = f.fs.startWorkers()
        defer { workers.stop() }
        #expect(waitFor { uploads(f).count == 1 })
        #expect(uploads(f).first?.3 == content)
        #expect(waitFor { (try? f.text(".synapsefs/status.json").contains("\"failed\"")) == false })
    }

    @Test func anUploadCutShortByARestartIsSentAfterIt() throws {
        let f = try fixture()
        f.remote.state.withLock { $0.failUploads = 1 }
        #expect(try put(f, "t1", "big.bin", bytes(50_000))?.errno == EIO)
        // The daemon died mid-upload: the record still says uploading.
        let spool = UploadSpool(stateDirectory: f.cacheRoot.appendingPathComponent("state"))
        let entry = try #require(spool.entry("t1", named: "big.bin"))
        spool.update(entry.id) { $0.phase = .uploading }
        let restarted = try Fixture(remote: f.remote, cacheRoot: f.cacheRoot, ttl: 0)
        let workers = restarted.fs.startWorkers()
        defer { workers.stop() }
        #expect(waitFor { uploads(f).count == 1 })
        #expect(uploads(f).first?.3 == bytes(50_000))
    }

    @Test func whileTheAgentAsksForAFileTheUploadAnswersIt() throws {
        let f = try fixture()
        f.remote.state.withLock { $0.messages["t1"] = [TaskMessage(ts: 1, type: "ask", ask: "upload_file_to_sandbox", text: "doc.txt")] }
        #expect(try put(f, "t1", "doc.txt", Data("the doc".utf8)) == nil)
        #expect(uploads(f).first?.0 == .sandbox)
        let sent = f.remote.state.withLock { $0.sent }
        guard case .answer(let taskId, let text, let connId)? = sent.last else { Issue.record("no answer sent: \(sent)"); return }
        #expect(taskId == "t1" && connId == "test-conn")
        #expect(text.contains("\"filename\":\"doc.txt\""))
    }

    @Test func deletingAPendingUploadCancelsItAndUploadedFilesStay() throws {
        let f = try fixture()
        f.remote.state.withLock { $0.failUploads = 1 }
        #expect(try put(f, "t1", "oops.txt", Data("x".utf8))?.errno == EIO)
        let folder = try f.resolve("tasks/t1/uploads")
        try f.fs.unlink(parent: folder, name: "oops.txt")
        #expect(try f.list("tasks/t1/uploads").isEmpty)
        #expect(try put(f, "t1", "kept.txt", Data("y".utf8)) == nil)
        #expect((#expect(throws: FSError.self) { try f.fs.unlink(parent: folder, name: "kept.txt") })?.errno == EROFS)
        let workers = f.fs.startWorkers()
        defer { workers.stop() }
        Thread.sleep(forTimeInterval: 1.5)
        #expect(uploads(f).map(\.2) == ["kept.txt"])
    }
}

extension UploadTests {
    /// Two files dropped at once while the agent waits for one (`cp a b uploads/` in two
    /// shells): each upload starts at its first write, before the other's answer reached the
    /// agent; the first to ask answers the request, the other goes to the workspace.
    @Test func twoFilesDroppedForOneRequestAnswerItOnce() throws {
        let f = try fixture()
        f.remote.state.withLock { s in
            s.messages["t1"] = [TaskMessage(ts: 7, type: "ask", ask: "upload_file_to_sandbox", text: "data.csv")]
            s.uploadDelay = 0.3
        }
        let handles = try ["data.csv", "extra.csv"].map { name -> UInt64 in
            let fh = try createInT1(f, name)
            _ = try f.fs.write(fh, at: 0, data: Data("\(name)\n".utf8))
            return fh
        }
        for fh in handles {
            try f.fs.flush(fh)
            f.fs.release(fh)
        }
        #expect(uploads(f).map(\.0).sorted { "\($0)" < "\($1)" } == [.sandbox, .workspace])
        let answers = f.remote.state.withLock { $0.sent }.filter { if case .answer = $0 { true } else { false } }
        #expect(answers.count == 1)
    }
}
