import Foundation

/// The words of the `stream.log` transcript: each entry's header line says when and who
/// (user, agent, agent asks, result, error, notice).
public enum TranscriptRenderer {
    public static func header(for entry: TranscriptEntry) -> String {
        "[\(timestamp(entry.time))] \(speaker(entry.speaker))"
    }

    /// Who an entry is from, in the words of the transcript.
    public static func speaker(_ speaker: Speaker) -> String {
        switch speaker {
        case .user: "user"
        case .agent: "agent"
        case .agentSays(let kind): "agent (\(singleLine(kind, limit: 40)))"
        // A plain question needs no kind; an approval, an upload request and the like say theirs.
        case .agentAsks(let question): question.isPlain ? "agent asks" : "agent asks (\(singleLine(question.kind, limit: 40)))"
        case .result: "result"
        case .error: "error"
        case .notice: "notice"
        }
    }

    /// A server's words made safe for one line of a file a terminal may show: control
    /// characters (newlines, escapes) blanked, at most `limit` characters.
    static func singleLine(_ text: some StringProtocol, limit: Int) -> String {
        let clean = String(String.UnicodeScalarView(text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
        return clean.count > limit ? clean.prefix(limit - 1) + "…" : clean
    }

    static func timestamp(_ ms: Int64) -> String {
        var seconds = time_t(ms / 1000)
        var parts = tm()
        localtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d", parts.tm_year + 1900, parts.tm_mon + 1,
                      parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec)
    }
}
