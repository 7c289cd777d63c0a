import Testing
@testable import SynapseCore

@Suite struct WorkspaceTreeTests {
    @Test func subfoldersBecomeDirectories() {
        let tree = WorkspaceTree(entries: [WorkspaceEntry(path: "report.md", size: 10),
                                           WorkspaceEntry(path: "data/summary.csv", size: 5)])
        #expect(tree.children(of: "")?.map(\.name) == ["data", "report.md"])
        #expect(tree.isDirectory("data"))
        #expect(tree.file(at: "data/summary.csv")?.remotePath == "data/summary.csv")
        #expect(tree.file(at: "data/summary.csv")?.size == 5)
    }

    @Test func hostileNamesAreSafeUniqueAndKeepTheirRemotePath() {
        let hostile = ["../escape.txt", "/abs.txt", "a/../../b", "bell\u{07}name.txt",
                       String(repeating: "L", count: 296) + ".txt", "collide.txt", "./collide.txt"]
        let tree = WorkspaceTree(entries: hostile.map { WorkspaceEntry(path: $0) })
        var remotePaths: [String] = []
        func walk(_ dir: String) {
            for (name, node) in tree.children(of: dir) ?? [] {
                #expect(!name.isEmpty && name != "." && name != ".." && !name.contains("/"))
                #expect(name.utf8.count <= 255)
                #expect(!name.unicodeScalars.contains { $0.value < 0x20 })
                switch node {
                case .file(let f): remotePaths.append(f.remotePath)
                case .directory(let path): walk(path)
                }
            }
        }
        walk("")
        #expect(remotePaths.sorted() == hostile.sorted())
        let top = Set(tree.children(of: "")!.map(\.name))
        #expect(top.contains("collide.txt") && top.contains("collide~2.txt"))
    }

    @Test func aFileAndAFolderWithOneNameBothSurvive() {
        let tree = WorkspaceTree(entries: [WorkspaceEntry(path: "out"), WorkspaceEntry(path: "out/inner.txt")])
        let names = tree.children(of: "")!.map(\.name)
        #expect(names.count == 2)
        #expect(tree.file(at: "out")?.remotePath == "out")
        #expect(tree.children(of: "")!.contains { if case .directory = $0.node { true } else { false } })
    }
}
