import ArgumentParser
import Foundation

/// What every command for scripts takes.
struct ScriptingOptions: ParsableArguments {
    @Option(help: "The synapsefs mount (default: the only one on this machine).")
    var mount: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    /// Prints `object` as one line of JSON.
    func printJSON(_ object: Any) {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        print(String(decoding: data, as: UTF8.self))
    }
}
