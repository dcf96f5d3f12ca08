import Foundation
import Processors
import Shared
import TestSupport
import Worker
import XCTest

/// The worker's real processor on lavapipe (issue 17 item 2): a segment on `--device gpu:0` is pipelined and logs one
/// line with its frames, time, decode and encode time and GPU busy %; a stop in the middle of a pipelined segment
/// ends it as `SegmentCancelled` and the worker can render the segment again. Tiny frames: lavapipe shares 2 cores.
final class MediaSegmentProcessorTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws { dir = try Fixtures.temporaryDirectory("media-processor") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        var all: [String] { lock.withLock { lines } }
        func add(_ line: String) { lock.withLock { lines.append(line) } }
    }

    private func job(frames: Int, attempt: UInt32) throws -> SegmentJob {
        let source = try Fixtures.requireFootage("video/carphone_pristine.mp4")
        let input = dir.appendingPathComponent("input-\(attempt).mkv")
        try Fixtures.run("ffmpeg", ["-v", "error", "-y", "-i", source, "-frames:v", "\(frames)", "-vf", "scale=32:24", "-c:v", "ffv1", input.path])
        let work = dir.appendingPathComponent("work-\(attempt)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let recipe = RenderRecipe(processor: "realesr-animevideov3", modelScale: 2, contentWidth: 64, contentHeight: 48)
        return SegmentJob(lease: LeaseRef(segment: 7, attempt: attempt), inputFile: input, inputFrameCount: UInt32(frames),
                          work: SegmentWork(recipe: recipe), workDirectory: work)
    }

    func testAGPUSegmentIsPipelinedAndLogsItsGPUBusyTimeAndAStopEndsIt() throws {
        let gpu: ComputeDevice
        do { gpu = try DeviceRequest.gpu(0).resolve().device } catch {
            throw Fixtures.missing("no Vulkan device 0 (\(error)); install libvulkan1, mesa-vulkan-drivers and glslang-tools")
        }
        let lines = Lines()
        let processor = MediaSegmentProcessor(threads: 2, device: DeviceSelection(gpu), log: { lines.add($0) })
        // A stop after the first frame: the segment ends as cancelled, nothing logged for it, the worker stays on the GPU.
        let stopped = try job(frames: 4, attempt: 1)
        let made = Lines()
        XCTAssertThrowsError(try processor.process(stopped, progress: { made.add("\($0)") }, isCancelled: { !made.all.isEmpty })) {
            XCTAssertTrue($0 is SegmentCancelled, "\($0)")
        }
        XCTAssertEqual(made.all, ["1"])
        XCTAssertEqual(lines.all, [])
        XCTAssertEqual(processor.device.current, gpu)

        let output = try processor.process(try job(frames: 4, attempt: 2), progress: { _ in }, isCancelled: { false })
        XCTAssertEqual(output.frameCount, 4)
        XCTAssertEqual(lines.all.count, 1, "\(lines.all)")
        let line = lines.all.first ?? ""
        XCTAssertTrue(line.hasPrefix("segment 7 attempt 2: 4 frames in ") && line.contains(" s, pipelined (decode ") && line.contains(" s), GPU busy "),
                      line)
        print("worker log line: \(line)")
    }
}
