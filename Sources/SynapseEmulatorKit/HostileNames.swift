import Foundation

/// Names a client must not trust, for a seeded task's workspace: their bytes are stored under
/// safe blob names, and the listing comes from this manifest, not the directory.
public enum HostileNames {
    public static let names = [
        "../escape.txt",
        "/abs.txt",
        "a/../../b",
        "bell\u{07}name.txt",
        String(repeating: "L", count: 296) + ".txt",
        "collide.txt",
        "./collide.txt",
        "normal.txt",
    ]

    public static func content(of name: String) -> String { "content of \(name.debugDescription)\n" }

    public static func write(to dir: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (i, name) in names.enumerated() {
            try Data(content(of: name).utf8).write(to: dir.appendingPathComponent("blob-\(i)"))
        }
    }

    /// Each hostile name with the blob holding its bytes, their size and time.
    public static func listing(in dir: URL) throws -> [(name: String, blob: URL, size: Int64, mtime: Date)] {
        try names.enumerated().map { i, name in
            let blob = dir.appendingPathComponent("blob-\(i)")
            let attrs = try FileManager.default.attributesOfItem(atPath: blob.path)
            return (name, blob, (attrs[.size] as? NSNumber)?.int64Value ?? 0, attrs[.modificationDate] as? Date ?? Date())
        }
    }
}
