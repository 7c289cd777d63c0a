import Foundation

/// Where a user's files go, as XDG and the shell say: `$HOME` first (the passwd entry only
/// when it is unset), `XDG_CONFIG_HOME` and `XDG_CACHE_HOME` over their defaults.
enum UserDirectories {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    static var home: URL {
        if let home = environment["HOME"], !home.isEmpty { return URL(fileURLWithPath: home) }
        return FileManager.default.homeDirectoryForCurrentUser
    }

    static var config: URL { directory("XDG_CONFIG_HOME", default: ".config") }
    static var cache: URL { directory("XDG_CACHE_HOME", default: ".cache") }

    private static func directory(_ variable: String, default name: String) -> URL {
        // The spec: a relative path in the variable is invalid and ignored.
        if let value = environment[variable], value.hasPrefix("/") { return URL(fileURLWithPath: value) }
        return home.appendingPathComponent(name)
    }
}
