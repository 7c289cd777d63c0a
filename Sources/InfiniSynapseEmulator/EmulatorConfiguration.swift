import Foundation
import SynapseEmulatorKit

/// How an emulator instance is set up: where it listens, its keys, its state and its seed.
public struct EmulatorConfiguration: Sendable {
    /// The two shapes of `getTaskWorkspace` files that deployments use.
    public enum WorkspaceListing: String, Sendable, CaseIterable {
        case objects, strings
    }

    /// A file of `size` deterministic bytes placed at `path` in the first seeded task.
    public struct SeedFile: Sendable, Equatable {
        public var path: String
        public var size: Int64

        public init(path: String, size: Int64) {
            self.path = path
            self.size = size
        }

        /// Parses `PATH:SIZE`, SIZE in bytes or with a K/M/G suffix (powers of 1024).
        public init?(argument: String) {
            guard let colon = argument.lastIndex(of: ":") else { return nil }
            let path = String(argument[..<colon])
            guard !path.isEmpty, let size = Self.parseSize(String(argument[argument.index(after: colon)...])) else { return nil }
            self.init(path: path, size: size)
        }

        public static func parseSize(_ text: String) -> Int64? { Directives.parseSize(text) }
    }

    public var host = "127.0.0.1"
    /// 0 picks a free port; the bound one is reported when the server runs.
    public var port = 0
    public var dataDirectory: URL
    public var apiKeys: [String]
    public var seedTasks = 0
    public var seedFiles: [SeedFile] = []
    public var seedHostileNames = false
    /// Files of 1–64 KiB of text under `small/` (nested folders) in the first seeded task.
    public var seedSmallFiles = 0
    /// A distant server's round trips and bandwidth (benchmarks).
    public var network = NetworkShape()
    public var workspaceListing = WorkspaceListing.objects
    /// Seconds between SSE heartbeats.
    public var heartbeatSeconds: Double = 15
    /// Whether downloads honour HTTP Range; without it every answer is the whole file.
    public var honoursRange = true
    /// Uploads above this answer HTTP 400.
    public var maxUploadBytes: Int64 = 1 << 30
    /// Where to record every event sent (for latency measurements); nil: nowhere.
    public var eventLog: URL?
    /// Faults active from the start (also settable at run time).
    public var failUploads = 0
    public var failMessages = 0
    public var dropSSEEvery: Double = 0
    public var stallSeconds: Double = 0
    public var truncateDownloadsAt: Int64 = 0
    /// Faults and server variants from the start, as `POST /_emulator/faults` takes them (JSON);
    /// the flags above apply on top.
    public var faults: Data?

    public init(dataDirectory: URL, apiKeys: [String]) {
        self.dataDirectory = dataDirectory
        self.apiKeys = apiKeys
    }
}
