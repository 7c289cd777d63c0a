import Foundation

/// How mount(8) runs a FUSE filesystem: `mount -t fuse.synapsefs SPEC DIR -o OPTIONS` (or an
/// fstab line) runs `/sbin/mount.fuse.synapsefs SPEC DIR [-sfnv] [-o OPTIONS]`, and fuse3's
/// `mount.fuse3` runs `synapsefs SPEC DIR -o OPTIONS`. Both become `synapsefs mount DIR
/// [--server SPEC] -o OPTIONS`: SPEC is the server's URL, or any word (`synapsefs`) to take
/// the server from the config (or the built-in emulator).
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
        // `synapsefs SPEC DIR -o …` from mount.fuse3: two plain words, the second a folder.
        guard rest.count >= 2, !rest[0].hasPrefix("-"), !subcommands.contains(rest[0]), !rest[1].hasPrefix("-") else { return nil }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: rest[1], isDirectory: &isDirectory), isDirectory.boolValue else { return nil }
        return try translate(rest)
    }

    private static func translate(_ arguments: [String]) throws -> [String] {
        var positional: [String] = []
        var options: [String] = []
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
            case "-s", "-f", "-n", "-v", "-i":
                break // sloppy, fake, no mtab, verbose, no helper: nothing for synapsefs to do
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
        var mount = ["mount", directory]
        if spec.hasPrefix("http://") || spec.hasPrefix("https://") { mount += ["--server", spec] }
        for option in options { mount += ["-o", option] }
        return mount
    }
}
