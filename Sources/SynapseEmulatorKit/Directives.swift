import Foundation

/// The `[emu:…]` directives in a prompt that script the emulated agent.
public struct Directives: Sendable, Equatable {
    public struct FileRequest: Sendable, Equatable {
        public var path: String
        public var size: Int64
    }

    public var words = 40
    public var delayMilliseconds = 15
    public var files: [FileRequest] = []
    public var ask = false
    public var upload: String?
    public var fail = false
    public var forever = false
    /// The agent drafts a message, then takes it back (`message.remove`).
    public var retract = false
    /// A command the agent asks to run (`ask: command`) unless auto-approval allows it.
    public var approve: String?

    public init(prompt: String) {
        let pattern = /\[emu:([a-z]+)((?:\s+[^\]\s]+)*)\s*\]/
        for match in prompt.matches(of: pattern) {
            let args = match.output.2.split(separator: " ").map(String.init)
            switch match.output.1 {
            case "words": words = args.first.flatMap(Int.init).map { max(1, $0) } ?? words
            case "delay": delayMilliseconds = args.first.flatMap(Int.init).map { max(0, $0) } ?? delayMilliseconds
            case "file":
                if args.count == 2, let size = Self.parseSize(args[1]) {
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

    /// `SIZE` in bytes or with a K/M/G suffix (powers of 1024).
    public static func parseSize(_ text: String) -> Int64? {
        let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        guard let last = text.uppercased().last else { return nil }
        if let unit = units[last] { return Int64(text.dropLast()).map { $0 * unit } }
        return Int64(text)
    }

    /// The `index`th word of a scripted reply.
    public static func vocabularyWord(_ index: Int) -> String { vocabulary[index % vocabulary.count] }

    /// The words a scripted reply is made of, in order: the same reply for the same length.
    public static let vocabulary = ["the", "quarterly", "numbers", "show", "steady", "growth", "in", "the", "north",
                                    "while", "the", "south", "dipped", "in", "march", "and", "recovered", "by", "june"]
}
