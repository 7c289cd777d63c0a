import Foundation

/// What the Asyncat emulator serves and how: its tokens (none: the no-auth server of today's
/// code), demo content, limits, and the variants its API document allows.
public struct AsyncatEmulatorConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 0
    /// Where the working directory (and its `.asyncat/artifacts/`) lives.
    public var dataDirectory: URL
    /// Accepted bearer tokens; empty: no auth at all, as the server's current code runs.
    public var tokens: [String]
    /// Demo conversations (each saved with a user message and an answer).
    public var seedConversations = 3
    /// Artifacts (path → size, deterministic bytes) beside the demo ones.
    public var seedFiles: [String: Int64] = [:]
    /// How long an `ask_user` or `permission_request` waits for its answer (the seed: 5 minutes).
    public var questionTimeoutSeconds: Double = 300
    /// Seconds between `: ping` comments on a quiet run stream (the server's: 15).
    public var pingSeconds: Double = 15
    public var faults = AsyncatFaults.Settings()

    public init(dataDirectory: URL, tokens: [String]) {
        self.dataDirectory = dataDirectory
        self.tokens = tokens
    }
}
