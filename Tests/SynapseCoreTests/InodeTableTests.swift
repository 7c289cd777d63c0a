import Testing
@testable import SynapseCore

@Suite struct InodeTableTests {
    @Test func sameKeyGetsSameInodeAndLookupsAreCounted() {
        let table = InodeTable()
        let a = table.lookup(.task("t1"))
        let b = table.lookup(.task("t1"))
        #expect(a == b)
        #expect(a != InodeTable.rootInode)
        #expect(table.lookupCount(of: a) == 2)
        #expect(table.inode(for: .task("t1")) == a)
        #expect(table.lookupCount(of: a) == 2)
    }

    @Test func forgetToZeroDropsTheInodeAndNumbersAreNeverReused() {
        let table = InodeTable()
        let first = table.lookup(.task("t1"))
        table.forget(first, count: 1)
        #expect(table.key(for: first) == nil)
        let second = table.lookup(.task("t1"))
        #expect(second != first)
        #expect(table.key(for: second) == .task("t1"))
    }

    @Test func partialForgetKeepsTheInode() {
        let table = InodeTable()
        let ino = table.lookup(.tasks)
        _ = table.lookup(.tasks)
        _ = table.lookup(.tasks)
        table.forget(ino, count: 2)
        #expect(table.lookupCount(of: ino) == 1)
        #expect(table.key(for: ino) == .tasks)
    }

    @Test func rootIsNeverForgotten() {
        let table = InodeTable()
        table.forget(InodeTable.rootInode, count: 100)
        #expect(table.key(for: InodeTable.rootInode) == .root)
    }
}
