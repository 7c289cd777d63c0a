import Foundation

/// The `[emu:…]` directives in a prompt that script the emulated agent.
struct Directives: Sendable, Equatable {
    struct FileRequest: Sendable, Equatable {
        var path: String
        var size: Int64
    }

    var words = 40
    var delayMilliseconds = 15
    var files: [FileRequest] = []
    var ask = false
    var upload: String?
    var fail = false
    var forever = false
    /// The agent drafts a message, then takes it back (`message.remove`).
    var retract = false
    /// A command the agent asks to run (`ask: command`) unless auto-approval allows it.
    var approve: String?

    init(prompt: String) {
        let pattern = /\[emu:([a-z]+)((?:\s+[^\]\s]+)*)\s*\]/
        for match in prompt.matches(of: pattern) {
            let args = match.output.2.split(separator: " ").map(String.init)
            switch match.output.1 {
            case "words": words = args.first.flatMap(Int.init).map { max(1, $0) } ?? words
            case "delay": delayMilliseconds = args.first.flatMap(Int.init).map { max(0, $0) } ?? delayMilliseconds
            case "file":
                if args.count == 2, let size = EmulatorConfiguration.SeedFile.parseSize(args[1]) {
                    files.append(FileRequest(path: args[0], size: size))
                }
            case "ask": ask = true
            case "upload": upload = args.first
            case "fail": fail = true
            case "forever": forever = true
            case "retract": retract = true
            case "approve": approve = args.isEmpty ? nil : args.joined(separator: " ")
            default: break
            }
        }
    }
}
