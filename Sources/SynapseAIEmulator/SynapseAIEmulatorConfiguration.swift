import Foundation

/// What the Synapse emulator serves: its API keys, demo agents and orchestrations, and the
/// variants its API document allows.
public struct SynapseAIEmulatorConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 0
    /// Accepted API keys (`Authorization: Bearer`).
    public var apiKeys: [String]
    /// For this long after start the chat routes answer 503 ("not fully started").
    public var startingSeconds: Double = 0
    /// Cut every stream after this many events (0: never): the work is lost, as the server's is.
    public var dropStreamsAfter = 0
    /// Resumes answer HTTP 200 with no events at all (a proxy that ate the stream).
    public var silentResumes = false

    public init(apiKeys: [String]) {
        self.apiKeys = apiKeys
    }
}
