import Foundation

/// Turns untrusted names from the server into names that are safe as one path component.
public enum SafeName {
    /// Linux NAME_MAX, in bytes.
    public static let maxBytes = 255

    /// Splits a server path into safe components: empty, `.` and `..` components are dropped,
    /// so no result can climb out of the folder it is placed in.
    public static func components(ofPath path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true)
            .map(String.init)
            .filter { $0 != "." && $0 != ".." }
            .map(component)
    }

    /// One safe component: control characters and NUL become `%XX`, over-long names are cut
    /// on a character boundary and keep a short hash of the whole name so they stay distinct.
    public static func component(_ raw: String) -> String {
        var name = ""
        for scalar in raw.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F || scalar == "/" {
                name += String(format: "%%%02X", scalar.value)
            } else {
                name.unicodeScalars.append(scalar)
            }
        }
        if name.isEmpty || name == "." || name == ".." { name = "_" + name }
        guard name.utf8.count > maxBytes else { return name }
        let suffix = "~" + shortHash(raw)
        return truncated(name, toBytes: maxBytes - suffix.utf8.count) + suffix
    }

    /// Makes `name` unique against `taken` by adding `~2`, `~3`, … before the extension.
    /// (`Set` and `Dictionary.Keys` answer `contains` in constant time.)
    public static func unique(_ name: String, in taken: some Collection<String>) -> String {
        guard !taken.contains(name) else { return suffixed(name, avoiding: taken) }
        return name
    }

    private static func suffixed(_ name: String, avoiding taken: some Collection<String>, from first: Int = 2) -> String {
        suffixedWithNumber(name, avoiding: taken, from: first).name
    }

    fileprivate static func suffixedWithNumber(_ name: String, avoiding taken: some Collection<String>, from first: Int) -> (name: String, n: Int) {
        // An "extension" too long to keep beside a suffix is no extension: the suffix goes at the end.
        let dot = name.lastIndex(of: ".").flatMap { $0 == name.startIndex || name[$0...].utf8.count > 32 ? nil : $0 }
        let stem = dot.map { String(name[..<$0]) } ?? name
        let ext = dot.map { String(name[$0...]) } ?? ""
        var n = first
        while true {
            let suffix = "~\(n)" + ext
            let candidate = truncated(stem, toBytes: maxBytes - suffix.utf8.count) + suffix
            if !taken.contains(candidate) { return (candidate, n) }
            n += 1
        }
    }

    static func truncated(_ s: String, toBytes limit: Int) -> String {
        var out = ""
        var used = 0
        for ch in s {
            let n = ch.utf8.count
            if used + n > limit { break }
            out.append(ch)
            used += n
        }
        return out
    }

    /// 12 hex digits of the name's stable hash.
    static func shortHash(_ s: String) -> String {
        String(String(StableHash.fnv1a(s.utf8), radix: 16).suffix(12))
    }
}

/// Hands out unique names one at a time, remembering per name the next suffix to try: many
/// tasks with one name (a hostile list of 100,000) cost linear time, not quadratic.
public struct UniqueNames: Sendable {
    public private(set) var taken: Set<String>
    private var nextSuffix: [String: Int] = [:]

    public init(reserved: Set<String> = []) { taken = reserved }

    public mutating func claim(_ name: String) -> String {
        guard taken.contains(name) else {
            taken.insert(name)
            return name
        }
        let (unique, n) = SafeName.suffixedWithNumber(name, avoiding: taken, from: nextSuffix[name] ?? 2)
        nextSuffix[name] = n + 1
        taken.insert(unique)
        return unique
    }
}
