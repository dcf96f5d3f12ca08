import Foundation
import Processors
import TestSupport
import XCTest

/// Issue 17 items 3–4 through the real executables on Mesa's lavapipe (device 0 here and in CI): `--list-devices`,
/// a restore on `--device gpu:0` against `--device cpu`, and a GPU fault in the middle of a segment (the
/// LUMIERE_GPU_FAULT hook) retried on the CPU engine with nothing lost. Clips are tiny: lavapipe shares 2 cores.
final class DeviceCommandLineTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws { dir = try Fixtures.temporaryDirectory("devices") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// Vulkan device 0 exists (lavapipe): a skip without it, a failure in CI.
    private func requireLavapipe() throws {
        do { _ = try DeviceRequest.gpu(0).resolve() } catch {
            throw Fixtures.missing("no Vulkan device 0 (\(error)); install libvulkan1, mesa-vulkan-drivers and glslang-tools")
        }
    }

    private func run(_ product: String, _ args: [String], timeout: Double = 300, environment: [String: String] = [:],
                     stdout: Bool = false) throws -> Fixtures.CommandResult {
        try Fixtures.runProduct(product, args, in: dir, timeout: timeout, captureStdout: stdout, environment: environment)
    }

    /// Three 32x24 frames of real footage (lavapipe runs realesr-animevideov3 at about 65 MFLOP/s on the shared 2 cores:
    /// seconds per frame even this small).
    private func makeFilm() throws {
        let source = try Fixtures.requireFootage("video/carphone_pristine.mp4")
        try Fixtures.run("ffmpeg", ["-v", "error", "-i", source, "-frames:v", "3", "-vf", "scale=32:24", "-c:v", "libx264", "-preset", "ultrafast",
                                    dir.appendingPathComponent("film.mp4").path])
    }

    /// The decoded frames of `name` in their own pixel format (no conversion that could hide or add a difference).
    private func frames(_ name: String) throws -> [UInt8] {
        [UInt8](try Fixtures.runData("ffmpeg", ["-v", "error", "-i", dir.appendingPathComponent(name).path, "-f", "rawvideo", "-"]))
    }

    private func maxDifference(_ a: [UInt8], _ b: [UInt8]) -> Int {
        guard a.count == b.count, !a.isEmpty else { return .max }
        return zip(a, b).reduce(0) { max($0, abs(Int($1.0) - Int($1.1))) }
    }

    func testListDevicesShowsTheCPUAndLavapipeOnBothExecutables() throws {
        try requireLavapipe()
        for (product, args) in [("lumiere-worker", ["--list-devices"]), ("lumiere-coordinator", ["--list-devices"])] {
            let result = try run(product, args, timeout: 60, stdout: true)
            XCTAssertEqual(result.status, 0, "\(product): \(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            XCTAssertTrue(lines.first?.hasPrefix("cpu ") == true, "\(product): \(result.stdout)")
            let lavapipe = try XCTUnwrap(lines.first { $0.hasPrefix("gpu:") && $0.contains("llvmpipe") }, "\(product): \(result.stdout)")
            XCTAssertTrue(lavapipe.contains("(cpu, ") && lavapipe.contains(" GiB, fp16 ") && lavapipe.contains("cooperative matrix "), lavapipe)
            XCTAssertTrue(lines.last?.hasPrefix("--device auto uses: ") == true, "\(product): \(result.stdout)")
            if !lines.contains(where: { $0.contains("(discrete, ") || $0.contains("(integrated, ") || $0.contains("(virtual, ") }) {
                XCTAssertEqual(lines.last, "--device auto uses: cpu", "lavapipe is never picked by auto")
            }
        }
    }

    /// No driver (the loader finds no ICD): the listing says so and still lists the CPU (exit 0); a worker asked for
    /// gpu:0 stops at once with the reason (exit 2) instead of joining a farm it cannot serve.
    func testNoDeviceIsSaidPlainly() throws {
        let noDriver = ["VK_ICD_FILENAMES": "/nonexistent/icd.json", "VK_DRIVER_FILES": "/nonexistent/icd.json"]
        let list = try run("lumiere-worker", ["--list-devices"], timeout: 60, environment: noDriver, stdout: true)
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertTrue(list.stdout.hasPrefix("cpu "), list.stdout)
        XCTAssertTrue(list.stdout.contains("\nno device: ") || list.stdout.contains("\nno Vulkan loader: "), list.stdout)
        XCTAssertTrue(list.stdout.hasSuffix("--device auto uses: cpu\n"), list.stdout)
        let worker = try run("lumiere-worker", ["--connect", "tcp://127.0.0.1:9", "--device", "gpu:0"], timeout: 60, environment: noDriver)
        XCTAssertEqual(worker.status, 2, worker.stderr)
        XCTAssertTrue(worker.stderr.contains("error: --device gpu:0: no "), worker.stderr)
    }

    /// The same clip restored by a local worker on lavapipe and by one on the CPU engine: the same frames up to the
    /// rounding of the 8-bit output (the engines agree to 1e-3 in float, GPUModelTests). The worker registered its device.
    func testARestoreOnLavapipeGivesTheCPUEnginesFrames() throws {
        try requireLavapipe()
        try makeFilm()
        let base = ["restore", "film.mp4", "--model", "realesr-animevideov3", "--scale", "2", "--codec", "ffv1", "--workers", "1",
                    "--status", "off", "--log-level", "info"]
        let cpu = try run("lumiere-coordinator", base + ["-o", "cpu.mkv", "--device", "cpu"])
        XCTAssertEqual(cpu.status, 0, cpu.stderr)
        XCTAssertTrue(cpu.stderr.contains(" threads, device cpu, peer "), "the worker registered on the CPU engine: \(cpu.stderr)")
        let gpu = try run("lumiere-coordinator", base + ["-o", "gpu.mkv", "--device", "gpu:0"])
        XCTAssertEqual(gpu.status, 0, gpu.stderr)
        XCTAssertTrue(gpu.stderr.contains("device gpu:0 llvmpipe"), "the worker registered on lavapipe: \(gpu.stderr)")
        let want = try frames("cpu.mkv"), got = try frames("gpu.mkv")
        XCTAssertEqual(want.count, 3 * 64 * 48 * 3 / 2, "three 64x48 yuv420p frames")
        let difference = maxDifference(want, got)
        print("restore on lavapipe vs CPU engine: max difference \(difference) code values over \(want.count) samples")
        XCTAssertLessThanOrEqual(difference, 2)
    }

    /// LUMIERE_GPU_FAULT=submit:3 loses the device at the second frame of the first segment (submission 1 uploads the
    /// weights): the worker reports the fault, the coordinator retries the segment, the worker renders it on the CPU
    /// engine. The film is the CPU engine's, frame for frame. `--in-process` with `alloc:5` (out of device memory while
    /// the weights go up) renders the segment again on the CPU engine the same way.
    func testAGPUFaultMidSegmentIsRetriedOnTheCPUWithNothingLost() throws {
        try requireLavapipe()
        try makeFilm()
        let base = ["restore", "film.mp4", "--model", "realesr-animevideov3", "--scale", "2", "--codec", "ffv1", "--status", "off"]
        let reference = try run("lumiere-coordinator", base + ["-o", "cpu.mkv", "--device", "cpu", "--in-process"])
        XCTAssertEqual(reference.status, 0, reference.stderr)
        let fault = ["LUMIERE_GPU_FAULT": "submit:3"]
        let farm = try run("lumiere-coordinator", base + ["-o", "farm.mkv", "--device", "gpu:0", "--workers", "1", "--keep-job", "--job-dir", "job",
                                                          "--log-level", "warning"], environment: fault)
        XCTAssertEqual(farm.status, 0, farm.stderr)
        XCTAssertTrue(farm.stderr.contains("failed: GPU fault on gpu:0 llvmpipe") && farm.stderr.contains("injected by LUMIERE_GPU_FAULT=submit:3"),
                      "the coordinator logged the failed try with its reason: \(farm.stderr)")
        let log = try String(contentsOf: dir.appendingPathComponent("job/logs/local-1.log"), encoding: .utf8)
        XCTAssertTrue(log.contains("GPU fault on gpu:0") && log.contains("the GPU was lost during"), log)
        XCTAssertEqual(try frames("farm.mkv"), try frames("cpu.mkv"), "every frame made, by the CPU engine after the fault")

        let inProcess = try run("lumiere-coordinator", base + ["-o", "in-process.mkv", "--device", "gpu:0", "--in-process"],
                                environment: ["LUMIERE_GPU_FAULT": "alloc:5"])
        XCTAssertEqual(inProcess.status, 0, inProcess.stderr)
        XCTAssertTrue(inProcess.stderr.contains("warning: GPU fault on gpu:0") && inProcess.stderr.contains("out of GPU memory during allocating"),
                      inProcess.stderr)
        XCTAssertEqual(try frames("in-process.mkv"), try frames("cpu.mkv"))

        // The same lost device in the middle of a pipelined segment in-process: frame 1's submission fails while frame 2
        // is decoded ahead and frame 0 encoded behind; the pipeline ends, the segment is rendered again on the CPU engine.
        let pipelined = try run("lumiere-coordinator", base + ["-o", "pipelined.mkv", "--device", "gpu:0", "--in-process", "--log-level", "info"],
                                environment: fault)
        XCTAssertEqual(pipelined.status, 0, pipelined.stderr)
        XCTAssertTrue(pipelined.stderr.contains("warning: GPU fault on gpu:0") && pipelined.stderr.contains("injected by LUMIERE_GPU_FAULT=submit:3"),
                      pipelined.stderr)
        XCTAssertTrue(pipelined.stderr.contains("segment 0: 3 frames in ") && pipelined.stderr.contains(" s, sequential (decode ")
                      && !pipelined.stderr.contains("GPU busy"),
                      "the CPU engine rendered the segment again: \(pipelined.stderr)")
        XCTAssertEqual(try frames("pipelined.mkv"), try frames("cpu.mkv"))
    }

    /// `--device gpu:0` pipelines a segment's frames (decode ahead, encode behind) and logs the GPU's busy time; with
    /// LUMIERE_FRAME_STREAMING=sequential the same restore goes one frame at a time. The films are the same, bit for bit.
    func testAPipelinedRestoreOnLavapipeMakesTheSequentialFilm() throws {
        try requireLavapipe()
        try makeFilm()
        let base = ["restore", "film.mp4", "--model", "realesr-animevideov3", "--scale", "2", "--codec", "ffv1", "--status", "off",
                    "--in-process", "--device", "gpu:0", "--log-level", "info"]
        let pipelined = try run("lumiere-coordinator", base + ["-o", "pipelined.mkv"])
        XCTAssertEqual(pipelined.status, 0, pipelined.stderr)
        XCTAssertTrue(pipelined.stderr.contains("segment 0: 3 frames in ") && pipelined.stderr.contains(" s, pipelined (decode ")
                      && pipelined.stderr.contains(" s), GPU busy "), pipelined.stderr)
        let sequential = try run("lumiere-coordinator", base + ["-o", "sequential.mkv"], environment: ["LUMIERE_FRAME_STREAMING": "sequential"])
        XCTAssertEqual(sequential.status, 0, sequential.stderr)
        XCTAssertTrue(sequential.stderr.contains(" s, sequential (decode ") && sequential.stderr.contains(" s), GPU busy "), sequential.stderr)
        let want = try frames("sequential.mkv")
        XCTAssertEqual(want.count, 3 * 64 * 48 * 3 / 2)
        XCTAssertEqual(try frames("pipelined.mkv"), want)
    }

    /// Out of GPU memory in the middle of a segment, `--in-process`: with LUMIERE_GPU_FAULT=alloc>160000:1 the first
    /// allocation over 160 kB fails (a 64-channel fp32 blob of the 32x24 frame is 196 kB; every weight buffer is under
    /// 150 kB), the frame is retried on the GPU with 16-pixel tiles, the log says so, there is no GPU fault, and the
    /// film is the unfaulted GPU run's frame for frame. With alloc>160000 every such allocation fails: the smallest
    /// tile fails too, the log says so, and only then does the CPU engine take over (the film is the CPU engine's).
    /// The GPU runs use the direct convolution shaders (LUMIERE_GPU_WINOGRAD=off): Winograd's transformed weights
    /// (590 kB for a 64 → 64 layer's F(4,3)) are over the 160 kB line, so the fault would hit the load instead of the
    /// frame, and its rounding follows the tiling (GPUTileRetryTests covers the retry with Winograd on).
    func testOutOfGPUMemoryIsRetriedWithSmallerTilesBeforeTheCPU() throws {
        try requireLavapipe()
        try makeFilm()
        let base = ["restore", "film.mp4", "--model", "realesr-animevideov3", "--scale", "2", "--codec", "ffv1", "--status", "off",
                    "--in-process", "--log-level", "info"]
        let direct = ["LUMIERE_GPU_WINOGRAD": "off"]
        let gpu = try run("lumiere-coordinator", base + ["-o", "gpu.mkv", "--device", "gpu:0"], environment: direct)
        XCTAssertEqual(gpu.status, 0, gpu.stderr)
        let retried = try run("lumiere-coordinator", base + ["-o", "retried.mkv", "--device", "gpu:0"],
                              environment: direct.merging(["LUMIERE_GPU_FAULT": "alloc>160000:1"]) { $1 })
        XCTAssertEqual(retried.status, 0, retried.stderr)
        XCTAssertTrue(retried.stderr.contains("out of GPU memory with 32-pixel tiles: retrying the frame on the GPU with 16-pixel tiles")
                      && retried.stderr.contains("injected by LUMIERE_GPU_FAULT=alloc>160000:1"), retried.stderr)
        XCTAssertFalse(retried.stderr.contains("GPU fault"), "the GPU kept the segment: \(retried.stderr)")
        XCTAssertEqual(try frames("retried.mkv"), try frames("gpu.mkv"), "the retried frames are the unfaulted ones")

        let cpu = try run("lumiere-coordinator", base + ["-o", "cpu.mkv", "--device", "cpu"])
        XCTAssertEqual(cpu.status, 0, cpu.stderr)
        let capped = try run("lumiere-coordinator", base + ["-o", "capped.mkv", "--device", "gpu:0"],
                             environment: direct.merging(["LUMIERE_GPU_FAULT": "alloc>160000"]) { $1 })
        XCTAssertEqual(capped.status, 0, capped.stderr)
        XCTAssertTrue(capped.stderr.contains("out of GPU memory even with 16-pixel tiles, the smallest tried: giving up the GPU")
                      && capped.stderr.contains("warning: GPU fault on gpu:0"), capped.stderr)
        XCTAssertEqual(try frames("capped.mkv"), try frames("cpu.mkv"), "after the smallest tile, the CPU engine made the film")
    }

    /// `--precision fp16` reaches the GPU engine `--in-process` and in a local worker: both make the same film (the GPU
    /// run is deterministic), ≥ 45 dB from the fp32 film but not equal to it. On the CPU engine it is
    /// ignored with a note, and the film is the CPU engine's.
    func testPrecisionFP16ReachesTheGPUEngineOfLocalWorkersAndInProcess() throws {
        try requireLavapipe()
        try makeFilm()
        let base = ["restore", "film.mp4", "--model", "realesr-animevideov3", "--scale", "2", "--codec", "ffv1", "--status", "off",
                    "--log-level", "info"]
        let fp32 = try run("lumiere-coordinator", base + ["-o", "fp32.mkv", "--device", "gpu:0", "--in-process"])
        XCTAssertEqual(fp32.status, 0, fp32.stderr)
        let fp16 = try run("lumiere-coordinator", base + ["-o", "fp16.mkv", "--device", "gpu:0", "--precision", "fp16", "--in-process"])
        XCTAssertEqual(fp16.status, 0, fp16.stderr)
        let worker = try run("lumiere-coordinator", base + ["-o", "worker.mkv", "--device", "gpu:0", "--precision", "fp16", "--workers", "1"])
        XCTAssertEqual(worker.status, 0, worker.stderr)
        let half = try frames("fp16.mkv"), full = try frames("fp32.mkv")
        XCTAssertEqual(try frames("worker.mkv"), half, "the local worker got --precision fp16")
        XCTAssertNotEqual(half, full, "fp16 blobs were used")
        XCTAssertEqual(half.count, full.count)
        // The bar for fp16 (≥ 45 dB against fp32), here on the decoded 8-bit film, the codec's rounding included.
        var squares = 0.0
        for (a, b) in zip(half, full) {
            let d = Double(Int(a) - Int(b))
            squares += d * d
        }
        let mse: Double = squares / Double(max(1, half.count))
        let psnr: Double = 10 * log10(255.0 * 255.0 / max(mse, 1e-12))
        print("restore on lavapipe, fp16 vs fp32: max difference \(maxDifference(half, full)) code values over \(half.count) samples, "
              + String(format: "%.1f dB", psnr))
        XCTAssertGreaterThanOrEqual(psnr, 45)

        let cpu = try run("lumiere-coordinator", base + ["-o", "cpu.mkv", "--device", "cpu", "--precision", "fp16", "--in-process"])
        XCTAssertEqual(cpu.status, 0, cpu.stderr)
        XCTAssertTrue(cpu.stderr.contains("--precision fp16 is ignored on the CPU engine, which computes in fp32"), cpu.stderr)
        let reference = try run("lumiere-coordinator", base + ["-o", "reference.mkv", "--device", "cpu", "--in-process"])
        XCTAssertEqual(reference.status, 0, reference.stderr)
        XCTAssertEqual(try frames("cpu.mkv"), try frames("reference.mkv"))
    }
}
