import Foundation
import Inference
import Processors
import Shared
import TestSupport
import XCTest

/// `--device` (issue 17 item 3): parsing, what `auto` / `gpu` / `gpu:N` resolve to on machines described by hand
/// (no loader, no device, lavapipe only, a real GPU), the listing, the fault fallback; then the processors on lavapipe
/// against the CPU engine.
final class DeviceChoiceTests: XCTestCase {
    static func device(_ index: Int, _ name: String, _ type: ComputeDeviceType, gib: UInt64 = 8) -> ComputeDeviceInfo {
        ComputeDeviceInfo(index: index, name: name, type: type, memoryBytes: gib << 30, fp16: true, cooperativeMatrix: false)
    }
    static let lavapipe = device(0, "llvmpipe (LLVM 15.0.7, 256 bits)", .cpu)

    func testParsingTakesTheFourSpellingsOnly() {
        XCTAssertEqual(DeviceRequest(parsing: "auto"), .auto)
        XCTAssertEqual(DeviceRequest(parsing: "cpu"), .cpu)
        XCTAssertEqual(DeviceRequest(parsing: "gpu"), .anyGPU)
        XCTAssertEqual(DeviceRequest(parsing: "gpu:0"), .gpu(0))
        XCTAssertEqual(DeviceRequest(parsing: "gpu:12"), .gpu(12))
        for bad in ["", "GPU", "gpu:", "gpu:-1", "gpu:+1", "gpu:1x", "gpu:123", "gpu: 1", "cuda", "gpu:٣", "auto "] {
            XCTAssertNil(DeviceRequest(parsing: bad), "'\(bad)' is refused")
        }
        for request in [DeviceRequest.auto, .cpu, .anyGPU, .gpu(3)] {
            XCTAssertEqual(DeviceRequest(parsing: request.description), request, "description parses back")
        }
    }

    func testAutoTakesARealGPUAndNeverACPUImplementation() throws {
        let integrated = Self.device(1, "Intel UHD 770", .integrated), discrete = Self.device(2, "NVIDIA H100", .discrete)
        XCTAssertEqual(try DeviceRequest.auto.resolve(devices: { [Self.lavapipe, integrated, discrete] }, shadersAvailable: true).device, .gpu(discrete))
        XCTAssertEqual(try DeviceRequest.auto.resolve(devices: { [Self.lavapipe, integrated] }, shadersAvailable: true).device, .gpu(integrated))
        XCTAssertEqual(try DeviceRequest.anyGPU.resolve(devices: { [Self.lavapipe, integrated] }, shadersAvailable: true).device, .gpu(integrated))
        let onlyLavapipe = try DeviceRequest.auto.resolve(devices: { [Self.lavapipe] }, shadersAvailable: true)
        XCTAssertEqual(onlyLavapipe.device, .cpu)
        XCTAssertTrue(onlyLavapipe.note?.contains("gpu:0 llvmpipe") == true && onlyLavapipe.note?.contains("--device gpu:N") == true,
                      "says how to use lavapipe anyway: \(onlyLavapipe.note ?? "nil")")
        // Asked by index, the CPU implementation is used.
        XCTAssertEqual(try DeviceRequest.gpu(0).resolve(devices: { [Self.lavapipe] }, shadersAvailable: true).device, .gpu(Self.lavapipe))
        XCTAssertEqual(try DeviceRequest.cpu.resolve(devices: { XCTFail("cpu asks Vulkan nothing"); return [] }, shadersAvailable: true).device, .cpu)
    }

    func testWhatCannotBeHonouredIsSaidAndAutoSettlesForTheCPU() throws {
        let noLoader = { () throws -> [ComputeDeviceInfo] in throw GPUError.noLoader("libvulkan.so.1: cannot open shared object file") }
        let auto = try DeviceRequest.auto.resolve(devices: noLoader, shadersAvailable: true)
        XCTAssertEqual(auto.device, .cpu)
        XCTAssertTrue(auto.note?.contains("no Vulkan loader") == true, auto.note ?? "nil")
        XCTAssertThrowsError(try DeviceRequest.gpu(0).resolve(devices: noLoader, shadersAvailable: true)) {
            XCTAssertEqual($0 as? GPUError, .noLoader("libvulkan.so.1: cannot open shared object file"))
        }
        XCTAssertThrowsError(try DeviceRequest.gpu(3).resolve(devices: { [Self.lavapipe] }, shadersAvailable: true)) {
            XCTAssertTrue("\($0)".contains("there is no gpu:3") && "\($0)".contains("gpu:0 llvmpipe"), "\($0)")
        }
        XCTAssertThrowsError(try DeviceRequest.anyGPU.resolve(devices: { [Self.lavapipe] }, shadersAvailable: true)) {
            XCTAssertEqual($0 as? DeviceError, .noRealGPU(available: [Self.lavapipe]))
            XCTAssertTrue("\($0)".contains("--device gpu:N"), "\($0)")
        }
        XCTAssertEqual(try DeviceRequest.auto.resolve(devices: { [Self.lavapipe] }, shadersAvailable: false).device, .cpu)
        XCTAssertThrowsError(try DeviceRequest.gpu(0).resolve(devices: { [Self.lavapipe] }, shadersAvailable: false)) {
            XCTAssertTrue("\($0)".contains("glslang-tools"), "\($0)")
        }
    }

    func testTheListingNamesTheCPUAndEveryDeviceOrWhatIsMissing() {
        let noLoader = DeviceListing.lines(devices: { throw GPUError.noLoader("libvulkan.so.1 not found") }, shadersAvailable: true)
        XCTAssertTrue(noLoader[0].hasPrefix("cpu "), noLoader[0])
        XCTAssertTrue(noLoader.contains { $0.hasPrefix("no Vulkan loader:") && $0.contains("libvulkan1") }, "\(noLoader)")
        XCTAssertEqual(noLoader.last, "--device auto uses: cpu")
        let noDevice = DeviceListing.lines(devices: { throw GPUError.noDevice("vkCreateInstance failed") }, shadersAvailable: true)
        XCTAssertTrue(noDevice.contains { $0.hasPrefix("no device:") }, "\(noDevice)")
        let empty = DeviceListing.lines(devices: { [] }, shadersAvailable: true)
        XCTAssertTrue(empty.contains { $0.hasPrefix("no device:") }, "\(empty)")
        let h100 = Self.device(1, "NVIDIA H100", .discrete, gib: 80)
        let two = DeviceListing.lines(devices: { [Self.lavapipe, h100] }, shadersAvailable: true)
        XCTAssertEqual(two.count, 4, "\(two)")
        XCTAssertTrue(two[1].hasPrefix("gpu:0  llvmpipe") && two[1].contains("(cpu, 8.0 GiB, fp16 yes, cooperative matrix no)"), two[1])
        XCTAssertEqual(two[3], "--device auto uses: gpu:1 NVIDIA H100 (discrete)")
    }

    /// A GPU fault fails the segment with a `DeviceFault` once, said once in the log, and the selection stays on the
    /// CPU engine; a `GPUError` on the CPU engine is not a device fault.
    func testAGPUFaultLeavesTheWorkerOnTheCPUEngine() throws {
        let lines = LockedLines()
        let gpu = ComputeDevice.gpu(Self.lavapipe)
        let selection = DeviceSelection(gpu) { message, fault in lines.add((fault ? "FAULT " : "note ") + message) }
        XCTAssertEqual(try selection.run { $0 }, gpu)
        XCTAssertThrowsError(try selection.run { _ in throw GPUError.deviceLost("vkQueueSubmit") }) { error in
            guard let fault = error as? DeviceFault else { return XCTFail("\(error)") }
            XCTAssertEqual(fault.error, .deviceLost("vkQueueSubmit"))
            XCTAssertTrue(fault.description.contains("gpu:0 llvmpipe") && fault.description.contains("CPU engine"), fault.description)
        }
        XCTAssertEqual(selection.current, .cpu)
        XCTAssertEqual(selection.initial, gpu)
        XCTAssertEqual(try selection.run { $0 }, .cpu)
        XCTAssertThrowsError(try selection.run { _ in throw GPUError.outOfDeviceMemory("x") }) { XCTAssertTrue($0 is GPUError, "\($0)") }
        selection.note("rife-v4.25 runs on the CPU engine")
        selection.note("rife-v4.25 runs on the CPU engine")
        XCTAssertEqual(lines.all.count, 2, "\(lines.all)")
        XCTAssertTrue(lines.all[0].hasPrefix("FAULT GPU fault on gpu:0"), "\(lines.all)")
    }

    /// `--list-devices`' cooperative-matrix column: "no" without VK_KHR_cooperative_matrix (lavapipe); with it, the
    /// fp16 and 8-bit shapes the driver reports, each once, and a count of the others.
    func testTheCooperativeMatrixColumn() {
        XCTAssertTrue(Self.lavapipe.description.hasSuffix(", fp16 yes, cooperative matrix no)"), Self.lavapipe.description)
        let shapes: [CooperativeMatrixShape] = [
            .init(m: 16, n: 16, k: 16, a: .fp16, b: .fp16, c: .fp16, result: .fp16),
            .init(m: 16, n: 16, k: 16, a: .fp16, b: .fp16, c: .fp32, result: .fp32),
            .init(m: 16, n: 16, k: 16, a: .fp16, b: .fp16, c: .fp32, result: .fp32),
            .init(m: 16, n: 16, k: 32, a: .int8, b: .int8, c: .int32, result: .int32),
            .init(m: 16, n: 16, k: 32, a: .uint8, b: .int8, c: .int32, result: .int32),
            .init(m: 16, n: 8, k: 8, a: .fp32, b: .fp32, c: .fp32, result: .fp32),
        ]
        let h100 = ComputeDeviceInfo(index: 1, name: "NVIDIA H100 80GB HBM3", type: .discrete, memoryBytes: 80 << 30, fp16: true,
                                     cooperativeMatrix: true, cooperativeMatrixShapes: shapes)
        XCTAssertEqual(h100.description, "gpu:1  NVIDIA H100 80GB HBM3  (discrete, 80.0 GiB, fp16 yes, cooperative matrix yes: fp16 16x16x16->fp16, "
                       + "fp16 16x16x16->fp32, int8 16x16x32->int32, uint8/int8 16x16x32->int32, 1 other shape)")
        let silent = ComputeDeviceInfo(index: 0, name: "X", type: .integrated, memoryBytes: 1 << 30, fp16: false, cooperativeMatrix: true)
        XCTAssertEqual(silent.cooperativeMatrixColumn, "cooperative matrix yes (no shapes reported)")
        XCTAssertEqual(CooperativeMatrixShape.Component(vulkan: 0), .fp16)
        XCTAssertEqual(CooperativeMatrixShape.Component(vulkan: 3), .int8)
        XCTAssertEqual(CooperativeMatrixShape.Component(vulkan: 7), .uint8)
        XCTAssertEqual(CooperativeMatrixShape.Component(vulkan: 1_000_141_000), .other)
    }

    /// `--precision` on the CPU engine is ignored with a note; on a GPU it is not.
    func testPrecisionNotes() {
        XCTAssertEqual(GPUPrecision.fp16.note(for: .cpu), "--precision fp16 is ignored on the CPU engine, which computes in fp32")
        XCTAssertNil(GPUPrecision.fp32.note(for: .cpu))
        XCTAssertNil(GPUPrecision.fp16.note(for: .gpu(Self.lavapipe)))
    }

    func testTilesComeFromTheDeviceMemory() {
        XCTAssertEqual(ComputeDevice.cpu.defaultTileSize, 256)
        XCTAssertEqual(GPUTileSize.forMemory(80 << 30), 704, "a 64-channel blob within Vulkan's minimum storage-buffer range")
        XCTAssertEqual(GPUTileSize.forMemory(1 << 30), 256, "a quarter of 1 GiB at 4 KiB per pixel")
        XCTAssertEqual(GPUTileSize.forMemory(256 << 20), 128)
        XCTAssertLessThanOrEqual(704 * 704 * 64 * 4, 1 << 27)
        XCTAssertEqual(GPUTileSize.forMemory(0), 64)
        for bytes: UInt64 in [0, 1 << 20, 1 << 30, 12 << 30, 1 << 40] {
            XCTAssertTrue(RenderRecipe.isValidTileSize(GPUTileSize.forMemory(bytes)), "\(bytes)")
        }
    }

    // MARK: on lavapipe

    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var models: URL { get throws { try ModelLocator.modelsDirectory(currentDirectory: Self.repoRoot) } }

    /// Device 0 (lavapipe here and in CI): a skip without Vulkan, a failure in CI.
    func vulkanDevice() throws -> ComputeDevice {
        do {
            return try DeviceRequest.gpu(0).resolve().device
        } catch {
            throw Fixtures.missing("no Vulkan device 0 (\(error)); install libvulkan1, mesa-vulkan-drivers and glslang-tools")
        }
    }

    /// The upscaler on a Vulkan device gives the CPU engine's frame up to float rounding, with tiles from the device.
    func testTheUpscalerOnAVulkanDeviceMatchesTheCPUEngine() throws {
        let device = try vulkanDevice()
        var image = RGBImage(width: 40, height: 28)
        for c in 0..<3 { for y in 0..<28 { for x in 0..<40 { image[c, y, x] = Float(0.5 + 0.4 * sin(Double(x + 3 * c) * 0.3) * cos(Double(y) * 0.2)) } } }
        let cpu = try NeuralUpscaler(modelName: "realesr-animevideov3", scale: 2, threads: 2, tileSize: 32, modelsDirectory: try models)
        let gpu = try NeuralUpscaler(modelName: "realesr-animevideov3", scale: 2, threads: 2, tileSize: nil, device: device, modelsDirectory: try models)
        XCTAssertEqual(gpu.device, device)
        XCTAssertNil(gpu.fallback)
        XCTAssertEqual(gpu.tileSize, device.defaultTileSize)
        let want = try cpu.apply(image), got = try gpu.apply(image)
        let error = zip(want.pixels, got.pixels).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThanOrEqual(error, 1e-3, "GPU vs CPU engine")
    }

    /// The real device 0 (lavapipe here): no VK_KHR_cooperative_matrix, so no shapes, and the column says "no".
    func testLavapipeHasNoCooperativeMatrices() throws {
        guard case .gpu(let info) = try vulkanDevice() else { return XCTFail("not a GPU") }
        guard info.name.hasPrefix("llvmpipe") else { throw XCTSkip("device 0 is \(info.name), not lavapipe") }
        XCTAssertFalse(info.cooperativeMatrix)
        XCTAssertEqual(info.cooperativeMatrixShapes, [])
        XCTAssertTrue(info.description.hasSuffix("cooperative matrix no)"), info.description)
    }

    /// `precision` reaches the GPU engine: fp16 blobs give a frame close to fp32's (≥ 45 dB, the issue's bar) but not
    /// the same one; the CPU engine ignores it (the same frame as fp32, bit for bit).
    func testPrecisionReachesTheGPUEngine() throws {
        let device = try vulkanDevice()
        var image = RGBImage(width: 32, height: 24)
        for c in 0..<3 { for y in 0..<24 { for x in 0..<32 { image[c, y, x] = Float(0.5 + 0.4 * sin(Double(x + 3 * c) * 0.3) * cos(Double(y) * 0.2)) } } }
        func frame(_ on: ComputeDevice, _ precision: GPUPrecision) throws -> [Float] {
            let u = try NeuralUpscaler(modelName: "realesr-animevideov3", scale: 2, threads: 2, tileSize: 0, device: on, precision: precision,
                                       modelsDirectory: try models)
            XCTAssertNil(u.fallback)
            return try u.apply(image).pixels
        }
        let fp32 = try frame(device, .fp32), fp16 = try frame(device, .fp16)
        let mse = zip(fp32, fp16).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +) / Double(fp32.count)
        let psnr = 10 * log10(1 / mse)
        print("realesr-animevideov3 x2 on \(device): fp16 vs fp32 \(String(format: "%.1f", psnr)) dB")
        XCTAssertNotEqual(fp32, fp16, "fp16 blobs were used")
        XCTAssertGreaterThanOrEqual(psnr, 45)
        XCTAssertEqual(try frame(.cpu, .fp16), try frame(.cpu, .fp32), "the CPU engine ignores the precision")
    }

    /// RIFE on a Vulkan device (the backend has its layers since vulkan-rife): the CPU engine's frame up to float
    /// rounding. A build whose backend lacks one of them runs it on the CPU engine with a line saying so.
    func testRIFEOnAVulkanDeviceMatchesTheCPUEngineOrSaysWhyNot() throws {
        let device = try vulkanDevice()
        var a = RGBImage(width: 48, height: 32), b = RGBImage(width: 48, height: 32)
        for c in 0..<3 { for y in 0..<32 { for x in 0..<48 {
            a[c, y, x] = Float(0.5 + 0.3 * sin(Double(x + c) * 0.25)); b[c, y, x] = Float(0.5 + 0.3 * sin(Double(x + c + 2) * 0.25))
        } } }
        let cpu = try RIFEInterpolator(modelName: "rife-v4.25", threads: 2, modelsDirectory: try models)
        let rife = try RIFEInterpolator(modelName: "rife-v4.25", threads: 2, device: device, modelsDirectory: try models)
        if let fallback = rife.fallback {
            XCTAssertEqual(rife.device, .cpu)
            XCTAssertTrue(fallback.contains("rife-v4.25 runs on the CPU engine") && fallback.contains("gpu:0"), fallback)
        } else {
            XCTAssertEqual(rife.device, device)
        }
        let want = try cpu.interpolate(a, b, at: 0.5), got = try rife.interpolate(a, b, at: 0.5)
        let error = zip(want.pixels, got.pixels).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThanOrEqual(error, 1e-3)
    }

    /// The figure behind `GPUTileSize.bytesPerInputPixel`: device buffers a tile of realesr-animevideov3 ×2 holds, per
    /// input pixel, must stay under the estimate the tile sizes are computed from.
    func testTheTileEstimateCoversWhatATileHoldsOnTheDevice() throws {
        guard case .gpu(let info) = try vulkanDevice() else { return XCTFail("not a GPU") }
        let dir = try models.appendingPathComponent("realesr-animevideov3")
        let net = try Net(paramURL: dir.appendingPathComponent("realesr-animevideov3-x2.param"),
                          weightsURL: dir.appendingPathComponent("realesr-animevideov3-x2.bin"), options: EngineOptions(threads: 2))
        let gpu = try GPUNet(net: net, device: info.index)
        let side = 48  // lavapipe on 2 shared cores: about 65 MFLOP/s here, so small (a 96x96 tile took 5 minutes)
        let input = Tensor(channels: 3, height: side, width: side)
        _ = try gpu.run(inputs: [net.inputNames[0]: input], outputs: [net.definitions.last!.tops[0]])
        let perPixel = Double(gpu.bufferBytes) / Double(side * side)
        print("realesr-animevideov3-x2, \(side)x\(side) tile on \(info.name): \(gpu.bufferBytes) bytes of buffers, \(Int(perPixel)) per input pixel")
        XCTAssertLessThanOrEqual(perPixel, 4096)  // GPUTileSize.bytesPerInputPixel
        XCTAssertGreaterThan(perPixel, 256, "at least one 64-channel fp32 blob per pixel: the measurement measures something")
    }
}

final class LockedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func add(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}
