import Foundation
import Synchronization

/// Fetches ahead the small files a reader walking a folder opens next. `grep -r`, `tar` and
/// `cp -r` open a folder's files one after another, in its listing order, and each open of a
/// file not cached costs a round trip to the server; on a distant server that, not bandwidth,
/// is the time. When a file is opened after an earlier one of the same folder (or is its first
/// file), the next small files are fetched side by side: at most `filesAhead` of them, each at
/// most `largestFile`, at most `bytesAhead` (and an eighth of the cache) in all, each started
/// once per walk.
final class WalkAhead: Sendable {
    static let filesAhead = 16
    static let largestFile: Int64 = 1 << 20
    static let bytesAhead: Int64 = 16 << 20
    /// Folders whose walk is remembered (the oldest are forgotten).
    static let rememberedFolders = 256

    private struct Walk {
        /// The position of the file opened last, and how far fetches were started.
        var opened: Int
        var fetchedTo: Int
        var touched: UInt64
    }

    private let cache: WorkspaceCache
    /// Transfers running in the whole mount beyond which no more are started ahead (many
    /// walkers at once must not mean 16 threads each).
    private let fetchLimit: Int
    private let walks = Mutex<(byFolder: [String: Walk], clock: UInt64)>(([:], 0))

    init(cache: WorkspaceCache, fetchLimit: Int = 64) {
        self.cache = cache
        self.fetchLimit = fetchLimit
    }

    /// The file at `path` of `tree` was opened; `identity` makes a listed file's cache identity.
    func opened(_ path: String, in tree: WorkspaceTree, scope: String, identity: (WorkspaceTree.File) -> CachedFileIdentity) {
        let (dir, name) = WorkspaceTree.split(path)
        guard let files = tree.files(in: dir), let position = files.position[name] else { return }
        let folder = scope + "\u{0}" + dir
        let range = walks.withLock { w -> Range<Int>? in
            w.clock += 1
            var walk = w.byFolder[folder]
            // A walk starting again (from the first file, or back): what it fetched may be gone.
            if position == 0 || walk.map({ position <= $0.opened }) == true { walk?.fetchedTo = 0 }
            // A walk: the folder's first file, or a file after the one opened before.
            let walking = position == 0 || walk.map { $0.opened < position } == true
            let from = max(position + 1, walk?.fetchedTo ?? 0)
            let to = min(files.ordered.count, position + 1 + Self.filesAhead)
            w.byFolder[folder] = Walk(opened: position, fetchedTo: walk?.fetchedTo ?? 0, touched: w.clock)
            if w.byFolder.count > Self.rememberedFolders, let oldest = w.byFolder.min(by: { $0.value.touched < $1.value.touched })?.key {
                w.byFolder[oldest] = nil
            }
            return walking && from < to ? from..<to : nil
        }
        guard let range else { return }
        // A small cache is not filled with guesses: an eighth of it at most.
        let budget = min(Self.bytesAhead, cache.budget.limit / 8)
        var bytes: Int64 = 0
        var next = range.lowerBound
        for file in files.ordered[range] {
            // Unsized and empty files cost no round trip worth saving; large ones are read-ahead's.
            guard let size = file.size, size > 0, size <= Self.largestFile else {
                next += 1
                continue
            }
            // Beyond the bytes or transfers allowed now: the next open goes on from here.
            guard bytes + size <= budget, cache.fetchesRunning < fetchLimit else { break }
            next += 1
            bytes += size
            cache.fetchAhead(identity(file))
        }
        walks.withLock { w in
            if var walk = w.byFolder[folder] {
                walk.fetchedTo = max(walk.fetchedTo, next)
                w.byFolder[folder] = walk
            }
        }
    }
}
