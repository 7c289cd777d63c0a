// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "synapsefs",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "synapsefs", targets: ["synapsefs"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    ],
    targets: [
        // C libraries, imported through pkg-config.
        .systemLibrary(name: "CFuse", pkgConfig: "fuse3", providers: [.apt(["libfuse3-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // Real C functions for libfuse entry points that are macros or versioned symbols.
        .target(name: "FuseShim", dependencies: ["CFuse"]),

        // The filesystem logic: no C import, tested without a kernel.
        .target(name: "SynapseCore", dependencies: [.product(name: "Logging", package: "swift-log")]),
        // HTTP on libcurl for every backend: the transport, SSE and JSON-lines readers, route
        // fallbacks, session cookies and bearer tokens renewed by login.
        .target(name: "SynapseHTTP", dependencies: ["SynapseCore", "CCurl"]),
        // The InfiniSynapse backend: its API's words, decoded and mapped onto the core's.
        .target(name: "InfiniSynapse", dependencies: [
            "SynapseCore", "SynapseHTTP", .product(name: "Logging", package: "swift-log"),
        ]),
        // The Sage backend (conversations, agents' workspaces), step by step: reading first.
        .target(name: "Sage", dependencies: [
            "SynapseCore", "SynapseHTTP", .product(name: "Logging", package: "swift-log"),
        ]),
        // The thin libfuse3 low-level adapter.
        .target(name: "SynapseFUSE", dependencies: [
            "SynapseCore", "CFuse", "FuseShim", .product(name: "Logging", package: "swift-log"),
        ]),
        // What every backend's emulator shares: the scripted agent's script, multipart
        // uploads, deterministic bytes, running a server. With Hummingbird, as the emulators
        // alone are: the filesystem targets never link it.
        .target(name: "SynapseEmulatorKit", dependencies: [
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The InfiniSynapse server emulator, following its API document.
        .target(name: "InfiniSynapseEmulator", dependencies: [
            "SynapseEmulatorKit",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The Sage server emulator, following its API document (002).
        .target(name: "SageEmulator", dependencies: [
            "SynapseEmulatorKit",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The Asyncat backend (conversations with server-chosen ids, runs held on their streams).
        .target(name: "Asyncat", dependencies: [
            "SynapseCore", "SynapseHTTP",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The Asyncat server emulator, following its API document (004).
        .target(name: "AsyncatEmulator", dependencies: [
            "SynapseEmulatorKit",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The Synapse backend (agents, and chat sessions this mount makes, recorded in its state).
        .target(name: "SynapseAI", dependencies: [
            "SynapseCore", "SynapseHTTP",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The Synapse server emulator (agents, chat, orchestrations that pause), following its API document (003).
        .target(name: "SynapseAIEmulator", dependencies: [
            "SynapseEmulatorKit",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "synapsefs", dependencies: [
            "SynapseCore", "InfiniSynapse", "SynapseFUSE", "InfiniSynapseEmulator", "Sage", "SageEmulator", "Asyncat", "AsyncatEmulator",
            "SynapseAI", "SynapseAIEmulator", "SynapseEmulatorKit",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Fixtures are read where they lie (by #filePath), not bundled.
        .testTarget(name: "SynapseCoreTests", dependencies: ["SynapseCore"], exclude: ["Fixtures"]),
        .testTarget(name: "SynapseHTTPTests", dependencies: [
            "SynapseHTTP", "SynapseCore", "SynapseEmulatorKit", .product(name: "Hummingbird", package: "hummingbird"),
        ]),
        .testTarget(name: "InfiniSynapseTests", dependencies: ["InfiniSynapse", "SynapseHTTP", "InfiniSynapseEmulator", "SynapseEmulatorKit", "SynapseCore"]),
        .testTarget(name: "SageTests", dependencies: [
            "Sage", "SageEmulator", "SynapseEmulatorKit", "SynapseHTTP", "SynapseCore", .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "AsyncatTests", dependencies: [
            "Asyncat", "AsyncatEmulator", "SynapseHTTP", "SynapseCore", .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "SynapseAIEmulatorTests", dependencies: [
            "SynapseAIEmulator", "SynapseAI", "SynapseHTTP", "SynapseCore", .product(name: "Logging", package: "swift-log"),
        ]),
        // What every backend must do, run against each backend's emulator.
        .testTarget(name: "BackendContractTests", dependencies: [
            "SynapseCore", "SynapseHTTP", "InfiniSynapse", "InfiniSynapseEmulator", "Sage", "SageEmulator", "SynapseEmulatorKit",
            "Asyncat", "AsyncatEmulator", "SynapseAI", "SynapseAIEmulator", .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "MountTests", dependencies: ["synapsefs"]),
    ]
)
