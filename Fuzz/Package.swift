// swift-tools-version:6.0
// libFuzzer harness for the farm's message decoder (issue 8). A separate package so the main build never
// sees -sanitize=fuzzer; `Sources/Shared` is a symbolic link to the main package's Shared module (plain Swift,
// no dependencies), so the fuzzer exercises exactly the code the coordinator and workers run.
//
//   cd Fuzz && swift build -c release -Xswiftc -sanitize=fuzzer,address --scratch-path ../.build-fuzz
//   ../.build-fuzz/release/MessageDecoderFuzzer corpus-work corpus -max_total_time=600 -rss_limit_mb=512
//
// faults/fuzz.sh does both and records the executions; Tests/FaultTests replays corpus/ in CI.
import PackageDescription

let package = Package(
    name: "LumiereFuzz",
    targets: [
        .target(name: "Shared", path: "Sources/Shared"),
        .executableTarget(name: "MessageDecoderFuzzer", dependencies: ["Shared"],
                          swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
    ],
    swiftLanguageModes: [.v5]
)
