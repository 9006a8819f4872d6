// swift-tools-version: 6.0
import PackageDescription

// Layers (arrows point down only): ringside -> TUI, Console, BenchKit, Server -> Engine -> Jinja,
// Profiler, Kernels. The executable only parses arguments. See docs/ARCHITECTURE.md.
let package = Package(
    name: "Ringside",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "ringside", targets: ["ringside"]),
        .library(name: "Engine", targets: ["Engine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CNcursesw", path: "Sources/CNcursesw", pkgConfig: "ncursesw",
            providers: [.apt(["libncurses-dev"]), .brew(["ncurses"])]),
        // SIMD inner loops (quantized dot products, attention, the worker pool). -O3 in every
        // configuration: a debug build of these loops would make the engine unusably slow.
        // OpenBLAS is opened at run time (Kernels/blas.c), after OPENBLAS_CORETYPE is set from
        // the CPU's features: linked, it would pick its kernels before main.
        .target(
            name: "Kernels",
            cSettings: [.unsafeFlags(["-O3", "-ffp-contract=off"])],
            linkerSettings: [.linkedLibrary("dl")]),
        // Events, counters and timelines; imports nothing of ours, so the cockpit, the server
        // and `bench` all read the same snapshots.
        .target(
            name: "Profiler",
            swiftSettings: [.swiftLanguageMode(.v6)]),
        // Hugging Face chat templates: a Jinja interpreter that imports only the C library (not
        // even Foundation).
        .target(
            name: "Jinja",
            swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(
            name: "Engine", dependencies: ["Kernels", "Profiler", "Jinja"],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        // Other servers over the network (AsyncHTTPClient): /metrics parsed and named by server
        // kind, Ringside's /v1/events stream, streamed chat completions.
        .target(
            name: "Remote",
            dependencies: ["Engine", "Profiler", .product(name: "AsyncHTTPClient", package: "async-http-client")],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(
            name: "TUI", dependencies: ["Engine", "Profiler", "CNcursesw"],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        // Load shapes, the runner and its targets, the HTTP/SSE client and the reports of
        // `ringside bench` and `ringside engine-bench`.
        .target(
            name: "BenchKit", dependencies: ["Engine", "Profiler", "Remote"],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        // The cockpit over a server: `RemoteSource` (a `CockpitSource` fed by `Remote`).
        .target(
            name: "Attach", dependencies: ["TUI", "Remote", "Engine", "Profiler"],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        // What the commands write to a plain terminal: generate's text and JSON report, progress.
        .target(
            name: "Console", dependencies: ["Engine"],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        // `ringside serve`: the OpenAI-compatible HTTP API and Prometheus metrics.
        .target(
            name: "Server",
            dependencies: [
                "Engine", "Jinja", "Profiler",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        .executableTarget(
            name: "ringside",
            dependencies: [
                "Engine", "TUI", "Profiler", "BenchKit", "Console", "Server", "Remote", "Attach",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        .testTarget(
            name: "ProfilerTests", dependencies: ["Profiler"],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        .testTarget(
            name: "JinjaTests", dependencies: ["Jinja"],
            resources: [.copy("Fixtures")],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        .testTarget(
            name: "EngineTests", dependencies: ["Engine", "Jinja", "Kernels", "Profiler"],
            resources: [.copy("Fixtures")],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        .testTarget(
            name: "BenchKitTests", dependencies: ["BenchKit", "Engine", "Kernels", "Profiler", "Remote"],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        // Runs the built `ringside` binary as a child process: commands, exit codes, JSON keys.
        .testTarget(
            name: "CLITests",
            swiftSettings: [.swiftLanguageMode(.v6)]),
        .testTarget(
            name: "ConsoleTests", dependencies: ["Console", "Engine"],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        .testTarget(
            name: "ServerTests", dependencies: ["Server", "Engine"],
            // The Python checks run against a real `ringside serve`; they are not bundled.
            exclude: ["Scripts"],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        .testTarget(
            name: "RemoteTests", dependencies: ["Remote", "Profiler", "Engine"],
            resources: [.copy("Fixtures")],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        // `RemoteSource`, `top` and `bench --url` against a real `ringside serve` on loopback.
        .testTarget(
            name: "AttachTests", dependencies: ["Attach", "TUI", "Remote", "Engine", "Profiler"],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        .testTarget(
            name: "TUITests", dependencies: ["TUI", "Engine", "Profiler"],
            // Read through #filePath, not bundled: snapshots are rewritten in place when recorded.
            exclude: ["Snapshots", "Fixtures"],
            swiftSettings: [.swiftLanguageMode(.v6)]),
    ]
)
