import Foundation
import Testing

/// Servers that follow the API document but not this emulator's habits, and tasks driven by
/// other clients.
extension MountTests { @Suite struct ServerVariants {
    let helper = TaskWrites()

    /// Starts a task as another client would (its own connId: this mount gets no events).
    func startForeignTask(_ emulator: EmulatorProcess, _ taskId: String, _ text: String) throws {
        let body = #"{"type":"newTask","taskId":"\#(taskId)","text":"\#(text)","connId":"another-client","chatSettings":{"mode":"act"}}"#
        let result = try run(["curl", "-sf", "-H", "Authorization: Bearer \(EmulatorProcess.apiKey)", "-H", "Content-Type: application/json",
                              "-d", body, "\(emulator.url)/api/ai/message"])
        guard result.status == 0 else { throw HarnessError("newTask failed: \(result.stderr)") }
    }

    @Test func aTaskStartedElsewhereAndSeenWhileRunningEndsWithEveryFinalTextOnce() throws {
        try withMountedEmulator(["--seed-tasks", "1"]) { emulator, mount in
            let id = "f0e1d2c3-0000-4000-8000-000000000001"
            try startForeignTask(emulator, id, "Foreign work [emu:words 60] [emu:delay 100]")
            let log = mount.path("tasks/\(id)/stream.log")
            #expect(waitUntil(10) { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("Foreign work") })
            // Completed on the server, never opened with tail; no other file of it read.
            #expect(waitUntil(30) {
                let messages = (try? run(["curl", "-sf", "-H", "Authorization: Bearer \(EmulatorProcess.apiKey)",
                                          "\(emulator.url)/api/ai_task/getUiMessageById?id=\(id)"]))?.stdout ?? ""
                return messages.contains("completion_result")
            })
            let text = try String(contentsOfFile: log, encoding: .utf8)
            #expect(text.components(separatedBy: "Foreign work").count == 2, "\(text)")
            #expect(text.components(separatedBy: "Done: report.md").count == 2, "\(text)")
            #expect(text.contains("] agent\n"))
            #expect(!text.contains("changed") && !text.contains("rewritten"), "\(text)")
        }
    }
}}

extension MountTests.ServerVariants {
    /// No request waits for a `100 Continue` the server never sends (libcurl's default wait
    /// is 1 s): a small upload completes in well under a second. A behaviour bound, not a benchmark.
    @Test func aSmallUploadDoesNotWaitForAContinue() throws {
        try withMountedEmulator(["--seed-tasks", "1"]) { emulator, mount in
            let source = mount.cacheDirectory.deletingLastPathComponent().appendingPathComponent("tiny.txt").path
            try Data("abc".utf8).write(to: URL(fileURLWithPath: source))
            // Warm up: the first request opens the connection.
            #expect(try run(["cp", source, mount.path("tasks/\(seededTask)/uploads/warm.txt")]).status == 0)
            var times: [Double] = []
            for i in 0..<3 {
                let start = Date()
                #expect(try run(["cp", source, mount.path("tasks/\(seededTask)/uploads/tiny-\(i).txt")]).status == 0)
                times.append(Date().timeIntervalSince(start))
            }
            #expect(times.min()! < 0.5, "cp of 3 bytes took \(times) s")
        }
    }
}
