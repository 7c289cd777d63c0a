import Foundation

/// A kind of server the real-mount tests run against: its emulator and its mount are started
/// with `--backend NAME`, its credentials given the way that backend reads them. Tests written
/// for every backend take one as their argument; the others run against InfiniSynapse.
struct TestBackend: Sendable, CustomStringConvertible {
    let name: String
    /// The emulator's arguments that make it accept `secret` (the API key, or a password).
    let acceptsSecret: @Sendable (_ secret: String) -> [String]
    /// The environment variable the mount reads the secret from, and what else it needs.
    let secretVariable: String
    let environment: [String: String]
    /// Where the emulator keeps a task's workspace file, below its data directory.
    let storedFile: @Sendable (_ task: String, _ path: String) -> String
    /// Where a file dropped into uploads/ landed, below the emulator's data directory (nil:
    /// nowhere yet).
    let storedUpload: @Sendable (_ dataDirectory: URL, _ task: String, _ name: String) -> String?
    /// Where a seeded file (`--seed-file PATH:SIZE`) shows in a task's workspace/.
    var workspacePath: @Sendable (_ seeded: String) -> String = { $0 }
    /// Whether an upload is stored by the server when it is closed (else it goes with the next prompt).
    var storesUploads = true

    var description: String { name }

    static let infiniSynapse = TestBackend(name: "infinisynapse", acceptsSecret: { ["--api-key", $0] },
                                           secretVariable: "INFINISYNAPSE_API_KEY", environment: [:],
                                           storedFile: { "workspaces/\($0)/\($1)" },
                                           storedUpload: { _, task, name in "workspaces/\(task)/upload_documents/\(name)" })

    /// Sage: a login; the emulator seeds `--seed-file`s into every agent's workspace (the
    /// same bytes), and keeps uploads apart, under `oss/ID/NAME`.
    static let sage = TestBackend(name: "sage", acceptsSecret: { ["--account", "mount-test:" + $0] },
                                  secretVariable: "SAGE_PASSWORD", environment: ["SAGE_USER": "mount-test"],
                                  storedFile: { _, path in "agents/agent_research/\(path)" },
                                  storedUpload: { dataDirectory, _, name in
                                      let oss = dataDirectory.appendingPathComponent("oss")
                                      let ids = (try? FileManager.default.contentsOfDirectory(atPath: oss.path)) ?? []
                                      return ids.map { "oss/\($0)/\(name)" }
                                          .first { FileManager.default.fileExists(atPath: dataDirectory.appendingPathComponent($0).path) }
                                  })

    /// Asyncat: a bearer token (the emulator checks it when it has one); artifacts are a flat
    /// folder of the working directory; uploads wait for the next run, as its attachments.
    static let asyncat = TestBackend(name: "asyncat", acceptsSecret: { ["--api-key", $0] }, secretVariable: "ASYNCAT_TOKEN", environment: [:],
                                     storedFile: { _, path in "root/.asyncat/artifacts/" + ((path as NSString).lastPathComponent) },
                                     storedUpload: { _, _, _ in nil },
                                     workspacePath: { ($0 as NSString).lastPathComponent }, storesUploads: false)

    /// Synapse: an API key; no files, no server-side tasks (not in `all`: the every-backend
    /// tests read seeded tasks' files).
    static let synapse = TestBackend(name: "synapse", acceptsSecret: { ["--api-key", $0] }, secretVariable: "SYNAPSE_API_KEY", environment: [:],
                                     storedFile: { _, _ in "" }, storedUpload: { _, _, _ in nil }, storesUploads: false)

    static let all: [TestBackend] = [.infiniSynapse, .sage, .asyncat]
    static let storingUploads = all.filter(\.storesUploads)
}
