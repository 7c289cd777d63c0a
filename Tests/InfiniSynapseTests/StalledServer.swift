import Foundation

/// A loopback socket that accepts connections (through the kernel backlog) and never answers.
final class StalledServer: @unchecked Sendable {
    let fd: Int32
    let port: Int

    init() throws {
        (fd, port) = try Self.listen()
    }

    func close() { _ = Glibc.close(fd) }

    /// A port nothing listens on: bound, then released.
    static func unusedPort() throws -> Int {
        let (fd, port) = try listen()
        _ = Glibc.close(fd)
        return port
    }

    private static func listen() throws -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound, Glibc.listen(fd, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }
}
