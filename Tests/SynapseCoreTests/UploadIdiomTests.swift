import Foundation
import Testing
@testable import SynapseCore

/// The ways programs write a file, as the kernel delivers them (create/open, writes, one
/// FLUSH per close() of any descriptor, one RELEASE after the last): whatever the order, once
/// the last descriptor is closed the server holds exactly the file's bytes.
@Suite struct UploadIdiomTests {
    func uploads(_ f: Fixture) -> [(name: String, data: Data)] { f.remote.state.withLock { $0.uploads.map { ($0.2, $0.3) } } }

    func fixture() throws -> Fixture {
        let remote = FakeRemote()
        remote.addTask("t1", messages: [TaskMessage(ts: 1, type: "say", say: "completion_result", text: "done")])
        return try Fixture(remote: remote, ttl: 0)
    }

    func create(_ f: Fixture, _ name: String) throws -> UInt64 {
        try f.fs.create(parent: try f.resolve("tasks/t1/uploads"), name: name, exclusive: false, appending: false).1.handle
    }

    func waitFor(_ seconds: Double = 10, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        return condition()
    }

    /// `echo one > f`: the shell opens, dup2()s and closes the first descriptor (a FLUSH with
    /// nothing written), then writes through the duplicate and closes it.
    @Test func shellRedirectionUploadsTheBytesWrittenAfterTheFirstClose() throws {
        let f = try fixture()
        let fh = try create(f, "v.txt")
        try f.fs.flush(fh)
        #expect(uploads(f).isEmpty)
        _ = try f.fs.write(fh, at: 0, data: Data("one\n".utf8))
        try f.fs.flush(fh)
        f.fs.release(fh)
        #expect(uploads(f).map(\.name) == ["v.txt"])
        #expect(uploads(f).last?.data == Data("one\n".utf8))
    }

    /// `cat big > f`: the same, with a large body written in pieces.
    @Test func shellRedirectionOfALargeFileUploadsAllOfIt() throws {
        let f = try fixture()
        let content = bytes(3_000_000)
        let fh = try create(f, "s.bin")
        try f.fs.flush(fh)
        var offset = 0
        while offset < content.count {
            let piece = content.subdata(in: offset..<min(offset + 131_072, content.count))
            _ = try f.fs.write(fh, at: Int64(offset), data: piece)
            offset += piece.count
        }
        try f.fs.flush(fh)
        f.fs.release(fh)
        #expect(uploads(f).count == 1)
        #expect(uploads(f).last?.data == content)
    }

    /// Writes after a flush that uploaded (a descriptor closed while its duplicate goes on
    /// writing): the next close uploads the whole file again.
    @Test func writesAfterAFlushAreUploadedByTheNextClose() throws {
        let f = try fixture()
        let fh = try create(f, "log.txt")
        _ = try f.fs.write(fh, at: 0, data: Data("first\n".utf8))
        try f.fs.flush(fh)
        #expect(uploads(f).last?.data == Data("first\n".utf8))
        _ = try f.fs.write(fh, at: 6, data: Data("second\n".utf8))
        try f.fs.flush(fh)
        f.fs.release(fh)
        #expect(uploads(f).last?.data == Data("first\nsecond\n".utf8))
    }

    /// Writes after the last flush (a program that writes from another thread while closing
    /// a duplicate, or mmap): the release queues the file and the uploader sends it.
    @Test func writesNoCloseUploadedAreSentAfterTheLastRelease() throws {
        let f = try fixture()
        let workers = f.fs.startWorkers()
        defer { workers.stop() }
        let fh = try create(f, "late.txt")
        _ = try f.fs.write(fh, at: 0, data: Data("a".utf8))
        try f.fs.flush(fh)
        _ = try f.fs.write(fh, at: 1, data: Data("b".utf8))
        f.fs.release(fh)
        #expect(waitFor { uploads(f).last?.data == Data("ab".utf8) })
        #expect(waitFor { (try? f.text(".synapsefs/status.json").contains("late.txt")) == false })
    }

    /// `touch f`: created and closed without a write; an empty file is uploaded once released.
    @Test func anEmptyFileIsUploadedWhenReleased() throws {
        let f = try fixture()
        let workers = f.fs.startWorkers()
        defer { workers.stop() }
        let fh = try create(f, "empty.txt")
        try f.fs.flush(fh)
        #expect(uploads(f).isEmpty)
        f.fs.release(fh)
        #expect(waitFor { uploads(f).map(\.name) == ["empty.txt"] })
        #expect(uploads(f).last?.data == Data())
    }

    /// `fsync` before close uploads; the close after it has nothing new to send.
    @Test func fsyncBeforeCloseUploadsOnce() throws {
        let f = try fixture()
        let fh = try create(f, "synced.txt")
        _ = try f.fs.write(fh, at: 0, data: Data("durable".utf8))
        try f.fs.fsync(fh)
        #expect(uploads(f).last?.data == Data("durable".utf8))
        try f.fs.flush(fh)
        f.fs.release(fh)
        #expect(uploads(f).count == 1)
    }

    /// Two writers of one file (`tee -a` twice, or two programs): each close uploads what the
    /// file holds, and the last upload holds every byte.
    @Test func twoWritersEndWithEveryByteOnTheServer() throws {
        let f = try fixture()
        let first = try create(f, "shared.txt")
        let second = try f.fs.open(try f.resolve("tasks/t1/uploads/shared.txt"), writing: true, truncating: false).handle
        _ = try f.fs.write(first, at: 0, data: Data("AAAA".utf8))
        try f.fs.flush(first)
        f.fs.release(first)
        _ = try f.fs.write(second, at: 4, data: Data("BBBB".utf8))
        try f.fs.flush(second)
        f.fs.release(second)
        #expect(uploads(f).last?.data == Data("AAAABBBB".utf8))
    }

    /// An uploaded file is read-only: appending, truncating, rewriting or renaming over it is
    /// refused at once (EROFS), never accepted and dropped.
    @Test func anUploadedFileRefusesEveryKindOfRewrite() throws {
        let f = try fixture()
        let fh = try create(f, "u.txt")
        _ = try f.fs.write(fh, at: 0, data: Data("one\n".utf8))
        try f.fs.flush(fh)
        f.fs.release(fh)
        let ino = try f.resolve("tasks/t1/uploads/u.txt")
        #expect((#expect(throws: FSError.self) { try f.fs.open(ino, writing: true, truncating: false, appending: true) })?.errno == EROFS)
        #expect((#expect(throws: FSError.self) { try f.fs.open(ino, writing: true, truncating: true) })?.errno == EROFS)
        #expect((#expect(throws: FSError.self) { try f.fs.setattr(ino, size: 0, handle: nil) })?.errno == EROFS)
        let folder = try f.resolve("tasks/t1/uploads")
        let other = try create(f, "other.txt")
        _ = try f.fs.write(other, at: 0, data: Data("two\n".utf8))
        f.fs.release(other)
        #expect((#expect(throws: FSError.self) { try f.fs.rename(parent: folder, name: "other.txt", newParent: folder, newName: "u.txt") })?.errno == EROFS)
        #expect(uploads(f).filter { $0.name == "u.txt" }.map(\.data) == [Data("one\n".utf8)])
        // Also once only the server lists it (the local record gone after a remount).
        let remounted = try Fixture(remote: f.remote, ttl: 0)
        let listed = try remounted.resolve("tasks/t1/uploads/u.txt")
        #expect((#expect(throws: FSError.self) { try remounted.fs.open(listed, writing: true, truncating: true) })?.errno == EROFS)
    }

    /// A file being written is not uploaded by the background worker under its writer's feet;
    /// its failed upload is retried with the bytes it holds at the retry.
    @Test func aFailedUploadRewrittenBeforeItsRetrySendsTheNewBytes() throws {
        let f = try fixture()
        f.remote.state.withLock { $0.failUploads = 1 }
        let fh = try create(f, "retry.txt")
        _ = try f.fs.write(fh, at: 0, data: Data("old".utf8))
        #expect((#expect(throws: FSError.self) { try f.fs.flush(fh) })?.errno == EIO)
        _ = try f.fs.write(fh, at: 3, data: Data("+new".utf8))
        try f.fs.flush(fh)
        f.fs.release(fh)
        #expect(uploads(f).last?.data == Data("old+new".utf8))
    }
}

/// Races a review found between uploads, listings, renames and interrupts.
extension UploadIdiomTests {
    /// `(echo part1; sleep 1; echo part2) > u`: the first close uploads part1 and the server
    /// lists the file; listing uploads/ then must not drop the entry its writer still writes.
    @Test func aListingWhileTheWriterStillWritesLosesNothing() throws {
        let f = try fixture()
        let fh = try create(f, "r.txt")
        _ = try f.fs.write(fh, at: 0, data: Data("part1\n".utf8))
        try f.fs.flush(fh)
        #expect(try f.list("tasks/t1/uploads") == ["r.txt"])
        _ = try f.fs.write(fh, at: 6, data: Data("part2\n".utf8))
        try f.fs.flush(fh)
        f.fs.release(fh)
        #expect(uploads(f).last?.data == Data("part1\npart2\n".utf8))
    }

    /// An interrupted upload is no failure: close() says EINTR, the file is queued again with
    /// no attempt counted, and the uploader sends it.
    @Test func anInterruptedUploadIsQueuedAgainNotFailed() throws {
        let f = try fixture()
        f.remote.state.withLock { $0.nextUploadError = .interrupted("test") }
        let fh = try create(f, "i.txt")
        _ = try f.fs.write(fh, at: 0, data: Data("bytes".utf8))
        #expect((#expect(throws: FSError.self) { try f.fs.flush(fh) })?.errno == EINTR)
        f.fs.release(fh)
        let status = try f.text(".synapsefs/status.json")
        #expect(status.contains("\"attempts\" : 0") && !status.contains("\"failed\""), "\(status)")
        let workers = f.fs.startWorkers()
        defer { workers.stop() }
        #expect(waitFor { uploads(f).last?.data == Data("bytes".utf8) })
    }
}
