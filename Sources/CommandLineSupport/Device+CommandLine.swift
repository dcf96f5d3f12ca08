import ArgumentParser
import Foundation
import Inference
import Processors

/// `--device auto|cpu|gpu|gpu:N` on `lumiere-worker` and `restore`: refused at parse time with the spellings (exit 64),
/// like the other fixed-set options (issue 19); the index is checked against the machine's devices when the process
/// starts, with the devices named.
extension DeviceRequest: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
    public static var allValueStrings: [String] { DeviceRequest.spellings }
    public static var defaultCompletionKind: CompletionKind { .list(["auto", "cpu", "gpu", "gpu:0", "gpu:1"]) }
    public var defaultValueDescription: String { description }
}

/// `--precision fp32|fp16` on `lumiere-worker` and `restore`: how a GPU stores the blobs between layers (`GPUPrecision`),
/// refused at parse time like `--device`. fp32 is the default: it is the precision that gives the CPU engine's results
/// within 1e-3 (GPUModelTests), so a farm of CPU and GPU workers makes the same frames; fp16 (≥ 45 dB against fp32:
/// 70–77 dB on real frames in GPUPrecisionTests) halves the blobs' memory and traffic, and is faster only where the device's
/// fp16 path is (unmeasured on a real GPU so far: BENCHMARKS.md has lavapipe only). The CPU engine computes in fp32
/// whatever this says.
extension GPUPrecision: ExpressibleByArgument {
    /// `.fp16Storage` is the benchmark's and the tests'; a worker takes the two the issue names.
    public static let commandLineValues: [GPUPrecision] = [.fp32, .fp16]
    public init?(argument: String) {
        guard let value = GPUPrecision(rawValue: argument), GPUPrecision.commandLineValues.contains(value) else { return nil }
        self = value
    }
    public static var allValueStrings: [String] { commandLineValues.map(\.rawValue) }
    public var defaultValueDescription: String { rawValue }
}

/// `--list-devices` on both executables: the CPU engine and every Vulkan device on stdout, one per line, and what
/// `--device auto` picks. A missing loader or driver is a line of the listing (exit 0), not a failure.
public enum DeviceListingCommand {
    public static let help = ArgumentHelp("List the devices --device can use (the CPU engine, each Vulkan device: name, type, memory, fp16, cooperative matrix) and exit.")

    public static func print() {
        FileHandle.standardOutput.write(Data((DeviceListing.lines().joined(separator: "\n") + "\n").utf8))
    }
}
