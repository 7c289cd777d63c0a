import Testing
@testable import SynapseCore

@Suite struct SafeNameTests {
    @Test(arguments: [
        ("../escape.txt", ["escape.txt"]),
        ("/abs.txt", ["abs.txt"]),
        ("a/../../b", ["a", "b"]),
        ("./x/./y", ["x", "y"]),
        ("a//b/", ["a", "b"]),
        ("..", []),
    ])
    func pathsCannotClimbOut(path: String, expected: [String]) {
        #expect(SafeName.components(ofPath: path) == expected)
    }

    @Test func controlCharactersAndNulAreEscaped() {
        #expect(SafeName.component("bell\u{07}.txt") == "bell%07.txt")
        #expect(SafeName.component("nul\u{0}x") == "nul%00x")
        #expect(SafeName.component("tab\tnew\nline") == "tab%09new%0Aline")
        #expect(SafeName.component("del\u{7F}") == "del%7F")
    }

    @Test func overlongNamesFitAndStayDistinct() {
        let a = SafeName.component(String(repeating: "L", count: 296) + ".txt")
        let b = SafeName.component(String(repeating: "L", count: 297) + ".txt")
        #expect(a.utf8.count <= 255)
        #expect(b.utf8.count <= 255)
        #expect(a != b)
        let multibyte = SafeName.component(String(repeating: "é", count: 200))
        #expect(multibyte.utf8.count <= 255)
        #expect(multibyte.hasPrefix("éé"))
    }

    @Test func uniqueAddsASuffixBeforeTheExtension() {
        #expect(SafeName.unique("a.txt", in: []) == "a.txt")
        #expect(SafeName.unique("a.txt", in: ["a.txt"]) == "a~2.txt")
        #expect(SafeName.unique("a.txt", in: ["a.txt", "a~2.txt"]) == "a~3.txt")
        #expect(SafeName.unique(".hidden", in: [".hidden"]) == ".hidden~2")
    }

    @Test func dotNamesAreNeverReturned() {
        #expect(SafeName.component(".") != ".")
        #expect(SafeName.component("..") != "..")
        #expect(SafeName.component("") != "")
    }

    /// Whatever the name, a collision suffix keeps it within NAME_MAX.
    @Test(arguments: [
        "a." + String(repeating: "x", count: 253),       // 255 bytes, almost all extension
        String(repeating: "é", count: 127) + ".txt",     // multi-byte, at the limit
        String(repeating: "y", count: 255),
        "z." + String(repeating: "界", count: 84),        // 254 bytes of extension
    ])
    func collisionSuffixesStayWithin255Bytes(name: String) {
        let component = SafeName.component(name)
        var taken: Set<String> = [component]
        for _ in 0..<12 {
            let next = SafeName.unique(component, in: taken)
            #expect(next.utf8.count <= SafeName.maxBytes, "\(next.utf8.count) bytes")
            #expect(!taken.contains(next))
            taken.insert(next)
        }
    }
}

extension SafeNameTests {
    /// Many tasks with one name (a hostile list) get distinct names in linear time; the
    /// suite's time limit would stop a quadratic search long before 50,000.
    @Test func manyIdenticalNamesStayDistinct() {
        var names = UniqueNames(reserved: ["x~2"])
        let claimed = (0..<50_000).map { _ in names.claim("x") }
        #expect(Set(claimed).count == 50_000 && claimed[0] == "x" && claimed[1] == "x~3" && !claimed.contains("x~2"))
    }
}
