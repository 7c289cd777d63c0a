import Foundation
import Testing

/// The release as users install it, built by `scripts/package.sh` (`scripts/test.sh` runs it
/// before the tests): a binary that runs with the Swift toolchain out of sight, its man page
/// and completions, and a .deb that names its run-time dependencies.
@Suite(.enabled(if: Release.available, "no release built (scripts/package.sh); scripts/test.sh builds one"), .timeLimit(.minutes(5)))
struct PackagingTests {
    /// The binary the .deb holds (not the staged one), extracted to a folder of its own.
    func packagedBinary(in root: URL) throws -> String {
        let version = (try? Release.version()) ?? "?"
        let deb = try #require(Release.deb, "no .deb of version \(version) in dist/")
        #expect(try run(["dpkg-deb", "-x", deb, root.appendingPathComponent("pkg").path]).status == 0)
        return root.appendingPathComponent("pkg/usr/bin/synapsefs").path
    }

    @Test(.enabled(if: getuid() == 0, "a mount namespace and a tmpfs over the toolchain need root (CI runs as root)"))
    func theReleaseBinaryNeedsNoSwiftToolchain() throws {
        let root = try temporaryDirectory("release")
        defer { try? FileManager.default.removeItem(at: root) }
        let binary = try packagedBinary(in: root)
        let ldd = try run(["ldd", binary])
        #expect(ldd.status == 0)
        #expect(!ldd.stdout.contains("libswift") && !ldd.stdout.contains(Release.toolchain), "\(ldd.stdout)")
        #expect(ldd.stdout.contains("libfuse3") && ldd.stdout.contains("libcurl"), "\(ldd.stdout)")

        // In a mount namespace of its own, the toolchain hidden under an empty tmpfs and the
        // environment emptied: the binary prints its version, mounts the built-in emulator and
        // unmounts it.
        let mnt = root.appendingPathComponent("mnt").path
        try FileManager.default.createDirectory(atPath: mnt, withIntermediateDirectories: true)
        let script = """
        set -e
        mount -t tmpfs none '\(Release.toolchain)'
        test ! -e '\(Release.toolchain)/usr/bin/swift'
        '\(binary)' --version
        '\(binary)' mount '\(mnt)' --cache-dir '\(root.path)/cache'
        ls '\(mnt)/tasks/by-name' | wc -l
        cat '\(mnt)/tasks/by-name/Seeded task 1: churn by region/status'
        '\(binary)' unmount '\(mnt)'
        """
        let result = try run(["unshare", "--mount", "--propagation", "private", "env", "-i", "PATH=/usr/bin:/bin:/usr/sbin:/sbin",
                              "HOME=\(root.path)", "LD_LIBRARY_PATH=", "sh", "-c", script], timeout: 120)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first.map { !$0.isEmpty && $0.first!.isNumber } == true, "\(lines)")
        #expect(lines.contains("5") && lines.contains("completed"), "\(lines)")
    }

    @Test func theManPageAndCompletionsComeFromTheParser() throws {
        let man = try String(contentsOfFile: Release.stage + "/man/synapsefs.1", encoding: .utf8)
        #expect(man.contains(".TH SYNAPSEFS 1") || man.contains(".Dt SYNAPSEFS 1"), "\(man.prefix(200))")
        for subcommand in ["mount", "unmount", "status", "send", "wait", "new"] { #expect(man.contains(subcommand)) }
        for shell in ["synapsefs.bash", "_synapsefs", "synapsefs.fish"] {
            let script = try String(contentsOfFile: Release.stage + "/completions/" + shell, encoding: .utf8)
            #expect(script.contains("synapsefs") && script.contains("cache-size"), "\(shell)")
        }
    }

    @Test func theDebNamesItsRunTimeDependencies() throws {
        let deb = try #require(Release.deb)
        let depends = try run(["dpkg-deb", "-f", deb, "Depends"]).stdout
        for package in ["fuse3", "libfuse3-3", "libcurl4"] { #expect(depends.contains(package), "\(depends)") }
        #expect(!depends.contains("swift"))
        let contents = try run(["dpkg-deb", "-c", deb]).stdout
        for path in ["./usr/bin/synapsefs", "./sbin/mount.fuse.synapsefs -> /usr/bin/synapsefs", "./usr/share/man/man1/synapsefs.1.gz",
                     "./usr/share/bash-completion/completions/synapsefs", "./usr/share/doc/synapsefs/synapsefs@.service"] {
            #expect(contents.contains(path), "\(path) missing")
        }
    }
}

/// Where `scripts/package.sh` leaves the release.
enum Release {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let stage = repository + "/dist/stage"
    static let binary = stage + "/bin/synapsefs"
    /// The .deb of the staged binary's version (an older one may still lie in dist/).
    static var deb: String? {
        guard let version = try? version() else { return nil }
        return ((try? FileManager.default.contentsOfDirectory(atPath: repository + "/dist")) ?? [])
            .first { $0.hasPrefix("synapsefs_\(version)_") && $0.hasSuffix(".deb") }.map { repository + "/dist/" + $0 }
    }

    static func version() throws -> String {
        try run([binary, "--version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
    /// The toolchain's root (`/opt/swift` here): where `swift` lives, two folders up.
    static let toolchain: String = {
        let swift = (try? run(["sh", "-c", "readlink -f \"$(command -v swift)\""]))?.stdout.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let root = URL(fileURLWithPath: swift).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        return swift.isEmpty || root == "/" ? "/opt/swift" : root
    }()
    /// Built, or required (CI builds it first and must not skip).
    static let available = MountSupport.isCI || FileManager.default.isExecutableFile(atPath: binary)
}
