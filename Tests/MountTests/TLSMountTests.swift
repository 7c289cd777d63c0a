import Foundation
import Testing

/// A port nothing listens on now (the kernel's pick for a socket bound to port 0).
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw HarnessError("socket: \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw HarnessError("bind: \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// The emulator behind TLS (socat terminating it with a certificate from a throwaway CA).
final class TLSFront {
    let process: ChildProcess
    let url: String
    let caFile: String

    init(in directory: URL, forwardingTo port: Int) throws {
        let dir = directory.path
        caFile = "\(dir)/ca.pem"
        let script = """
        set -e
        cd '\(dir)'
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=synapsefs test CA' -keyout ca.key -out ca.pem 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj '/CN=127.0.0.1' -keyout server.key -out server.csr 2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n' > ext.cnf
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf -out server.pem 2>/dev/null
        """
        let made = try run(["sh", "-c", script])
        guard made.status == 0 else { throw HarnessError("making certificates: \(made.stderr)") }
        let listen = try freeLoopbackPort()
        process = try ChildProcess(["socat", "OPENSSL-LISTEN:\(listen),bind=127.0.0.1,reuseaddr,fork,cert=\(dir)/server.pem,key=\(dir)/server.key,verify=0",
                                    "TCP:127.0.0.1:\(port)"], output: directory.appendingPathComponent("socat.log"))
        url = "https://127.0.0.1:\(listen)"
        let caFile = self.caFile
        let url = self.url
        guard waitUntil(10, { (try? run(["curl", "-sf", "--cacert", caFile, "-o", "/dev/null", "\(url)/api/ai/ping"]))?.status != 7 }) else {
            process.stop()
            throw HarnessError("socat did not start")
        }
    }

    deinit { process.stop() }
}

/// HTTPS servers: trusted through --ca-file, refused with a clear message when not.
extension MountTests { @Suite struct TLS {
    @Test func anHTTPSServerIsMountedWithItsCAAndRefusedWithoutIt() throws {
        try withScene(["--seed-tasks", "1", "--seed-file", "tls.bin:3M"]) { scene in
            let front = try TLSFront(in: scene.root, forwardingTo: scene.emulator.port)
            // Not trusted (the system's CAs only): the mount says why and does not come up.
            let refused = try run([synapsefsBinary, "mount", scene.mountpoint.path, "--server", front.url, "--cache-dir", scene.cache.path],
                                  environment: ["INFINISYNAPSE_API_KEY": EmulatorProcess.apiKey, "SSL_CERT_FILE": "", "CURL_CA_BUNDLE": ""],
                                  timeout: 30)
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("not trusted") && refused.stderr.contains("--ca-file"), "\(refused.stderr)")
            #expect(!isMounted(scene.mountpoint.path))
            // Trusted through --ca-file: every byte arrives over TLS.
            let mount = try MountProcess(server: front.url, mountpoint: scene.mountpoint, cacheDirectory: scene.cache,
                                         extraArguments: ["--ca-file", front.caFile])
            defer { mount.unmount() }
            let file = mount.path("tasks/\(seededTask)/workspace/tls.bin")
            #expect(try sha256(file) == (try sha256(scene.emulator.workspaceFile(seededTask, "tls.bin"))))
            #expect(try run(["sh", "-c", "echo 'Over TLS [emu:words 3]' > '\(mount.path("tasks/\(seededTask)/prompt.txt"))'"]).status == 0)
        }
    }
}}
