import Foundation
import SynapseEmulatorKit

/// Writes the seeded tasks a configuration asks for, once per data directory and seed.
enum Seeder {
    private struct Marker: Codable, Equatable {
        var tasks: Int
        var files: [String]
        var hostile: Bool
        var smallFiles: Int?
    }

    static func seed(_ store: TaskStore, configuration: EmulatorConfiguration) throws {
        let marker = Marker(tasks: configuration.seedTasks,
                            files: configuration.seedFiles.map { "\($0.path):\($0.size)" },
                            hostile: configuration.seedHostileNames, smallFiles: configuration.seedSmallFiles)
        let markerURL = store.root.appendingPathComponent("seed.json")
        if let data = try? Data(contentsOf: markerURL), (try? JSONDecoder().decode(Marker.self, from: data)) == marker { return }

        if configuration.seedTasks > 0 {
            for index in 1...configuration.seedTasks { try store.save(SeedContent.task(index: index)) }
            // The first task's workspace is written now: it holds the large seed files.
            let first = store.workspaceDirectory(of: SeedContent.taskId(1))
            try SeedContent.writeWorkspace(index: 1, to: first)
            for file in configuration.seedFiles {
                let parts = file.path.split(separator: "/").map(String.init)
                guard !parts.isEmpty, !parts.contains(".."), !parts.contains(".") else {
                    throw EmulatorError.invalidSeed("seed file path \(file.path) must be relative, without . or ..")
                }
                let url = parts.reduce(first) { $0.appendingPathComponent($1) }
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                let existing = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.int64Value
                if existing != file.size { try DeterministicBytes.write(size: file.size, seed: file.path, to: url) }
            }
        }
        if configuration.seedSmallFiles > 0 {
            guard configuration.seedTasks > 0 else { throw EmulatorError.invalidSeed("small files need a seeded task") }
            try SmallFiles.write(count: configuration.seedSmallFiles, to: store.workspaceDirectory(of: SeedContent.taskId(1)).appendingPathComponent("small"))
        }
        if configuration.seedHostileNames {
            try store.save(HostileTask.task())
            try HostileNames.write(to: store.workspaceDirectory(of: HostileTask.taskId))
        }
        try JSONEncoder().encode(marker).write(to: markerURL, options: .atomic)
    }
}

public enum EmulatorError: Error, CustomStringConvertible {
    case invalidSeed(String)

    public var description: String {
        switch self {
        case .invalidSeed(let m): "invalid seed: \(m)"
        }
    }
}
