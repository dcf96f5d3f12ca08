import Foundation
import Inference
import TestSupport
import XCTest

/// Issue 17 item 2's "GPU busy %": each run's device time (`GPUNet.lastRunDeviceSeconds`), from timestamp queries
/// where the device writes them (lavapipe does: timestampValidBits 64, period 1 ns), else from the fence.
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
}
