import Foundation

/// Reproducible file content: a pseudo-random 1 MiB block, stamped with the block number
/// so no two blocks are equal. Fast enough to write gigabytes in seconds.
public enum DeterministicBytes {
    public static let blockSize = 1 << 20

    public static func baseBlock(seed: String) -> [UInt8] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for b in seed.utf8 { state = (state ^ UInt64(b)) &* 0x100_0000_01b3 }
        var block = [UInt8](repeating: 0, count: blockSize)
        block.withUnsafeMutableBytes { raw in
            let words = raw.bindMemory(to: UInt64.self)
            for i in 0..<words.count {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                words[i] = state
            }
        }
        return block
    }

    /// Writes `size` bytes of the content named by `seed` to `url`, a block at a time.
    public static func write(size: Int64, seed: String, to url: URL) throws {
        var block = baseBlock(seed: seed)
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else { throw CocoaError(.fileWriteUnknown) }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        var written: Int64 = 0
        var index: UInt64 = 0
        while written < size {
            withUnsafeBytes(of: index.littleEndian) { stamp in
                for i in 0..<8 { block[i] = stamp[i] }
            }
            let count = Int(min(Int64(blockSize), size - written))
            try handle.write(contentsOf: block[0..<count])
            written += Int64(count)
            index += 1
        }
    }
}
