import Foundation
import SynapseCore

/// The optional config file (`~/.config/synapsefs/config.json`):
/// `{ "server": "https://…", "apiKey": "…", "cacheDir": "…", "autoApprovalSettings": {…} }`.
struct ConfigFile: Decodable {
    var server: String?
    var apiKey: String?
    var cacheDir: String?
    /// The `autoApprovalSettings` object sent with every newTask, as JSON (kept as the user wrote it).
    var autoApprovalSettings: Data?

    private enum CodingKeys: String, CodingKey { case server, apiKey, cacheDir }

    static func defaultURL() -> URL {
        let base = ProcessInfo.processInfo.environment["XDG_CONFIG_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".config")
        return base.appendingPathComponent("synapsefs/config.json")
    }

    /// The file at `url`; nil when there is none. A file holding a key must be private.
    static func load(_ url: URL, explicit: Bool) throws -> ConfigFile? {
        guard FileManager.default.fileExists(atPath: url.path) else {
            if explicit { throw SettingsError("config file \(url.path) does not exist") }
            return nil
        }
        var config: ConfigFile
        let data: Data
        do {
            data = try Data(contentsOf: url)
            config = try JSONDecoder().decode(ConfigFile.self, from: data)
        } catch {
            throw SettingsError("config file \(url.path) is not valid JSON: \(error.localizedDescription)")
        }
        if let settings = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["autoApprovalSettings"] {
            guard settings is [String: Any], let json = try? JSONSerialization.data(withJSONObject: settings) else {
                throw SettingsError("config file \(url.path): autoApprovalSettings must be a JSON object, e.g. {\"enabled\": true, \"actions\": {\"readFiles\": true}}")
            }
            config.autoApprovalSettings = json
        }
        if config.apiKey != nil { try PrivateFile.check(url, what: "config file holding an API key") }
        return config
    }
}

enum PrivateFile {
    /// Refuses a secret file that group or others can read.
    static func check(_ url: URL, what: String) throws {
        var st = stat()
        guard stat(url.path, &st) == 0 else { throw SettingsError("cannot read \(what) \(url.path): \(String(cString: strerror(errno)))") }
        if st.st_mode & 0o077 != 0 {
            throw SettingsError("\(what) \(url.path) is readable by group or others (mode \(String(st.st_mode & 0o777, radix: 8))); run: chmod 600 \(url.path)")
        }
    }
}

struct SettingsError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Where the mount's server, key and cache come from, resolved once.
struct MountSettings {
    enum Server {
        case remote(url: String, apiKey: String)
        /// No server configured: the built-in emulator, started in the daemon.
        case builtInEmulator
    }

    var server: Server
    var cacheRoot: URL
    /// Sent with every newTask; nil leaves the server's own settings in force.
    var autoApprovalSettings: Data?

    static func resolve(serverFlag: String?, apiKeyFile: String?, configPath: String?, cacheDirFlag: String?) throws -> MountSettings {
        let configURL = configPath.map { URL(fileURLWithPath: $0) } ?? ConfigFile.defaultURL()
        let config = try ConfigFile.load(configURL, explicit: configPath != nil)
        let serverURL = serverFlag ?? config?.server
        let server: Server
        if let serverURL {
            guard let url = URL(string: serverURL), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw SettingsError("server \(serverURL) is not an http(s) URL")
            }
            server = .remote(url: serverURL, apiKey: try apiKey(file: apiKeyFile, config: config))
        } else {
            server = .builtInEmulator
        }
        let base = cacheDirFlag ?? config?.cacheDir
        let cacheRoot: URL
        if let base {
            cacheRoot = URL(fileURLWithPath: base)
        } else {
            let caches = ProcessInfo.processInfo.environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) }
                ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
            let name = switch server {
            case .remote(let url, _): "server-" + CacheDirectory.key(url).prefix(16)
            case .builtInEmulator: "emulator"
            }
            cacheRoot = caches.appendingPathComponent("synapsefs").appendingPathComponent(String(name))
        }
        return MountSettings(server: server, cacheRoot: cacheRoot, autoApprovalSettings: config?.autoApprovalSettings)
    }

    /// The key from `INFINISYNAPSE_API_KEY`, `--api-key-file` or the config file, in that order.
    private static func apiKey(file: String?, config: ConfigFile?) throws -> String {
        if let env = ProcessInfo.processInfo.environment["INFINISYNAPSE_API_KEY"], !env.isEmpty { return env }
        if let file {
            let url = URL(fileURLWithPath: file)
            try PrivateFile.check(url, what: "API key file")
            guard let text = try? String(contentsOf: url, encoding: .utf8) else { throw SettingsError("cannot read API key file \(file)") }
            let key = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !key.isEmpty else { throw SettingsError("API key file \(file) is empty") }
            return key
        }
        if let key = config?.apiKey, !key.isEmpty { return key }
        throw SettingsError("no API key: set INFINISYNAPSE_API_KEY, pass --api-key-file FILE, or put apiKey in \(ConfigFile.defaultURL().path)")
    }
}
