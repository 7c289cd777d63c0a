import Foundation
import Testing
@testable import SynapseCore

/// Orchestrations (`orchestrations/ORCH/{info.json,runs/}`): a run is a task whose folder is
/// in its orchestration's runs/, never in tasks/; and a draft's `agent` file.
@Suite struct OrchestrationTests {
    static let review = OrchestrationSummary(id: "orch_review", name: "Draft and review",
                                             steps: [.init(id: "draft", name: "Draft", kind: "agent", agent: "agent_research"),
                                                     .init(id: "review", name: "Human review", kind: "human")],
                                             details: ["description": "A draft, a review"])

    func fixture(_ change: (inout BackendCapabilities) -> Void = { _ in }) throws -> Fixture {
        var capabilities = BackendCapabilities()
        capabilities.orchestrations = true
        capabilities.agents = true
        capabilities.agentChoice = true
        change(&capabilities)
        let remote = FakeRemote(capabilities: capabilities)
        remote.state.withLock { s in
            s.orchestrations = [Self.review, OrchestrationSummary(id: "../escape", name: "hostile")]
            s.agents = [AgentSummary(id: "agent_research", name: "Research Agent"), AgentSummary(id: "agent_writer", name: "Writer")]
        }
        remote.addTask("chat1")
        return try Fixture(remote: remote)
    }

    func prompts(_ f: Fixture) -> [Prompt] { f.remote.state.withLock { $0.prompts } }

    @Test func eachOrchestrationIsAFolderWithItsInfoAndRuns() throws {
        let f = try fixture()
        #expect(try f.list("").contains("orchestrations"))
        // A hostile id becomes a safe folder name.
        let names = try f.list("orchestrations")
        #expect(names.count == 2 && names.contains("orch_review"))
        #expect(!names.contains { $0.contains("/") || $0 == ".." || $0 == "." })
        #expect(try f.list("orchestrations/orch_review").sorted() == ["info.json", "runs"])
        let info = try JSONSerialization.jsonObject(with: f.readAll("orchestrations/orch_review/info.json")) as? [String: Any]
        #expect(info?["id"] as? String == "orch_review")
        #expect(info?["name"] as? String == "Draft and review")
        #expect(info?["description"] as? String == "A draft, a review")
        let steps = info?["steps"] as? [[String: Any]]
        #expect(steps?.map { $0["id"] as? String } == ["draft", "review"])
        #expect(steps?.first?["agent"] as? String == "agent_research")
        #expect(steps?.last?["type"] as? String == "human")
        #expect(try f.list("orchestrations/orch_review/runs").isEmpty)
        #expect((#expect(throws: FSError.self) { _ = try f.resolve("orchestrations/orch_nope") })?.errno == ENOENT)
    }

    @Test func withoutOrchestrationsTheFolderIsAbsent() throws {
        let f = try fixture { $0.orchestrations = false }
        #expect(try !f.list("").contains("orchestrations"))
        #expect((#expect(throws: FSError.self) { _ = try f.resolve("orchestrations") })?.errno == ENOENT)
    }

    @Test func aRunDraftLivesInRunsAndItsPromptStartsTheRun() throws {
        let f = try fixture()
        let runs = try f.resolve("orchestrations/orch_review/runs")
        let made = try f.fs.mkdir(parent: runs, name: "launch-post")
        #expect(try f.list("orchestrations/orch_review/runs") == ["launch-post"])
        #expect(try !f.taskFolders().contains("launch-post"))
        #expect(try f.text("orchestrations/orch_review/runs/launch-post/status") == "draft\n")
        // A run's folder has no `agent` file: its steps name their agents.
        #expect(try !f.list("orchestrations/orch_review/runs/launch-post").contains("agent"))
        // `..` of a run folder is its runs/ folder.
        let entries = try f.fs.readdir(try f.fs.opendir(made.attributes.inode), from: 0)
        #expect(entries.first { $0.name == ".." }?.attributes.inode == runs)
        #expect((#expect(throws: FSError.self) { _ = try f.fs.mkdir(parent: runs, name: "launch-post") })?.errno == EEXIST)

        try f.write(Data("Write the launch post".utf8), to: "orchestrations/orch_review/runs/launch-post/prompt.txt")
        let first = try #require(prompts(f).last)
        #expect(first.startsTask && first.orchestration == "orch_review" && first.agent == nil)
        #expect(first.text == "Write the launch post")

        // Listed again from the server, the run stays in runs/ under its name, never in tasks/.
        f.fs.catalog.invalidate()
        #expect(try f.list("orchestrations/orch_review/runs") == ["launch-post"])
        #expect(try !f.taskFolders().contains(first.taskId))
        #expect((#expect(throws: FSError.self) { _ = try f.resolve("tasks/\(first.taskId)") })?.errno == ENOENT)
        let info = try JSONSerialization.jsonObject(with: f.readAll("orchestrations/orch_review/runs/launch-post/info.json")) as? [String: Any]
        #expect(info?["orchestration"] as? String == "orch_review")
        #expect(info?["folder"] as? String == "launch-post")

        // The next prompt answers the run (no longer a start).
        try f.write(Data("Looks good".utf8), to: "orchestrations/orch_review/runs/launch-post/prompt.txt")
        let next = try #require(prompts(f).last)
        #expect(!next.startsTask && next.orchestration == nil && next.taskId == first.taskId)
    }

    @Test func aRunDraftNeedsAnOrchestrationThatExists() throws {
        let f = try fixture()
        let runs = try f.resolve("orchestrations/orch_review/runs")
        f.remote.state.withLock { $0.orchestrations = [] }
        // The folder was looked up before it went; the listing is still young, so its name stands,
        // but a run is made only of a known orchestration.
        _ = runs
        #expect(try f.list("orchestrations/orch_review/runs").isEmpty)
        #expect((#expect(throws: FSError.self) { _ = try f.fs.mkdir(parent: try f.resolve("tasks"), name: "x/y") })?.errno == EINVAL)
    }

    @Test func aDraftChoosesItsAgentBeforeItsFirstPrompt() throws {
        let f = try fixture()
        _ = try f.fs.mkdir(parent: try f.resolve("tasks"), name: "ask-writer")
        #expect(try f.list("tasks/ask-writer").contains("agent"))
        #expect(try f.text("tasks/ask-writer/agent") == "")
        // By name, in any case; stored as the agent's id.
        try f.write(Data("writer\n".utf8), to: "tasks/ask-writer/agent")
        #expect(try f.text("tasks/ask-writer/agent") == "agent_writer\n")
        let unknown = #expect(throws: FSError.self) { try f.write(Data("nobody".utf8), to: "tasks/ask-writer/agent") }
        #expect(unknown?.errno == EINVAL)
        #expect(try f.text("tasks/ask-writer/stream.log").contains("no agent is called \"nobody\""))
        #expect(try f.text("tasks/ask-writer/agent") == "agent_writer\n")

        let id = try f.fs.catalog.task(inFolder: "ask-writer").id
        try f.write(Data("hello".utf8), to: "tasks/ask-writer/prompt.txt")
        #expect(prompts(f).last?.agent == "agent_writer")
        #expect(prompts(f).last?.taskId == id)
        // Chosen for good once the task started.
        let late = #expect(throws: FSError.self) { try f.write(Data("agent_research".utf8), to: "tasks/ask-writer/agent") }
        #expect(late?.errno == EPERM)
        let info = try JSONSerialization.jsonObject(with: f.readAll("tasks/ask-writer/info.json")) as? [String: Any]
        #expect(info?["agent"] as? String == "agent_writer")
    }

    @Test func anEditorSavesTheAgentFileAsItSavesPromptTxt() throws {
        let f = try fixture()
        let folder = try f.resolve("tasks")
        _ = try f.fs.mkdir(parent: folder, name: "v")
        let task = try f.resolve("tasks/v")
        try f.write(Data("agent_research".utf8), to: "tasks/v/agent")
        // vim: the file renamed to its backup, a new one written, the backup removed.
        try f.fs.rename(parent: task, name: "agent", newParent: task, newName: "agent~")
        #expect(try f.text("tasks/v/agent~") == "agent_research\n")
        let (_, opened) = try f.fs.create(parent: task, name: "agent", exclusive: false, appending: false)
        _ = try f.fs.write(opened.handle, at: 0, data: Data("Writer".utf8))
        _ = try f.fs.write(opened.handle, at: 6, data: Data("\n".utf8))
        try f.fs.flush(opened.handle)
        f.fs.release(opened.handle)
        try f.fs.unlink(parent: task, name: "agent~")
        #expect(try f.text("tasks/v/agent") == "agent_writer\n")
        // In a run folder `agent` is no task file: a scratch file, removable.
        _ = try f.fs.mkdir(parent: try f.resolve("orchestrations/orch_review/runs"), name: "r")
        let run = try f.resolve("orchestrations/orch_review/runs/r")
        let (_, scratch) = try f.fs.create(parent: run, name: "agent", exclusive: true, appending: false)
        f.fs.release(scratch.handle)
        try f.fs.unlink(parent: run, name: "agent")
        #expect(try !f.list("orchestrations/orch_review/runs/r").contains("agent"))
    }

    @Test func aBlankAgentLineGoesBackToTheDefault() throws {
        let f = try fixture()
        _ = try f.fs.mkdir(parent: try f.resolve("tasks"), name: "d")
        try f.write(Data("agent_research".utf8), to: "tasks/d/agent")
        // `echo > agent`
        try f.write(Data("\n".utf8), to: "tasks/d/agent")
        #expect(try f.text("tasks/d/agent") == "")
        try f.write(Data("hi".utf8), to: "tasks/d/prompt.txt")
        #expect(prompts(f).last?.agent == nil)
    }

    @Test func withoutAgentChoiceThereIsNoAgentFile() throws {
        let f = try fixture { $0.agentChoice = false }
        _ = try f.fs.mkdir(parent: try f.resolve("tasks"), name: "d")
        #expect(try !f.list("tasks/d").contains("agent"))
        #expect((#expect(throws: FSError.self) { _ = try f.resolve("tasks/d/agent") })?.errno == ENOENT)
        // Not a task file here: a file of that name is kept local, as an editor's scratch file is.
        let (_, opened) = try f.fs.create(parent: try f.resolve("tasks/d"), name: "agent", exclusive: true, appending: false)
        _ = try f.fs.write(opened.handle, at: 0, data: Data("agent_writer".utf8))
        try f.fs.flush(opened.handle)
        f.fs.release(opened.handle)
        try f.write(Data("hi".utf8), to: "tasks/d/prompt.txt")
        #expect(prompts(f).last?.agent == nil)
    }
}
