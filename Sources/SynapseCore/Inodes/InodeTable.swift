import Synchronization

/// Inode numbers for node keys, with the kernel's lookup counts. Numbers are never reused:
/// an inode the kernel still knows cannot come to mean something else.
public final class InodeTable: Sendable {
    public static let rootInode: UInt64 = 1

    private struct Record {
        var key: NodeKey
        var lookups: UInt64
    }

    private struct State {
        var records: [UInt64: Record] = [InodeTable.rootInode: Record(key: .root, lookups: 1)]
        var inodes: [NodeKey: UInt64] = [.root: InodeTable.rootInode]
        var next: UInt64 = InodeTable.rootInode + 1
    }

    private let state = Mutex(State())

    public init() {}

    /// The inode for `key`, created if needed, without counting a kernel reference.
    public func inode(for key: NodeKey) -> UInt64 {
        state.withLock { Self.inode(for: key, in: &$0) }
    }

    /// The inode for `key`, counting one kernel reference (a lookup, create or readdirplus entry).
    public func lookup(_ key: NodeKey) -> UInt64 {
        state.withLock { s in
            let ino = Self.inode(for: key, in: &s)
            s.records[ino]!.lookups += 1
            return ino
        }
    }

    /// The kernel dropped `count` references; an inode at zero is forgotten (the root never is).
    public func forget(_ ino: UInt64, count: UInt64) {
        state.withLock { s in
            guard ino != Self.rootInode, var record = s.records[ino] else { return }
            record.lookups -= min(count, record.lookups)
            if record.lookups == 0 {
                s.records[ino] = nil
                if s.inodes[record.key] == ino { s.inodes[record.key] = nil }
            } else {
                s.records[ino] = record
            }
        }
    }

    /// After a rename the kernel keeps the source inode under the target name: the inode now
    /// stands for `target`; an inode that stood for `target` before is left to be forgotten.
    public func rename(_ source: NodeKey, to target: NodeKey) {
        state.withLock { s in
            guard let ino = s.inodes.removeValue(forKey: source) else { return }
            s.inodes[target] = ino
            s.records[ino]?.key = target
        }
    }

    public func key(for ino: UInt64) -> NodeKey? {
        state.withLock { $0.records[ino]?.key }
    }

    public func lookupCount(of ino: UInt64) -> UInt64 {
        state.withLock { $0.records[ino]?.lookups ?? 0 }
    }

    /// Inodes currently known (for tests and status).
    public var count: Int { state.withLock { $0.records.count } }

    private static func inode(for key: NodeKey, in s: inout State) -> UInt64 {
        if let ino = s.inodes[key] { return ino }
        let ino = s.next
        s.next += 1
        s.inodes[key] = ino
        s.records[ino] = Record(key: key, lookups: 0)
        return ino
    }
}
