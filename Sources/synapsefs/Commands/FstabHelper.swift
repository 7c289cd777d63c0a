import Foundation

/// How mount(8) runs a FUSE filesystem: `mount -t fuse.synapsefs SPEC DIR -o OPTIONS` (or an
/// fstab line) runs `/sbin/mount.fuse.synapsefs SPEC DIR [-sfnv] [-o OPTIONS]`, and fuse3's
/// `mount.fuse3` runs `synapsefs SPEC DIR -o OPTIONS`. Both become `synapsefs mount DIR
/// [--server SPEC] -o OPTIONS`: SPEC is the server's http(s) URL, or the word `synapsefs` to
/// take the server from the config (or the built-in emulator); anything else is refused, so a
/// mistyped URL never mounts something else.
enum FstabHelper {
    static let helperNames: Set<String> = ["mount.fuse.synapsefs", "mount.synapsefs"]

    /// The command line this process was given, as the commands see it (a helper call turned
    /// into `mount …`): the daemon is started again with it.
    static func effectiveArguments() -> [String] {
        let names = Set(SynapseFS.configuration.subcommands.compactMap { $0.configuration.commandName } + ["help"])
        return ((try? mountArguments(CommandLine.arguments, subcommands: names)) ?? nil) ?? Array(CommandLine.arguments.dropFirst())
    }

    /// The `mount` command line for a helper call, or nil when this is not one.
    static func mountArguments(_ argv: [String], subcommands: Set<String>) throws -> [String]? {
        let name = URL(fileURLWithPath: argv.first ?? "").lastPathComponent
        let rest = Array(argv.dropFirst())
        if helperNames.contains(name) { return try translate(rest) }
        // `synapsefs SPEC DIR -o …` from mount.fuse3: a spec (a URL or `synapsefs`), then a folder.
        guard rest.count >= 2, isSpec(rest[0]), !subcommands.contains(rest[0]), !rest[1].hasPrefix("-") else { return nil }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: rest[1], isDirectory: &isDirectory), isDirectory.boolValue else { return nil }
        return try translate(rest)
    }

    static let configuredServer = "synapsefs"

    private static func isSpec(_ word: String) -> Bool {
        word == configuredServer || word.hasPrefix("http://") || word.hasPrefix("https://")
    }

    private static func translate(_ arguments: [String]) throws -> [String] {
        var positional: [String] = []
        var options: [String] = []
        var fake = false
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            switch argument {
            case "-o":
                guard i + 1 < arguments.count else { throw SettingsError("-o needs options") }
                options.append(arguments[i + 1])
                i += 1
            case "-t", "-N":
                guard i + 1 < arguments.count else { throw SettingsError("\(argument) needs a value") }
                if argument == "-N" { throw SettingsError("mounting in another namespace (-N) is not supported") }
                i += 1
            case "-f":
                fake = true
            case "-s", "-n", "-v", "-i":
                break // sloppy, no mtab, verbose, no helper: nothing for synapsefs to do
            default:
                if argument.hasPrefix("-o") {
                    options.append(String(argument.dropFirst(2)))
                } else if argument.hasPrefix("-") {
                    throw SettingsError("unknown mount helper flag \(argument)")
                } else {
                    positional.append(argument)
                }
            }
            i += 1
        }
        guard positional.count == 2 else { throw SettingsError("usage: mount -t fuse.synapsefs SERVER_URL|synapsefs MOUNTPOINT [-o OPTIONS]") }
        let (spec, directory) = (positional[0], positional[1])
        guard isSpec(spec) else {
            throw SettingsError("\(spec) is not a server: give its http(s) URL, or \"\(configuredServer)\" to use the config file's")
        }
        var mount = ["mount", directory]
        if spec != configuredServer { mount += ["--server", spec] }
        for option in options { mount += ["-o", option] }
        // mount -f (fake): everything is checked, nothing mounted.
        if fake { mount.append("--dry-run") }
        return mount
    }
}
