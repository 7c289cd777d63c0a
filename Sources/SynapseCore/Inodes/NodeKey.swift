/// What an inode stands for. The same key always maps to the same inode while the kernel
/// remembers it.
public enum NodeKey: Hashable, Sendable {
    case root
    case tasks
    case meta
    case mountStatus
    /// A task folder, by task id.
    case task(String)
    /// `tasks/by-name/`, and one link in it (by its name): NAME -> ../FOLDER.
    case byName
    case byNameLink(String)
    case taskFile(String, TaskFileKind)
    /// A workspace directory or file: task id and the local (safe) path; "" is `workspace/`.
    case workspace(String, String)
    /// `uploads/` of a task, and one file in it (pending in the spool, or already uploaded).
    case uploads(String)
    case upload(String, String)
    /// `agents/`, an agent's folder (by agent id), and its `info.json`. Its `workspace/` is a
    /// `.workspace` keyed by the agent's workspace id.
    case agents
    case agent(String)
    case agentInfo(String)
    /// `orchestrations/`, an orchestration's folder and its `info.json` (by orchestration id),
    /// and its `runs/`, whose folders are `.task`s.
    case orchestrations
    case orchestration(String)
    case orchestrationInfo(String)
    case runs(String)
    /// An editor's scratch file in a task folder (`.prompt.txt.swp`, `4913`, `prompt.txt~`), kept local.
    case scratch(String, String)
}

/// The generated files of a task folder.
public enum TaskFileKind: String, CaseIterable, Sendable {
    case info = "info.json"
    case status = "status"
    case messages = "messages.json"
    case streamLog = "stream.log"
    case prompt = "prompt.txt"
    case ctl = "ctl"
    /// The agent a draft's first prompt goes to, where the server lets a task choose one.
    case agent = "agent"

    /// Files a user writes to; the rest are read-only.
    var isWritable: Bool { self == .prompt || self == .ctl || self == .agent }
}
