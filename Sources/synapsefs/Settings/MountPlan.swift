import Foundation
import Logging
import SynapseCore

/// A mount as the command line, `-o` options and the config say it should be, checked before
/// anything starts: the mountpoint usable, the cache folder free, the settings sane.
struct MountPlan {
    let mountpoint: String
    let foreground: Bool
    let settings: MountSettings
    let cache: CacheDirectory
    /// Options for libfuse's mount.
    let fuseOptions: [String]
    let owner: Owner
    let umask: UInt16
    let readOnly: Bool
    let allowDelete: Bool
    /// Asyncat: the agent runs its tools without asking.
    let autoApprove: Bool
    let allowOtherWrites: Bool
    /// Run when a task completes, fails or starts waiting.
    let onEvent: String?

    init(_ command: MountCommand) throws {
        let options = try MountOptions.parse(command.options)
        let fromOptions = options.settings
        func size(_ name: String) throws -> Int64? {
            guard let text = fromOptions[name] else { return nil }
            guard let parsed = ByteCount(argument: text) else { throw SettingsError("mount option \(name)=\(text): expected a size like 10G or 500M") }
            return parsed.bytes
        }
        func seconds(_ name: String) throws -> Double? {
            guard let text = fromOptions[name] else { return nil }
            guard let parsed = Double(text), parsed > 0 else { throw SettingsError("mount option \(name)=\(text): expected a positive number of seconds") }
            return parsed
        }
        var given = MountSettings.Given()
        given.server = command.server ?? fromOptions["server"]
        given.apiKeyFile = command.apiKeyFile ?? fromOptions["api_key_file"]
        given.config = command.config ?? fromOptions["config"]
        given.cacheDir = command.cacheDir ?? fromOptions["cache_dir"]
        given.caFile = command.caFile ?? fromOptions["ca_file"]
        given.backend = command.backend ?? fromOptions["backend"]
        given.cacheSize = try command.cacheSize?.bytes ?? size("cache_size")
        given.minFreeSpace = try command.minFreeSpace?.bytes ?? size("min_free_space")
        given.connectTimeout = try command.connectTimeout ?? seconds("connect_timeout")
        given.idleTimeout = try command.idleTimeout ?? seconds("idle_timeout")
        given.logFile = command.logFile ?? fromOptions["log_file"]
        if let level = command.logLevel { given.logLevel = level } else if let text = fromOptions["log_level"] {
            guard let level = Logger.Level(rawValue: text) else { throw SettingsError("mount option log_level=\(text): expected trace, debug, info, notice, warning, error or critical") }
            given.logLevel = level
        }
        settings = try MountSettings.resolve(given)
        foreground = command.foreground
        mountpoint = URL(fileURLWithPath: command.mountpoint).standardizedFileURL.path
        try Mountpoint.check(mountpoint, allowNonEmpty: options.nonempty)
        do { cache = try CacheDirectory(root: settings.cacheRoot) } catch { throw SettingsError(error.message) }
        try settings.checkFreeSpaceFloor()
        if !foreground {
            // Only a check: the daemon takes the lock for its life.
            try CacheLock(cacheRoot: cache.root, mountpoint: mountpoint).release()
        }
        owner = Owner(uid: command.uid ?? options.uid ?? getuid(), gid: command.gid ?? options.gid ?? getgid())
        umask = command.umask.flatMap { UInt16($0, radix: 8) } ?? options.umask ?? 0
        readOnly = command.readOnly || options.readOnly
        allowDelete = command.allowDelete || fromOptions["allow_delete"] != nil
        autoApprove = command.autoApprove || fromOptions["auto_approve"] != nil
        allowOtherWrites = command.allowOtherWrites || fromOptions["allow_other_writes"] != nil
        onEvent = command.onEvent ?? fromOptions["on_event"]
        var fuse = options.fuse
        if command.allowOther, !fuse.contains("allow_other") { fuse.append("allow_other") }
        if command.readOnly, !fuse.contains("ro") { fuse.append("ro") }
        fuseOptions = Self.withPermissionsEnforced(fuse)
    }

    /// `default_permissions` is added whenever other users may enter the mount: the kernel
    /// then enforces the modes, so they act with the owner's API key only where a mode lets them.
    static func withPermissionsEnforced(_ options: [String]) -> [String] {
        let shared = options.contains("allow_other") || options.contains("allow_root")
        guard shared, !options.contains("default_permissions") else { return options }
        return options + ["default_permissions"]
    }
}
