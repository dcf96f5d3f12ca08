import Foundation
import Inference
import TestSupport
import XCTest

/// Issue 17 item 2's "GPU busy %": each run's device time (`GPUNet.lastRunDeviceSeconds`), from timestamp queries
/// where the device writes them (lavapipe does: timestampValidBits 64, period 1 ns), else from the fence; and two runs
/// in flight (`GPUNet.runOverlapped`).
final class GPUTimingTests: XCTestCase {
    func testARunsDeviceTimeIsPartOfItsWallTime() throws {
        let device = try GPUTestSupport.deviceIndex()
        let gpu = try GPUNet(net: try GPUTileRetryTests.convolutionStack(), device: device)
        let image = GPUTestSupport.tensor(3, 48, 64, seed: 180, range: 0...1)
        _ = try gpu.run(inputs: ["in0": image], outputs: ["out"])  // builds the pipelines
        let start = DispatchTime.now().uptimeNanoseconds
        _ = try gpu.run(inputs: ["in0": image], outputs: ["out"])
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print("device \(gpu.lastRunDeviceSeconds) s of \(wall) s wall (\(gpu.deviceTimeFromTimestamps ? "timestamps" : "fence"))")
        XCTAssertGreaterThan(gpu.lastRunDeviceSeconds, 0)
        XCTAssertLessThanOrEqual(gpu.lastRunDeviceSeconds, wall, "the device's part of a run cannot exceed the run")
        if gpu.device.name.hasPrefix("llvmpipe") { XCTAssertTrue(gpu.deviceTimeFromTimestamps, "lavapipe writes timestamps") }
        // A bigger frame takes the device longer: the figure follows the work, it is not a constant.
        _ = try gpu.run(inputs: ["in0": GPUTestSupport.tensor(3, 12, 16, seed: 181, range: 0...1)], outputs: ["out"])
        let small = gpu.lastRunDeviceSeconds
        _ = try gpu.run(inputs: ["in0": GPUTestSupport.tensor(3, 96, 128, seed: 182, range: 0...1)], outputs: ["out"])
        XCTAssertGreaterThan(gpu.lastRunDeviceSeconds, small)
    }

    /// Two runs in flight give each input exactly the outputs `run` gives it, in order, for inputs of several sizes;
    /// a failure in the middle (an input that cannot be made) waits for the run still in flight and leaves the
    /// network usable.
    func testTwoRunsInFlightGiveTheSameOutputsInOrder() throws {
        let device = try GPUTestSupport.deviceIndex()
        let gpu = try GPUNet(net: try GPUTileRetryTests.convolutionStack(), device: device)
        let frames = [(24, 32), (24, 32), (12, 16), (30, 20), (24, 32)].enumerated().map { i, size in
            GPUTestSupport.tensor(3, size.0, size.1, seed: UInt64(190 + i), range: 0...1)
        }
        let want = try frames.map { try gpu.run(inputs: ["in0": $0], outputs: ["out"])["out"]!.toArray() }
        var got: [Int: [Float]] = [:], order: [Int] = []
        try gpu.runOverlapped(count: frames.count, inputs: { ["in0": frames[$0]] }, outputs: ["out"]) { i, result in
            order.append(i)
            got[i] = result["out"]!.toArray()
        }
        XCTAssertEqual(order, Array(frames.indices))
        for i in frames.indices { XCTAssertEqual(got[i], want[i], "frame \(i)") }
        XCTAssertGreaterThan(gpu.lastRunDeviceSeconds, 0, "the device's busy time over the five runs")

        struct NoFrame: Error {}
        XCTAssertThrowsError(try gpu.runOverlapped(count: 4, inputs: { i in
            if i == 2 { throw NoFrame() }
            return ["in0": frames[i]]
        }, outputs: ["out"]) { _, _ in }) { XCTAssertTrue($0 is NoFrame, "\($0)") }
        XCTAssertEqual(try gpu.run(inputs: ["in0": frames[3]], outputs: ["out"])["out"]!.toArray(), want[3])
    }
}
