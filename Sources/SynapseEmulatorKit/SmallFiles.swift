import Foundation

/// A tree of many small text files, as agents' workspaces grow (`--seed-small-files N`): file
/// `i` is `gNN/sN/file-NNNNN.txt` (50 files a folder, 10 folders a group), 1–64 KiB of
/// deterministic text; every 10th holds the line `needle NNNNN`, for grep.
public enum SmallFiles {
    public static func path(_ index: Int) -> String {
        String(format: "g%02d/s%d/file-%05d.txt", index / 500, (index / 50) % 10, index)
    }

    public static func size(_ index: Int) -> Int { 1024 + (index &* 7919) % (63 * 1024) }

    public static func content(_ index: Int) -> Data {
        let size = size(index)
        var text = index % 10 == 0 ? "needle \(String(format: "%05d", index))\n" : ""
        var word = index
        while text.utf8.count < size {
            word = word &* 1_103_515_245 &+ 12345
            text += Directives.vocabularyWord(abs(word) % 1000) + ((word >> 8) % 12 == 0 ? "\n" : " ")
        }
        return Data(text.utf8.prefix(size))
    }

    public static func write(count: Int, to root: URL) throws {
        for index in 0..<count {
            let url = root.appendingPathComponent(path(index))
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try content(index).write(to: url)
        }
    }
}
