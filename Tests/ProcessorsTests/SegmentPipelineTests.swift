import Foundation
import Inference
import Processors
import Shared
import TestSupport
import XCTest

/// A segment rendered with decode ahead and encode behind (`FrameStreaming.pipelined`, issue 17 item 2) is the
/// sequential segment frame for frame — on a GPU (lavapipe here and in CI) and on the CPU engine; a stop in the middle
/// of a pipelined segment ends it and the segment renders again. Tiny frames: lavapipe shares the 2 cores.
/// SegmentPipelineBenchmark times the two ways (SEGMENT_BENCH=1).
final class SegmentPipelineTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws { dir = try Fixtures.temporaryDirectory("segment-pipeline") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// `frames` frames of real footage at `width`x`height` as a lossless segment input (FFV1).
    static func makeSegment(in dir: URL, frames: Int, width: Int, height: Int) throws -> URL {
        let source = try Fixtures.requireFootage("video/carphone_pristine.mp4")
        let input = dir.appendingPathComponent("segment-\(frames)-\(width)x\(height).mkv")
        try Fixtures.run("ffmpeg", ["-v", "error", "-y", "-i", source, "-frames:v", "\(frames)", "-vf", "scale=\(width):\(height)",
                                    "-r", "25", "-c:v", "ffv1", "-pix_fmt", "yuv420p", input.path])
        return input
    }

    /// The decoded frames of a result file, in its own pixel format.
    static func frames(_ file: URL) throws -> Data {
        try Fixtures.runData("ffmpeg", ["-v", "error", "-i", file.path, "-f", "rawvideo", "-"])
    }

    /// Lavapipe as `--device gpu:0` resolves it; a skip without it (a failure in CI).
    static func gpu0() throws -> ComputeDevice {
        do { return try DeviceRequest.gpu(0).resolve().device } catch {
            throw Fixtures.missing("no Vulkan device 0 (\(error)); install libvulkan1, mesa-vulkan-drivers and glslang-tools")
        }
    }

    private func render(_ renderer: SegmentRenderer, _ input: URL, _ name: String) throws -> (SegmentRenderer.Result, Data) {
        let output = dir.appendingPathComponent(name)
        let result = try renderer.render(input: input, output: output)
        return (result, try Self.frames(output))
    }

    func testAPipelinedGPUSegmentIsTheSequentialSegment() throws {
        let gpu = try Self.gpu0()
        let input = try Self.makeSegment(in: dir, frames: 4, width: 32, height: 24)
        let recipe = RenderRecipe(processor: "realesr-animevideov3", modelScale: 2, contentWidth: 64, contentHeight: 48)
        let sequential = try SegmentRenderer(recipe: recipe, threads: 2, device: gpu, streaming: .sequential)
        let pipelined = try SegmentRenderer(recipe: recipe, threads: 2, device: gpu)
        XCTAssertEqual(pipelined.streaming, FrameStreaming.forced ?? .pipelined, "a GPU renderer pipelines by default")
        let (before, want) = try render(sequential, input, "sequential.mkv")
        let (after, got) = try render(pipelined, input, "pipelined.mkv")
        XCTAssertEqual(want.count, 4 * 64 * 48 * 3 * 2, "four 64x48 gbrp10le frames")
        XCTAssertEqual(got, want, "the same frames, bit for bit")
        for result in [before, after] {
            XCTAssertEqual(result.frames, 4)
            let busy = try XCTUnwrap(result.deviceSeconds, "the GPU's busy time is measured")
            XCTAssertGreaterThan(busy, 0)
            XCTAssertLessThanOrEqual(busy, result.wallSeconds, "the device cannot be busy longer than the segment took")
            XCTAssertTrue(result.summary.hasPrefix("4 frames in ") && result.summary.contains(" GPU busy "), result.summary)
            print("lavapipe segment: \(result.summary)")
        }
        XCTAssertTrue(after.summary.contains(", pipelined (decode ") || FrameStreaming.forced != nil, after.summary)
    }

    /// The CPU engine's default stays sequential; pipelined there too, the frames are the same (lanczos and the model).
    func testAPipelinedCPUSegmentIsTheSequentialSegment() throws {
        let input = try Self.makeSegment(in: dir, frames: 5, width: 32, height: 24)
        for processor in ["lanczos", "realesr-animevideov3"] {
            let recipe = RenderRecipe(processor: processor, modelScale: processor == "lanczos" ? nil : 2, contentWidth: 64, contentHeight: 48)
            let byDefault = try SegmentRenderer(recipe: recipe, threads: 2)
            XCTAssertEqual(byDefault.streaming, FrameStreaming.forced ?? .sequential)
            let (before, want) = try render(try SegmentRenderer(recipe: recipe, threads: 2, streaming: .sequential), input, "\(processor)-s.mkv")
            let (after, got) = try render(try SegmentRenderer(recipe: recipe, threads: 2, streaming: .pipelined), input, "\(processor)-p.mkv")
            XCTAssertEqual(got, want, processor)
            XCTAssertEqual(want.count, 5 * 64 * 48 * 3 * 2, processor)
            XCTAssertNil(before.deviceSeconds)
            XCTAssertEqual(after.summary.hasPrefix("5 frames in ") && after.summary.contains(" s, pipelined (decode ") && !after.summary.contains("GPU"), true, after.summary)
        }
    }

    /// A retimed segment (25 → 50 fps, blend, both orders) pipelined is the sequential one: the interpolated pictures
    /// and the copies in the same order, the same count.
    func testAPipelinedRetimedSegmentIsTheSequentialSegment() throws {
        let input = try Self.makeSegment(in: dir, frames: 6, width: 32, height: 24)
        let timing = SegmentTiming(firstInputFrame: 0, outputFrames: 0..<11)
        for order in RetimeRecipe.Order.allCases {
            let retime = RetimeRecipe(inputRate: Rational(25), outputRate: Rational(50), interpolator: "blend", order: order)
            let recipe = RenderRecipe(processor: "lanczos", contentWidth: 64, contentHeight: 48, retime: retime)
            var made: [Data] = []
            for streaming in FrameStreaming.allCases {
                let output = dir.appendingPathComponent("retimed-\(order.rawValue)-\(streaming).mkv")
                let result = try SegmentRenderer(recipe: recipe, threads: 2, streaming: streaming).render(input: input, output: output, timing: timing)
                XCTAssertEqual(result.frames, 11, "\(order) \(streaming)")
                made.append(try Self.frames(output))
            }
            XCTAssertEqual(made[0].count, 11 * 64 * 48 * 3 * 2)
            XCTAssertEqual(made[0], made[1], "\(order)")
        }
    }

    /// A stop after the third frame of a pipelined segment: `render` throws `Cancelled` having ended its threads, and
    /// the same renderer then renders the whole segment to the same file, the sequential segment frame for frame.
    func testAStopMidSegmentEndsThePipelineAndTheSegmentRendersAgain() throws {
        let input = try Self.makeSegment(in: dir, frames: 12, width: 32, height: 24)
        let recipe = RenderRecipe(processor: "lanczos", contentWidth: 64, contentHeight: 48)
        let renderer = try SegmentRenderer(recipe: recipe, threads: 2, streaming: .pipelined)
        let output = dir.appendingPathComponent("stopped.mkv")
        var made = 0
        XCTAssertThrowsError(try renderer.render(input: input, output: output, progress: { made = $0 }, isCancelled: { made >= 3 })) {
            XCTAssertTrue($0 is SegmentRenderer.Cancelled, "\($0)")
        }
        XCTAssertEqual(made, 3)
        let again = try renderer.render(input: input, output: output)
        XCTAssertEqual(again.frames, 12)
        let (_, want) = try render(try SegmentRenderer(recipe: recipe, threads: 2, streaming: .sequential), input, "sequential.mkv")
        XCTAssertEqual(try Self.frames(output), want)
    }
}

/// The segment-level "GPU busy %" (issue 17 item 2): one segment of real footage through `SegmentRenderer` on gpu:0,
/// sequential then pipelined, twice each (alternating, so load drifts hit both), printing wall time per frame, the
/// device's busy time over wall time and the pipelined/sequential ratio; then the same on the CPU engine.
/// `SEGMENT_BENCH=1 [SEGMENT_BENCH_FRAMES=12] [SEGMENT_BENCH_SIZE=96x72] [SEGMENT_BENCH_MODEL=realesr-animevideov3]
///  swift test -c release --skip-build --filter SegmentPipelineBenchmark`
final class SegmentPipelineBenchmark: XCTestCase {
    func testSequentialAgainstPipelined() throws {
        try Fixtures.gate("SEGMENT_BENCH", "segment pipeline benchmark")
        let environment = ProcessInfo.processInfo.environment
        let frames = Int(environment["SEGMENT_BENCH_FRAMES"] ?? "") ?? 12
        let size = (environment["SEGMENT_BENCH_SIZE"] ?? "96x72").split(separator: "x").compactMap { Int($0) }
        let model = environment["SEGMENT_BENCH_MODEL"] ?? "realesr-animevideov3"
        try Fixtures.require(size.count == 2, "SEGMENT_BENCH_SIZE is WxH")
        let dir = try Fixtures.temporaryDirectory("segment-bench")
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = try SegmentPipelineTests.makeSegment(in: dir, frames: frames, width: size[0], height: size[1])
        let recipe = RenderRecipe(processor: model, modelScale: model == "lanczos" ? nil : 2, contentWidth: 2 * size[0], contentHeight: 2 * size[1])
        let threads = ProcessInfo.processInfo.activeProcessorCount
        var load = [0.0, 0, 0]
        _ = getloadavg(&load, 3)
        print("segment bench: \(frames) frames \(size[0])x\(size[1]) → ×2, \(model), load \(String(format: "%.2f %.2f %.2f", load[0], load[1], load[2]))")
        for (name, device) in [("gpu:0", try SegmentPipelineTests.gpu0()), ("cpu", ComputeDevice.cpu)] {
            var best: [FrameStreaming: SegmentRenderer.Result] = [:]
            var outputs: [FrameStreaming: Data] = [:]
            let renderers = try Dictionary(uniqueKeysWithValues: FrameStreaming.allCases.map {
                ($0, try SegmentRenderer(recipe: recipe, threads: threads, device: device, streaming: $0))
            })
            // One warm-up segment per renderer (the first frames allocate the engine's buffers), then two rounds.
            for round in 0..<3 {
                for streaming in FrameStreaming.allCases {
                    let output = dir.appendingPathComponent("\(name)-\(streaming).mkv")
                    let result = try renderers[streaming]!.render(input: input, output: output)
                    if round == 0 { outputs[streaming] = try SegmentPipelineTests.frames(output); continue }
                    print("  \(name) round \(round): \(result.summary)")
                    if best[streaming].map({ result.wallSeconds < $0.wallSeconds }) ?? true { best[streaming] = result }
                }
            }
            let s = best[.sequential]!, p = best[.pipelined]!
            func busy(_ r: SegmentRenderer.Result) -> String {
                r.deviceSeconds.map { String(format: "GPU busy %.0f %%", 100 * $0 / r.wallSeconds) } ?? "no GPU"
            }
            func ms(_ r: SegmentRenderer.Result) -> String { String(format: "%.1f ms/frame", 1000 * r.wallSeconds / Double(frames)) }
            print("\(name): sequential \(ms(s)) (\(busy(s))), pipelined \(ms(p)) (\(busy(p))): pipelined/sequential wall "
                  + String(format: "%.2f", p.wallSeconds / s.wallSeconds) + ", "
                  + (outputs[.sequential] == outputs[.pipelined] ? "same frames" : "FRAMES DIFFER"))
            XCTAssertEqual(outputs[.sequential], outputs[.pipelined])
        }
        _ = getloadavg(&load, 3)
        print("segment bench: load after \(String(format: "%.2f %.2f %.2f", load[0], load[1], load[2]))")
    }
}
