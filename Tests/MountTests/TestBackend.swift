/// A kind of server the real-mount tests run against: its emulator and its mount are started
/// with `--backend NAME`, its key given the way that backend reads it. Tests written for every
/// backend take one as their argument; the others run against InfiniSynapse.
struct TestBackend: Sendable, CustomStringConvertible {
    let name: String
    /// The environment variable the mount reads the API key from.
    let keyVariable: String
    /// Where the emulator keeps a task's workspace file, below its data directory.
    let storedFile: @Sendable (_ task: String, _ path: String) -> String
    /// Where a file dropped into uploads/ lands, below the emulator's data directory.
    let storedUpload: @Sendable (_ task: String, _ name: String) -> String

    var description: String { name }

    static let infiniSynapse = TestBackend(name: "infinisynapse", keyVariable: "INFINISYNAPSE_API_KEY",
                                           storedFile: { "workspaces/\($0)/\($1)" },
                                           storedUpload: { "workspaces/\($0)/upload_documents/\($1)" })

    static let all: [TestBackend] = [.infiniSynapse]
}
