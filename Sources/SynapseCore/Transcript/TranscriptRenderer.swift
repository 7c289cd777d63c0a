import Foundation

/// The words of the `stream.log` transcript: each message's header line says when and who
/// (user, agent, agent asks, result, error, notice).
public enum TranscriptRenderer {
    public static func header(for message: TaskMessage) -> String {
        "[\(timestamp(message.ts))] \(speaker(of: message))"
    }

    /// Who a message is from, in the words of the transcript.
    public static func speaker(of message: TaskMessage) -> String {
        if message.type == "notice" { return "notice" }
        if message.isCompletion { return "result" }
        if message.isFailure { return "error" }
        // A plain question needs no kind; an approval, an upload request and the like say theirs.
        if message.type == "ask" {
            return message.ask.map { $0 == "followup" ? "agent asks" : "agent asks (\(singleLine($0, limit: 40)))" } ?? "agent asks"
        }
        switch message.say {
        case "task", "user_feedback": return "user"
        case "text", "reasoning", nil: return "agent"
        default: return "agent (\(singleLine(message.say!, limit: 40)))"
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
