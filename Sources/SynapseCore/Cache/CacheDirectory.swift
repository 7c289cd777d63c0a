import Foundation

/// The private (0700) directory holding the file cache, saved listings and the daemon log.
/// Every path inside it is derived from hashes, never from server names.
public struct CacheDirectory: Sendable {
    public let root: URL

    /// What a cache folder holds; a folder with anything else is not given to the cache (a
    /// mistyped `--cache-dir /tmp` must not turn /tmp private).
    static let ownNames: Set<String> = ["objects", "listings", "state", "lock", "emulator-data"]

    public init(root: URL) throws(FSError) {
        self.root = root
        let present = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        if let stranger = present.first(where: { !Self.ownNames.contains($0) && !$0.hasPrefix("synapsefs.log") }) {
            throw FSError(errno: EEXIST, "\(root.path) is not a synapsefs cache folder (it holds \(stranger.debugDescription)); give synapsefs an empty folder of its own")
        }
        for dir in [root, objects, listings, state] {
            do {
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
                try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: dir.path)
            } catch {
                throw FSError.disk("cannot create cache directory \(dir.path): \(error.localizedDescription)", errno: EACCES)
            }
        }
    }

    public var objects: URL { root.appendingPathComponent("objects", isDirectory: true) }
    public var listings: URL { root.appendingPathComponent("listings", isDirectory: true) }
    public var logFile: URL { root.appendingPathComponent("synapsefs.log") }
    /// What this mount made that the server does not hold: drafts, last prompts, scratch files, spool.
    public var state: URL { root.appendingPathComponent("state", isDirectory: true) }

    /// A stable 128-bit name for any tuple of strings (two FNV-1a passes; no crypto needed:
    /// records carry their identity and are checked on load).
    public static func key(_ parts: String...) -> String {
        let joined = parts.joined(separator: "\u{0}").utf8
        return StableHash.hex(StableHash.fnv1a(joined)) + StableHash.hex(StableHash.fnv1a(joined, continuing: 0x8422_2325_cbf2_9ce4))
    }
}

/// Writes `data` to `url` so that readers see the old file or the new one, never a mix.
public func writeAtomically(_ data: Data, to url: URL) throws {
    let tmp = url.appendingPathExtension("tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    try data.write(to: tmp)
    if rename(tmp.path, url.path) != 0 {
        let code = errno
        unlink(tmp.path)
        throw FSError.disk("rename \(tmp.lastPathComponent) failed: \(String(cString: strerror(code)))", errno: code)
    }
}
