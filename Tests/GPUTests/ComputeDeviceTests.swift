import Inference
import TestSupport
import XCTest

final class ComputeDeviceTests: XCTestCase {
    /// Without a loader the error is the typed `noLoader` (and says what to install), for listing and for GPUNet.
    func testMissingLoaderIsNoLoader() throws {
        let absent = "libvulkan-absent-for-tests.so.9"
        XCTAssertThrowsError(try ComputeDevices.list(loaderLibrary: absent)) { error in
            guard case GPUError.noLoader = error else { return XCTFail("expected noLoader, got \(error)") }
            XCTAssertTrue("\(error)".contains("libvulkan1"), "the message says what to install: \(error)")
        }
        let net = try GPUTestSupport.net(inputs: 1, layers: ["ReLU relu 1 1 in0 out"])
        XCTAssertThrowsError(try GPUNet(net: net, device: 0, loaderLibrary: absent)) { error in
            guard case GPUError.noLoader = error else {
                // A build without shaders refuses first, and says so.
                if !ComputeDevices.shadersAvailable, case GPUError.shader = error { return }
                return XCTFail("expected noLoader, got \(error)")
            }
        }
    }

    /// Mesa's lavapipe (installed by scripts/setup.sh, present in CI) is listed as a CPU device with its memory.
    func testListFindsLavapipeAsCPU() throws {
        _ = try GPUTestSupport.deviceIndex()
        let devices = try ComputeDevices.list()
        guard let lavapipe = devices.first(where: { $0.name.contains("llvmpipe") }) else {
            throw Fixtures.missing("no lavapipe among \(devices.map(\.name)); install mesa-vulkan-drivers")
        }
        XCTAssertEqual(lavapipe.type, .cpu)
        XCTAssertGreaterThan(lavapipe.memoryBytes, 1 << 28)
        XCTAssertEqual(devices.map(\.index), Array(devices.indices))
        XCTAssertTrue(lavapipe.description.contains("gpu:\(lavapipe.index)"), lavapipe.description)
    }

    /// A device index that does not exist is `noDevice`, naming the devices there are.
    func testMissingDeviceIsNoDevice() throws {
        _ = try GPUTestSupport.deviceIndex()
        let net = try GPUTestSupport.net(inputs: 1, layers: ["ReLU relu 1 1 in0 out"])
        XCTAssertThrowsError(try GPUNet(net: net, device: 99)) { error in
            guard case GPUError.noDevice = error else { return XCTFail("expected noDevice, got \(error)") }
        }
    }

    /// A pass-through custom layer (the CPU engine runs it; the GPU backend has no shader for it).
    final class PassThrough: Layer {
        func forward(_ inputs: [Tensor], context: ExecutionContext) throws -> [Tensor] { inputs }
    }

    /// A layer type without a GPU shader is refused at load, naming the type.
    func testUnsupportedLayerIsRefusedAtLoad() throws {
        let device = try GPUTestSupport.deviceIndex()
        var registry = LayerRegistry.standard
        registry.register("test.PassThrough") { _, _ in PassThrough() }
        let net = try GPUTestSupport.net(inputs: 1, layers: ["test.PassThrough p 1 1 in0 out"], registry: registry)
        XCTAssertThrowsError(try GPUNet(net: net, device: device)) { error in
            guard case let GPUError.unsupported(reason) = error else { return XCTFail("expected unsupported, got \(error)") }
            XCTAssertTrue(reason.contains("test.PassThrough"), reason)
        }
    }

    /// `rife.Warp` runs on the GPU when the Net has the engine's warp (`.withRIFE`); another class registered under
    /// the name is refused at load (the GPU cannot know what it computes).
    func testRIFEWarpNeedsTheEnginesWarp() throws {
        let device = try GPUTestSupport.deviceIndex()
        XCTAssertNoThrow(try GPUNet(net: GPUTestSupport.net(inputs: 2, layers: ["rife.Warp w 2 1 in0 in1 out"], registry: .withRIFE), device: device))
        var registry = LayerRegistry.standard
        registry.register("rife.Warp") { _, _ in PassThrough() }
        let net = try GPUTestSupport.net(inputs: 2, layers: ["rife.Warp w 2 1 in0 in1 out"], registry: registry)
        XCTAssertThrowsError(try GPUNet(net: net, device: device)) { error in
            guard case let GPUError.unsupported(reason) = error else { return XCTFail("expected unsupported, got \(error)") }
            XCTAssertTrue(reason.contains("custom creator"), reason)
        }
    }
}
