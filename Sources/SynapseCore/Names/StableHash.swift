/// The one hash of the mount's names on disk (cache items, logs, suffixes of long names) and
/// of texts a log has shown: FNV-1a, 64 bits. Stable across runs and machines, unlike
/// `hashValue`; no crypto is needed (what it names carries its identity and is checked).
public enum StableHash {
    public static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325

    /// The hash of `bytes`, `continuing` the hash of the bytes before them.
    public static func fnv1a(_ bytes: some Sequence<UInt8>, continuing start: UInt64 = offsetBasis) -> UInt64 {
        var h = start
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        return h
    }

    /// `h` as `digits` lowercase hex digits (zero-padded, or its last digits).
    public static func hex(_ h: UInt64, digits: Int = 16) -> String {
        let text = String(h, radix: 16)
        return text.count >= digits ? String(text.suffix(digits)) : String(repeating: "0", count: digits - text.count) + text
    }
}
