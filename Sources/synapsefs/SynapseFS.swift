import ArgumentParser
import SynapseCore

@main
/// Synchronous on purpose: `mount` runs the FUSE loop on the main thread, the one thread
/// that takes SIGINT/SIGTERM, so a signal always stops the loop.
struct SynapseFS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synapsefs",
        abstract: "Mount the tasks of an InfiniSynapse agent server as folders.",
        version: SynapseVersion.current,
        subcommands: [MountCommand.self, UnmountCommand.self, EmulatorCommand.self]
    )
}
