// Which engine runs a graph: ours on the CPU or on a GPU (Vulkan), and the peer (ncnn through Benchmarks/ncnn_bench.py).
import Foundation
import Inference

enum BenchDevice: Equatable, CustomStringConvertible {
    case cpu, gpu(Int)
    /// "cpu", "gpu" (= gpu:0) or "gpu:N".
    init?(_ s: String) {
        if s == "cpu" { self = .cpu; return }
        if s == "gpu" { self = .gpu(0); return }
        guard s.hasPrefix("gpu:"), let n = Int(s.dropFirst(4)), (0...63).contains(n) else { return nil }
        self = .gpu(n)
    }
    var description: String {
        switch self { case .cpu: return "cpu"; case .gpu(let n): return "gpu:\(n)" }
    }
}

enum Precision: String { case fp32, fp16 }

enum BenchError: Error, CustomStringConvertible {
    case unsupported(String), peerFailed(String), missingModel(String)
    var description: String {
        switch self {
        case .unsupported(let why): return why
        case .peerFailed(let cmd): return "the peer benchmark failed: \(cmd) (its error is printed above)"
        case .missingModel(let p): return "model file \(p) is missing; set LUMIERE_MODELS to a folder holding the shipped models"
        }
    }
}

/// Loads a graph into our engine on `device`: `Net` on the CPU (fp32 only), `GPUNet` (Vulkan) on gpu:N, whose fp16 is
/// fp16 blobs and, where the device offers shaderFloat16, fp16 multiply-adds in the convolutions (`GPUPrecision.fp16`).
func makeEngine(param: URL, bin: URL, device: BenchDevice, precision: Precision, threads: Int) throws -> InferenceRunner {
    for f in [param, bin] where !FileManager.default.fileExists(atPath: f.path) { throw BenchError.missingModel(f.path) }
    if case .cpu = device, precision != .fp32 { throw BenchError.unsupported("our CPU engine computes in fp32 only") }
    let net = try Net(paramURL: param, weightsURL: bin, options: EngineOptions(threads: threads), registry: .withRIFE)
    switch device {
    case .cpu: return net
    case .gpu(let index): return try GPUNet(net: net, device: index, precision: precision == .fp16 ? .fp16 : .fp32)
    }
}

/// Our engine's view of the compute devices (`--list-devices`): one line per Vulkan device, or why there is none.
func listOurDevices() -> [String] {
    guard ComputeDevices.shadersAvailable else { return ["this build has no GPU shaders (glslangValidator was missing when it was built)"] }
    do { return try ComputeDevices.list().map(\.description) } catch { return ["no Vulkan device: \(error)"] }
}

let env = ProcessInfo.processInfo.environment
/// The repository root: $LUMIERE_REPO (the packed folder on the GPU machine), else where this source was built.
let repo = env["LUMIERE_REPO"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
    ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
/// The Python that has the `ncnn` wheel: $LUMIERE_PYTHON, else python3.
let python = env["LUMIERE_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"

/// Runs a tool found on PATH; its stdout is returned, its stderr passes through. Throws when it fails.
func runTool(_ exe: String, _ args: [String]) throws -> Data {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [exe] + args
    let pipe = Pipe()
    p.standardOutput = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw BenchError.peerFailed(([exe] + args).joined(separator: " ")) }
    return data
}

/// ncnn's timings for one graph: best seconds, best seconds without the numpy warps, its output.
struct PeerResult {
    let best: Double, bestWithoutWarps: Double, device: String, output: Tensor?
}

/// Times ncnn on `inputs` (written as LTEN files into `scratch`); Vulkan device N for `.gpu(N)`,
/// `threads` CPU threads otherwise; fp16 = ncnn's defaults, fp32 = fp16/bf16 off.
func runPeer(param: URL, bin: URL, inputs: [String: Tensor], device: BenchDevice, precision: Precision, threads: Int,
             runs: Int, scratch: URL) throws -> PeerResult {
    var specs: [String] = []
    for (name, t) in inputs.sorted(by: { $0.key < $1.key }) {
        let url = scratch.appendingPathComponent("\(name).lten")
        try writeLTEN(t, url)
        specs.append("\(name)=\(url.path)")
    }
    let json = scratch.appendingPathComponent("ncnn.json")
    var args = [repo.appendingPathComponent("Benchmarks/ncnn_bench.py").path, param.path, bin.path, specs.joined(separator: ","), json.path,
                "--threads", "\(threads)", "--runs", "\(runs)"]
    if precision == .fp16 { args.append("--fp16") }
    if case .gpu(let n) = device { args += ["--vulkan", "--gpu", "\(n)"] }
    _ = try runTool(python, args)
    guard let obj = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any],
          let seconds = obj["seconds"] as? [Double], let warps = obj["warp_seconds"] as? [Double], !seconds.isEmpty else {
        throw BenchError.peerFailed("\(json.path) is not the JSON ncnn_bench.py writes")
    }
    let output = (obj["output"] as? String).flatMap { try? readLTEN(URL(fileURLWithPath: $0)) }
    return PeerResult(best: seconds.min()!, bestWithoutWarps: zip(seconds, warps).map { $0 - $1 }.min()!,
                      device: obj["device"] as? String ?? "?", output: output)
}

/// Best wall time of `runs` runs of `body` after one warm-up run, and the last result.
func bestOf<R>(_ runs: Int, _ body: () throws -> R) rethrows -> (Double, R) {
    var result = try body()
    var best = Double.infinity
    for _ in 0..<max(1, runs) {
        let t0 = DispatchTime.now().uptimeNanoseconds
        result = try body()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
    return (best, result)
}
