import Foundation
import Logging

/// The optional config file (`$XDG_CONFIG_HOME/synapsefs/config.json`), a JSON object:
/// `{"server": "https://…", "apiKey": "…", "cacheDir": "…", "cacheSize": "10G", …}`.
/// Unknown keys are refused by name: a misspelt `serverUrl` must not mount the demo emulator.
struct ConfigFile {
    static let keys: [String: String] = [
        "server": "the server's base URL",
        "apiKey": "the API key (the file must then be private: chmod 600)",
        "apiKeyFile": "a file holding the API key",
        "backend": "the kind of server: infinisynapse or sage",
        "cacheDir": "the cache and state folder",
        "cacheSize": "the file cache's limit, e.g. \"10G\"",
        "minFreeSpace": "free space the cache leaves, e.g. \"1G\"",
        "connectTimeout": "seconds to wait for a connection",
        "idleTimeout": "seconds a transfer may stall",
        "caFile": "CA certificates (PEM) to trust",
        "logLevel": "trace, debug, info, notice, warning, error or critical",
        "logFile": "a log file (rotated by size) instead of syslog when backgrounded",
        "autoApprovalSettings": "a JSON object sent with every new task",
    ]

    var server: String?
    var apiKey: String?
    var apiKeyFile: String?
    var backend: String?
    var cacheDir: String?
    var cacheSize: Int64?
    var minFreeSpace: Int64?
    var connectTimeout: Double?
    var idleTimeout: Double?
    var caFile: String?
    var logLevel: Logger.Level?
    var logFile: String?
    /// Kept as JSON, as the user wrote it.
    var autoApprovalSettings: Data?

    static func defaultURL() -> URL { UserDirectories.config.appendingPathComponent("synapsefs/config.json") }

    /// The file at `url`; nil when there is none. A file holding a key must be private.
    static func load(_ url: URL, explicit: Bool) throws -> ConfigFile? {
        guard FileManager.default.fileExists(atPath: url.path) else {
            if explicit { throw SettingsError("config file \(url.path) does not exist") }
            return nil
        }
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
                throw SettingsError("config file \(url.path) must hold a JSON object")
            }
            object = parsed
        } catch let error as SettingsError {
            throw error
        } catch {
            throw SettingsError("config file \(url.path) is not valid JSON: \(error.localizedDescription)")
        }
        let config = try ConfigFile(object, path: url.path)
        if config.apiKey != nil { try PrivateFile.check(url, what: "config file holding an API key") }
        return config
    }

    init() {}

    init(_ object: [String: Any], path: String) throws {
        for key in object.keys.sorted() where Self.keys[key] == nil {
            let hint = Self.closest(to: key).map { " (did you mean \"\($0)\"?)" } ?? ""
            throw SettingsError("config file \(path): unknown key \"\(key)\"\(hint); known keys: \(Self.keys.keys.sorted().joined(separator: ", "))")
        }
        func string(_ key: String) throws -> String? {
            guard let value = object[key] else { return nil }
            guard let text = value as? String, !text.isEmpty else { throw SettingsError("config file \(path): \(key) must be a non-empty string (\(Self.keys[key]!))") }
            return text
        }
        func seconds(_ key: String) throws -> Double? {
            guard let value = object[key] else { return nil }
            guard let number = value as? NSNumber, number.doubleValue > 0, !(value is Bool) else {
                throw SettingsError("config file \(path): \(key) must be a positive number of seconds")
            }
            return number.doubleValue
        }
        func size(_ key: String) throws -> Int64? {
            guard let value = object[key] else { return nil }
            if let number = value as? NSNumber, !(value is Bool), number.int64Value >= 0 { return number.int64Value }
            if let text = value as? String, let parsed = ByteCount(argument: text) { return parsed.bytes }
            throw SettingsError("config file \(path): \(key) must be a size like \"10G\", \"500M\" or a number of bytes")
        }
        server = try string("server")
        apiKey = try string("apiKey")
        apiKeyFile = try string("apiKeyFile")
        backend = try string("backend")
        cacheDir = try string("cacheDir")
        caFile = try string("caFile")
        logFile = try string("logFile")
        cacheSize = try size("cacheSize")
        minFreeSpace = try size("minFreeSpace")
        connectTimeout = try seconds("connectTimeout")
        idleTimeout = try seconds("idleTimeout")
        if let level = try string("logLevel") {
            guard let parsed = Logger.Level(rawValue: level) else {
                throw SettingsError("config file \(path): logLevel must be one of trace, debug, info, notice, warning, error, critical")
            }
            logLevel = parsed
        }
        if let settings = object["autoApprovalSettings"] {
            guard settings is [String: Any], let json = try? JSONSerialization.data(withJSONObject: settings) else {
                throw SettingsError("config file \(path): autoApprovalSettings must be a JSON object, e.g. {\"enabled\": true, \"actions\": {\"readFiles\": true}}")
            }
            autoApprovalSettings = json
        }
    }

    /// The known key a misspelt one most likely meant.
    static func closest(to key: String) -> String? {
        let lower = key.lowercased()
        return keys.keys.sorted().first { known in
            let k = known.lowercased()
            return lower.hasPrefix(k) || k.hasPrefix(lower) || lower.contains(k) || editDistance(lower, k) <= 2
        }
    }

    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return row[b.count]
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
