// swift-tools-version:6.0
// Lumière: a render farm that restores film (super-resolution + frame interpolation).
// Dependency direction (one way): C shims → Shared → Media / Inference → Processors → Worker / Coordinator → executables.
import PackageDescription

let optimize: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]

let package = Package(
    name: "Lumiere",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "lumiere-coordinator", targets: ["lumiere-coordinator"]),
        .executable(name: "lumiere-worker", targets: ["lumiere-worker"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // 1.16.2: LogHandler.log(event:) (the JSON log handler of --log-format json).
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // Monitoring: metrics API, Prometheus text format, a small HTTP server for /metrics and /status.json.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
    ],
    targets: [
        // C libraries: shims hold only includes and tiny macro wrappers.
        .systemLibrary(name: "CFFmpeg", path: "Sources/CFFmpeg", pkgConfig: "libavformat",
                       providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev", "libavfilter-dev", "libswscale-dev", "libswresample-dev"])]),
        .systemLibrary(name: "CZMQ", path: "Sources/CZMQ", pkgConfig: "libzmq", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),

        // Plain Swift shared by both sides: rationals, frames, processor protocols, (later) protocol and segments.
        .target(name: "Shared", swiftSettings: optimize),
        // FFmpeg: probing, decoding, pixel conversion, encoding, muxing, audio/subtitle carry-over.
        .target(name: "Media", dependencies: ["CFFmpeg", "Shared"], swiftSettings: optimize),
        // Hot loops of the inference engine (Winograd convolution, resampling), -O3 with run-time ISA dispatch.
        .target(name: "CLumiereKernels", path: "Sources/CLumiereKernels",
                cSettings: [.unsafeFlags(["-O3", "-fno-math-errno"])]),
        // Vulkan, loaded at run time with dlopen (no link-time libvulkan): the header and a function table only.
        .target(name: "CVulkan", path: "Sources/CVulkan", linkerSettings: [.linkedLibrary("dl")]),
        // GLSL compute shaders → SPIR-V embedded in the Inference module (glslangValidator at build time).
        .plugin(name: "ShaderCompiler", capability: .buildTool()),
        // Our ncnn-format inference engine (CPU) and its Vulkan compute backend (GPU/).
        .target(name: "Inference", dependencies: ["Shared", "COpenBLAS", "CLumiereKernels", "CVulkan"],
                exclude: ["GPU/Shaders"], swiftSettings: optimize, plugins: ["ShaderCompiler"]),
        // Shot detection, segment planning, seam-aware stitching, job journal and resume (plain Swift).
        .target(name: "Planning", dependencies: ["Shared"], swiftSettings: optimize),
        // Frame processors (classical and neural) behind the narrow processor protocols.
        .target(name: "Processors", dependencies: ["Shared", "Media", "Inference", "Planning"], swiftSettings: optimize),
        // The one Swift choke point for libzmq: sockets, options, CURVE/ZAP, errors as thrown TransportError.
        .target(name: "Transport", dependencies: ["CZMQ"], swiftSettings: optimize),
        .target(name: "Worker", dependencies: [
            "Shared", "Processors", "CZMQ", "Transport",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: optimize),
        // What both executables share on the command line: --version, --log-format (JSON lines), the parse-time
        // enum of swift-log's levels, --device and --list-devices. The commit for --version comes from the GitCommit build plugin, applied to the
        // two executables only (a new commit then recompiles their main.swift, not Coordinator).
        .plugin(name: "GitCommit", capability: .buildTool()),
        .target(name: "CommandLineSupport", dependencies: [
            "Processors",  // --device and --list-devices
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "Coordinator", dependencies: [
            "Shared", "CommandLineSupport", "Media", "Planning", "Processors", "Worker", "CZMQ", "Transport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "FlyingFox", package: "FlyingFox"),
        ], swiftSettings: optimize),
        .executableTarget(name: "lumiere-coordinator", dependencies: ["Coordinator", "CommandLineSupport"], plugins: ["GitCommit"]),
        // Engine vs ncnn benchmark (not a test): see BENCHMARKS.md.
        .executableTarget(name: "lumiere-engine-bench", dependencies: ["Inference"], path: "Benchmarks/EngineBenchmark",
                          swiftSettings: optimize),
        // Swarm simulator (issue 16 item 9): N simulated workers on real DEALER sockets in one process, for
        // FarmSwarmBenchmark; see BENCHMARKS.md.
        .executableTarget(name: "lumiere-swarm", dependencies: ["Worker", "Transport", "Shared"], path: "Benchmarks/Swarm",
                          swiftSettings: optimize),
        // Film-restoration oracle (issue 20): synthetic damage on real clips, our stages vs FFmpeg's filters; see
        // docs/film-restoration.md.
        .executableTarget(name: "lumiere-film-bench", dependencies: ["Processors", "Planning", "Shared", "TestSupport"],
                          path: "Benchmarks/FilmRestoreBench", swiftSettings: optimize),
        .executableTarget(name: "lumiere-worker", dependencies: [
            "Worker", "Processors", "Transport", "CommandLineSupport", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], plugins: ["GitCommit"]),

        .target(name: "TestSupport", dependencies: ["Shared"], path: "Tests/TestSupport"),
        .testTarget(name: "SharedTests", dependencies: ["Shared"]),
        .testTarget(name: "MediaTests", dependencies: ["Media", "Shared", "TestSupport"]),
        .testTarget(name: "InferenceTests", dependencies: ["Inference", "Shared", "TestSupport"]),
        // The Vulkan backend against the CPU engine, on Mesa's lavapipe in CI (skipped without Vulkan, strict in CI).
        .testTarget(name: "GPUTests", dependencies: ["Inference", "TestSupport"]),
        .testTarget(name: "ProcessorsTests", dependencies: ["Processors", "Inference", "Media", "Shared", "TestSupport"]),
        .testTarget(name: "FarmTests", dependencies: ["Coordinator", "Worker", "Transport", "Shared", "TestSupport"]),
        .testTarget(name: "PlanningTests", dependencies: ["Planning", "Shared", "Media", "Coordinator", "TestSupport"]),
        .testTarget(name: "MonitoringTests", dependencies: ["Coordinator", "CommandLineSupport", "Media", "Worker", "Shared", "TestSupport"]),
        .testTarget(name: "CoordinatorTests", dependencies: ["Coordinator", "Media", "Shared", "Processors", "TestSupport",
                                                            .product(name: "Logging", package: "swift-log")]),
        // Issue 8: fault injection and hostile input (the fast part; faults/run-all.sh runs the rest).
        .testTarget(name: "FaultTests", dependencies: ["Coordinator", "Worker", "Inference", "Media", "Processors", "Shared", "TestSupport",
                                                       .product(name: "Logging", package: "swift-log")]),
    ],
    swiftLanguageModes: [.v5]
)
