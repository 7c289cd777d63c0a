import ArgumentParser
import Foundation

struct UnmountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unmount", abstract: "Unmount a synapsefs mount.")

    @Argument(help: "The mountpoint.")
    var mountpoint: String

    @Flag(help: "Detach even while files are open (lazy unmount).")
    var lazy = false

    func run() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["fusermount3", "-u"] + (lazy ? ["-z"] : []) + [mountpoint]
        try process.run()
        process.waitUntilExit()
        if process.terminationStatus != 0 { throw ExitCode(process.terminationStatus) }
    }
}
