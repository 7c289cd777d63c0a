import Foundation

/// A task's workspace listing as a tree of safe, unique names, each file remembering the
/// server path it came from.
public struct WorkspaceTree: Sendable {
    public struct File: Sendable, Equatable {
        /// The server's path, used only to ask the server for the bytes.
        public var remotePath: String
        public var size: Int64?
        public var mtime: Date?
        /// A size the server listed that cannot be one (negative, or beyond `maxFileSize`):
        /// the file is listed with size 0 and fails to open with EIO.
        public var invalidSize: Int64?
    }

    /// The largest size taken as a file's size (1 PiB); anything above is a lie.
    public static let maxFileSize: Int64 = 1 << 50

    public enum Node: Sendable, Equatable {
        case file(File)
        case directory(path: String)
    }

    /// Local path ("" is the workspace root) → children's names and nodes.
    private var directories: [String: [String: Node]] = ["": [:]]
    /// Local path → its files in listing order, and each one's position (walk-ahead).
    private var filesByDirectory: [String: Files] = [:]

    /// A folder's files, in the order its listing gives them.
    struct Files: Sendable {
        var ordered: [File] = []
        var position: [String: Int] = [:]
    }

    public init(entries: [WorkspaceEntry]) {
        // Sorted input makes the `~2` suffixes deterministic across listings.
        for entry in entries.sorted(by: { $0.path < $1.path }) {
            let parts = SafeName.components(ofPath: entry.path)
            guard !parts.isEmpty else { continue }
            var dir = ""
            for part in parts.dropLast() {
                dir = directoryChild(named: part, in: dir)
            }
            let name = SafeName.unique(parts.last!, in: directories[dir, default: [:]].keys)
            let valid = entry.size.map { (0...Self.maxFileSize).contains($0) } ?? true
            directories[dir, default: [:]][name] = .file(File(remotePath: entry.path, size: valid ? entry.size : nil, mtime: entry.mtime,
                                                              invalidSize: valid ? nil : entry.size))
        }
        for (dir, children) in directories {
            var files = Files()
            for (name, node) in children.sorted(by: { $0.key < $1.key }) {
                guard case .file(let file) = node else { continue }
                files.position[name] = files.ordered.count
                files.ordered.append(file)
            }
            filesByDirectory[dir] = files
        }
    }

    /// The files of the directory at local path `dir`, in listing order.
    func files(in dir: String) -> Files? { filesByDirectory[dir] }

    /// The local path of the directory `name` inside `parent`, created if needed; a file
    /// already holding that name pushes the directory to a unique name.
    private mutating func directoryChild(named name: String, in parent: String) -> String {
        if case .directory(let path)? = directories[parent]?[name] { return path }
        let unique = SafeName.unique(name, in: directories[parent, default: [:]].keys)
        let path = parent.isEmpty ? unique : parent + "/" + unique
        directories[parent, default: [:]][unique] = .directory(path: path)
        directories[path] = [:]
        return path
    }

    /// The children of the directory at local path `dir`, or nil when there is none.
    public func children(of dir: String) -> [(name: String, node: Node)]? {
        directories[dir].map { $0.sorted { $0.key < $1.key }.map { (name: $0.key, node: $0.value) } }
    }

    public func child(named name: String, of dir: String) -> Node? {
        directories[dir]?[name]
    }

    public func file(at localPath: String) -> File? {
        let (dir, name) = Self.split(localPath)
        if case .file(let f)? = directories[dir]?[name] { return f }
        return nil
    }

    public func isDirectory(_ localPath: String) -> Bool { directories[localPath] != nil }

    static func split(_ path: String) -> (dir: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        return (String(path[..<slash]), String(path[path.index(after: slash)...]))
    }
}
