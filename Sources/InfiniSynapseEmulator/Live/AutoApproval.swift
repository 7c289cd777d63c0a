import Foundation

/// The `autoApprovalSettings` a task was created with (Cline's shape: `enabled` and
/// per-action switches), as far as the scripted agent needs them.
struct AutoApproval: Sendable, Equatable {
    /// Commands run without asking: auto-approval on, and safe or all commands allowed.
    var allowsCommands: Bool

    init(settings: Any?) {
        let object = settings as? [String: Any]
        let actions = object?["actions"] as? [String: Any]
        let enabled = object?["enabled"] as? Bool ?? false
        allowsCommands = enabled && ((actions?["executeSafeCommands"] as? Bool ?? false) || (actions?["executeAllCommands"] as? Bool ?? false))
    }

    /// Whether an answer to an approval question approves: the yes button, or a yes in words.
    static func isApproval(_ answer: String) -> Bool {
        let word = answer.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        return word == "yesbuttonclicked" || ["y", "yes", "ok", "approve", "approved", "run it"].contains(word)
    }
}
