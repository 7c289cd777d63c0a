import Foundation

/// What the Sage emulator serves and how: its accounts, demo content, and the variants its
/// API document allows (each a switch the mount is tested against).
public struct SageEmulatorConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 0
    /// Where agents' file workspaces live (`agents/AGENT/…`).
    public var dataDirectory: URL
    /// Accepted logins: user name (or e-mail) → password.
    public var accounts: [String: String]
    /// How long an access token lasts (the seed's example: 3600 s; real servers: 86400).
    public var tokenSeconds: Double = 3600
    /// Business errors (not logged in, not found) as the seed shows them: HTTP 200 with the
    /// code in the envelope; false answers them with the code as the HTTP status too.
    public var errorsWithHTTP200 = true
    /// Uploads larger than this are refused (400).
    public var maxUploadBytes: Int64 = 1 << 30
    /// Seconds of quiet in a run's stream before a `: heartbeat` line.
    public var heartbeatSeconds: Double = 5
    /// Demo conversations, spread over the demo agents.
    public var seedConversations = 3
    /// Files (path → size, deterministic bytes seeded by the path) put in every agent's
    /// workspace, beside the demo ones: the same bytes whichever conversation reads them.
    public var seedFiles: [String: Int64] = [:]
    /// Faults injected from the start (changed later through `SageEmulatorServer.faults`).
    public var faults = SageFaults.Settings()

    public init(dataDirectory: URL, accounts: [String: String]) {
        self.dataDirectory = dataDirectory
        self.accounts = accounts
    }
}
