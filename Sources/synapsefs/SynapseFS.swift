import ArgumentParser
import Foundation
import SynapseCore

@main
/// Synchronous on purpose: `mount` runs the FUSE loop on the main thread, the one thread
/// that takes SIGINT/SIGTERM, so a signal always stops the loop.
struct SynapseFS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synapsefs",
        abstract: "Mount the tasks of an InfiniSynapse agent server as folders.",
        version: SynapseVersion.current,
        subcommands: [MountCommand.self, UnmountCommand.self, StatusCommand.self, SendCommand.self, WaitCommand.self, NewCommand.self,
                      EmulatorCommand.self]
    )

    /// mount(8)'s helper calls (`mount.fuse.synapsefs SPEC DIR -o …`) are `mount` in disguise.
    static func main() {
        let names = Set(configuration.subcommands.compactMap { $0.configuration.commandName } + ["help"])
        do {
            if let arguments = try FstabHelper.mountArguments(CommandLine.arguments, subcommands: names) {
                Self.main(arguments)
                return
            }
        } catch {
            FileHandle.standardError.write(Data("synapsefs: \(error)\n".utf8))
            Foundation.exit(1)
        }
        Self.main(nil)
    }
}
