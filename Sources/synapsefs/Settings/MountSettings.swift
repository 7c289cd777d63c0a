import Foundation
import Logging
import SynapseCore

/// Everything a mount needs to start, resolved once from, in this order: flags (and `-o`
/// settings), the environment, the config file, the `agent_infini` CLI's config, defaults.
struct MountSettings {
    enum Server {
        case remote(url: String, credentials: Credentials)
        /// No server configured: the built-in emulator, started in the daemon.
        case builtInEmulator
    }

    /// The kinds of server this version mounts.
    enum Backend: String, CaseIterable {
        case infiniSynapse = "infinisynapse"
        case sage
        case asyncat
        case synapse
    }

    /// How the mount proves who it is: an API key, a user's login (Sage), or nothing (an
    /// Asyncat server without auth).
    enum Credentials {
        case apiKey(String)
        case login(user: String, password: String)
        case none
    }

    /// What was given on the command line (flags, and `-o` settings where no flag was given).
    struct Given {
        var server: String?
        var apiKeyFile: String?
        var config: String?
        var cacheDir: String?
        var caFile: String?
        var backend: String?
        var connectTimeout: Double?
        var idleTimeout: Double?
        var cacheSize: Int64?
        var minFreeSpace: Int64?
        var logLevel: Logger.Level?
        var logFile: String?
    }

    static let backends = Backend.allCases.map(\.rawValue)
    static let smallestCache: Int64 = 1 << 20

    var backend: Backend
    var server: Server
    var cacheRoot: URL
    var autoApprovalSettings: Data?
    var connectTimeout: Double = 5
    var idleTimeout: Double = 15
    var cacheSize: Int64 = 10 << 30
    var minFreeSpace: Int64 = 1 << 30
    var caFile: String?
    var logLevel: Logger.Level = .info
    var logFile: String?
    /// Where the server came from, said when mounting (`--server`, a config file, …).
    var notes: [String] = []

    static func resolve(_ given: Given) throws -> MountSettings {
        let configURL = given.config.map { URL(fileURLWithPath: $0) } ?? ConfigFile.defaultURL()
        let config = try ConfigFile.load(configURL, explicit: given.config != nil) ?? ConfigFile()
        let named = given.backend ?? config.backend ?? Backend.infiniSynapse.rawValue
        guard let backend = Backend(rawValue: named) else {
            throw SettingsError("backend \"\(named)\" is not supported by this version; it mounts: \(backends.joined(separator: ", "))")
        }
        var notes: [String] = []
        let server: Server
        let environment = ProcessInfo.processInfo.environment
        if let url = given.server ?? config.server {
            let credentials: Credentials = switch backend {
            case .infiniSynapse: .apiKey(try apiKey(given: given.apiKeyFile, config: config, configURL: configURL))
            case .sage: try sageLogin(given: given.apiKeyFile, config: config, configURL: configURL)
            case .asyncat: asyncatToken(given: given.apiKeyFile, config: config)
            case .synapse: .apiKey(try synapseKey(given: given.apiKeyFile, config: config, configURL: configURL))
            }
            server = .remote(url: try checkedURL(url), credentials: credentials)
        } else if backend == .infiniSynapse, let cli = AgentInfiniConfig.find() {
            // InfiniSynapse's own CLI is set up: its server and key, said so.
            let key: String
            if given.apiKeyFile == nil, environment["INFINISYNAPSE_API_KEY"]?.isEmpty ?? true, let fromCLI = cli.apiKey, !fromCLI.isEmpty {
                try PrivateFile.check(cli.file, what: "agent_infini config holding an API key")
                key = fromCLI
            } else {
                key = try apiKey(given: given.apiKeyFile, config: config, configURL: configURL)
            }
            server = .remote(url: try checkedURL(cli.server), credentials: .apiKey(key))
            notes.append("using the server and key of agent_infini's \(cli.file.path) (pass --server or set server in \(configURL.path) to choose another)")
        } else {
            server = .builtInEmulator
        }
        let cacheRoot: URL
        if let base = given.cacheDir ?? config.cacheDir {
            cacheRoot = URL(fileURLWithPath: base)
        } else {
            let name = switch (server, backend) {
            case (.remote(let url, _), .infiniSynapse): "server-" + CacheDirectory.key(url).prefix(16)
            case (.remote(let url, _), _): "server-" + CacheDirectory.key(backend.rawValue + " " + url).prefix(16)
            case (.builtInEmulator, .infiniSynapse): "emulator"
            case (.builtInEmulator, _): "emulator-" + backend.rawValue
            }
            cacheRoot = UserDirectories.cache.appendingPathComponent("synapsefs").appendingPathComponent(String(name))
        }
        var settings = MountSettings(backend: backend, server: server, cacheRoot: cacheRoot, autoApprovalSettings: config.autoApprovalSettings)
        settings.notes = notes
        settings.connectTimeout = given.connectTimeout ?? config.connectTimeout ?? settings.connectTimeout
        settings.idleTimeout = given.idleTimeout ?? config.idleTimeout ?? settings.idleTimeout
        settings.cacheSize = given.cacheSize ?? config.cacheSize ?? settings.cacheSize
        settings.minFreeSpace = given.minFreeSpace ?? config.minFreeSpace ?? settings.minFreeSpace
        // Absolute: the daemon works from / (it must not keep the caller's folder busy).
        settings.caFile = (given.caFile ?? config.caFile ?? environment["SSL_CERT_FILE"] ?? environment["CURL_CA_BUNDLE"]).map(absolute)
        settings.logLevel = given.logLevel ?? config.logLevel ?? settings.logLevel
        settings.logFile = (given.logFile ?? config.logFile).map(absolute)
        guard settings.connectTimeout > 0, settings.idleTimeout > 0 else { throw SettingsError("timeouts must be positive") }
        guard settings.minFreeSpace >= 0 else { throw SettingsError("the free space to leave must not be negative") }
        guard settings.cacheSize >= smallestCache else {
            throw SettingsError("the cache size must be at least 1M (got \(settings.cacheSize) bytes): the cache holds what is being read")
        }
        return settings
    }

    /// A base URL: http(s), a host, and not the API's own `/api` path (every route adds it).
    static func checkedURL(_ text: String) throws -> String {
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw SettingsError("server \(text) is not an http(s) URL")
        }
        let path = url.path.hasSuffix("/") ? String(url.path.dropLast()) : url.path
        if path.hasSuffix("/api") {
            var components = URLComponents(string: text)
            components?.path = String(path.dropLast(4))
            let base = components?.string ?? text
            throw SettingsError("server \(text) ends in /api: give the server's base URL (\(base)); synapsefs adds /api to every route")
        }
        return text
    }

    /// The key from, in this order: the key file given on the command line (`--api-key-file`,
    /// `-o api_key_file=`), `INFINISYNAPSE_API_KEY`, the config file's key file, its key.
    private static func apiKey(given file: String?, config: ConfigFile, configURL: URL) throws -> String {
        if let file { return try key(inFile: file) }
        if let env = ProcessInfo.processInfo.environment["INFINISYNAPSE_API_KEY"], !env.isEmpty { return env }
        if let file = config.apiKeyFile { return try key(inFile: file) }
        if let key = config.apiKey, !key.isEmpty { return key }
        throw SettingsError("no API key: set INFINISYNAPSE_API_KEY, pass --api-key-file FILE, or put apiKey in \(configURL.path)")
    }

    /// A Sage login from, in this order: the key file given on the command line, `SAGE_USER`
    /// with `SAGE_PASSWORD`, the config file's key file, its key; a file or key holds
    /// `USER:PASSWORD` (never argv: a password there is in every `ps`).
    private static func sageLogin(given file: String?, config: ConfigFile, configURL: URL) throws -> Credentials {
        let environment = ProcessInfo.processInfo.environment
        let text: String
        if let file {
            text = try key(inFile: file)
        } else if let user = environment["SAGE_USER"], !user.isEmpty, let password = environment["SAGE_PASSWORD"], !password.isEmpty {
            return .login(user: user, password: password)
        } else if let file = config.apiKeyFile {
            text = try key(inFile: file)
        } else if let key = config.apiKey, !key.isEmpty {
            text = key
        } else {
            throw SettingsError("no Sage login: set SAGE_USER and SAGE_PASSWORD, or pass --api-key-file FILE holding USER:PASSWORD")
        }
        let parts = text.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw SettingsError("a Sage login is USER:PASSWORD (the key given holds no colon between a user and a password)")
        }
        return .login(user: String(parts[0]), password: String(parts[1]))
    }

    /// An Asyncat token from the key file given, `ASYNCAT_TOKEN`, the config's key file or
    /// key; none at all is fine (today's Asyncat runs without auth).
    private static func asyncatToken(given file: String?, config: ConfigFile) -> Credentials {
        if let file, let token = try? key(inFile: file) { return .apiKey(token) }
        if let token = ProcessInfo.processInfo.environment["ASYNCAT_TOKEN"], !token.isEmpty { return .apiKey(token) }
        if let file = config.apiKeyFile, let token = try? key(inFile: file) { return .apiKey(token) }
        if let token = config.apiKey, !token.isEmpty { return .apiKey(token) }
        return .none
    }

    /// A Synapse API key (`sk-syn-…`) from the key file given, `SYNAPSE_API_KEY`, the config's
    /// key file or key.
    private static func synapseKey(given file: String?, config: ConfigFile, configURL: URL) throws -> String {
        if let file { return try key(inFile: file) }
        if let env = ProcessInfo.processInfo.environment["SYNAPSE_API_KEY"], !env.isEmpty { return env }
        if let file = config.apiKeyFile { return try key(inFile: file) }
        if let key = config.apiKey, !key.isEmpty { return key }
        throw SettingsError("no Synapse API key: set SYNAPSE_API_KEY, or pass --api-key-file FILE (mode 600)")
    }

    private static func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }

    /// The server as a person reads it.
    var serverDescription: String {
        switch server {
        case .remote(let url, _): url
        case .builtInEmulator: "the built-in emulator (no server configured)"
        }
    }

    private static func key(inFile file: String) throws -> String {
        let url = URL(fileURLWithPath: file)
        try PrivateFile.check(url, what: "API key file")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { throw SettingsError("cannot read API key file \(file)") }
        let key = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !key.isEmpty else { throw SettingsError("API key file \(file) is empty") }
        return key
    }

    /// Refuses a free-space floor the cache's disk could never leave.
    func checkFreeSpaceFloor() throws {
        var fs = statvfs()
        guard statvfs(cacheRoot.path, &fs) == 0 else { return }
        let total = Int64(fs.f_blocks) * Int64(fs.f_frsize)
        guard minFreeSpace < total else {
            throw SettingsError("--min-free-space \(minFreeSpace) bytes is more than the whole disk of \(cacheRoot.path) (\(total) bytes)")
        }
    }
}
