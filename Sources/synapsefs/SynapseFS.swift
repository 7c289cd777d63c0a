import ArgumentParser

@main
struct SynapseFS: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synapsefs",
        abstract: "Mount the tasks of an InfiniSynapse agent server as folders.",
        subcommands: [MountCommand.self, UnmountCommand.self, EmulatorCommand.self]
    )
}
