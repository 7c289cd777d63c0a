import Foundation

/// The config of InfiniSynapse's own CLI, `agent_infini` (`~/.agent_infini/config.key`, or
/// `config.txt` in older versions): `server:` and `api-key:` lines, YAML under `global:`,
/// or `key=value`. Offered when synapsefs has no server of its own.
struct AgentInfiniConfig {
    var file: URL
    var server: String
    var apiKey: String?

    static func find() -> AgentInfiniConfig? {
        let directory = UserDirectories.home.appendingPathComponent(".agent_infini")
        for name in ["config.key", "config.txt"] {
            let url = directory.appendingPathComponent(name)
            guard let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
            let values = parse(text)
            if let server = values["server"], !server.isEmpty {
                return AgentInfiniConfig(file: url, server: server, apiKey: values["api-key"] ?? values["api_key"] ?? values["apiKey"])
            }
        }
        return nil
    }

    /// `key: value` and `key=value` lines at any indent, quotes removed; comments skipped.
    static func parse(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            guard let separator = line.firstIndex(where: { $0 == ":" || $0 == "=" }) else { continue }
            let key = line[..<separator].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: separator)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            // The first value of a key wins (a `global:` section comes first in the CLI's files).
            if !value.isEmpty, values[key] == nil { values[key] = value }
        }
        return values
    }
}
