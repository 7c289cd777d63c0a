import Foundation

/// `synapsefs emulator` in its own process on a free port, with its own data directory.
final class EmulatorProcess {
    static let apiKey = "mount-test-key"
    let process: ChildProcess
    let dataDirectory: URL
    let backend: TestBackend
    let output: URL
    private(set) var url = ""
    private(set) var port = 0

    init(_ extraArguments: [String], dataDirectory: URL, port requestedPort: Int = 0, backend: TestBackend = .infiniSynapse) throws {
        self.dataDirectory = dataDirectory
        self.backend = backend
        output = dataDirectory.deletingLastPathComponent().appendingPathComponent(dataDirectory.lastPathComponent + ".out")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        process = try ChildProcess([synapsefsBinary, "emulator", "--backend", backend.name, "--port", "\(requestedPort)", "--data-dir", dataDirectory.path,
                                    ] + backend.acceptsSecret(Self.apiKey) + extraArguments, output: output)
        let process = self.process
        let ready = waitUntil(60) {
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }) else { return !process.isRunning }
            self.url = String(line.dropFirst("listening on ".count))
            self.port = Int(self.url.split(separator: ":").last ?? "") ?? 0
            return true
        }
        guard ready, !url.isEmpty else {
            stop()
            throw HarnessError("emulator did not start: \((try? String(contentsOf: output, encoding: .utf8)) ?? "")")
        }
    }

    func workspaceFile(_ task: String, _ path: String) -> String {
        dataDirectory.appendingPathComponent(backend.storedFile(task, path)).path
    }

    func stop() { process.stop() }

    deinit { stop() }
}
