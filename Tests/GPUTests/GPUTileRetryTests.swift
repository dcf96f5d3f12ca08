import Foundation
import Inference
import TestSupport
import XCTest

private typealias S = GPUTestSupport

/// Issue 17 item 4, out of device memory in the middle of a frame: `TiledUpscaler` frees the cached buffers, halves
/// the tile and runs the frame again on the GPU, keeping the smaller tile for later frames; only when the smallest tile
/// fails too does the error reach the caller (a worker then goes on with the CPU engine: DeviceCommandLineTests runs
/// that through the executables with the LUMIERE_GPU_FAULT hook). What a retried frame is: each core pixel is computed
/// from the same input pixels, in the same order, whatever the tiling, once the context covers the receptive field, so
/// on the direct convolution shaders the retried frame is the unfaulted one bit for bit (measured here, not assumed).
/// Winograd (the default for 3×3 layers with enough channels and pixels) sums in an order that depends on where a pixel
/// falls in its 2×2 / 4×4 transform tile, which moves with the tiling, and the rule may pick another algorithm for a
/// smaller tile: there the retried frame is the unfaulted one within fp32 rounding (`sameFrame`).
final class GPUTileRetryTests: XCTestCase {
    /// A GPU network on a device that is too small: a run on more than `pixels` input pixels fails as out of device
    /// memory, the first `times` such runs (nil: every one), before anything reaches the GPU.
    final class SmallDevice: InferenceRunner {
        let gpu: GPUNet
        let pixels: Int
        var times: Int?
        private(set) var refused: [Int] = []
        var inputNames: [String] { gpu.inputNames }

        init(_ gpu: GPUNet, pixels: Int, times: Int?) { self.gpu = gpu; self.pixels = pixels; self.times = times }

        func run(inputs: [String: Tensor], outputs: [String]) throws -> [String: Tensor] {
            let area = inputs.values.map { $0.width * $0.height }.max() ?? 0
            if area > pixels, times.map({ $0 > 0 }) ?? true {
                times = times.map { $0 - 1 }
                refused.append(area)
                throw GPUError.outOfDeviceMemory("a \(area)-pixel tile (the test's small device)")
            }
            return try gpu.run(inputs: inputs, outputs: outputs)
        }
    }

    /// Three 3×3 convolutions (16 channels, ReLU fused) and a ×2 PixelShuffle: receptive radius 3, so 3 pixels of
    /// context make any tiling exact; small enough for lavapipe at 64×48.
    static func convolutionStack() throws -> Net {
        var r = S.Random(seed: 170)
        let bytes = S.weights(tagged: r.values(16 * 3 * 9, -0.4, 0.4), raw: [r.values(16, -0.1, 0.1)])
            + S.weights(tagged: r.values(16 * 16 * 9, -0.2, 0.2), raw: [r.values(16, -0.1, 0.1)])
            + S.weights(tagged: r.values(12 * 16 * 9, -0.2, 0.2), raw: [r.values(12, -0.1, 0.1)])
        return try S.net(inputs: 1, layers: [
            "Convolution c1 1 1 in0 c1 0=16 1=3 4=1 5=1 6=432 9=1",
            "Convolution c2 1 1 c1 c2 0=16 1=3 4=1 5=1 6=2304 9=1",
            "Convolution c3 1 1 c2 c3 0=12 1=3 4=1 5=1 6=1728",
            "PixelShuffle ps 1 1 c3 out 0=2",
        ], weights: bytes)
    }

    /// Loads `net` for the GPU with Winograd on (the default) or off (LUMIERE_GPU_WINOGRAD=off, read at load).
    static func gpu(_ net: Net, device: Int, winograd: Bool) throws -> GPUNet {
        let before = getenv("LUMIERE_GPU_WINOGRAD").map { String(cString: $0) }
        defer { if let before { setenv("LUMIERE_GPU_WINOGRAD", before, 1) } else { unsetenv("LUMIERE_GPU_WINOGRAD") } }
        if winograd { unsetenv("LUMIERE_GPU_WINOGRAD") } else { setenv("LUMIERE_GPU_WINOGRAD", "off", 1) }
        return try GPUNet(net: net, device: device)
    }

    /// A retried frame against the unfaulted one: bit for bit on the direct shaders; within 1e-5 with Winograd (its
    /// rounding moves with the tiling; measured on lavapipe: 3.1e-6 for the convolution stack, 1.8e-7 for animevideov3 ×2).
    func sameFrame(_ retried: Tensor, _ unfaulted: Tensor, winograd: Bool, _ what: String, line: UInt = #line) {
        XCTAssertEqual(retried.shapeDescription, unfaulted.shapeDescription, line: line)
        if !winograd { return XCTAssertEqual(retried.toArray(), unfaulted.toArray(), "\(what), bit for bit", line: line) }
        let difference = zip(retried.toArray(), unfaulted.toArray()).map { abs($0 - $1) }.max() ?? .infinity
        print("\(what), Winograd: max difference \(difference)")
        XCTAssertLessThanOrEqual(difference, 1e-5, "\(what), within fp32 rounding", line: line)
    }

    /// The lines an upscaler said.
    final class Notes { var lines: [String] = [] }

    private func upscaler(_ runner: InferenceRunner, context: Int, notes: Notes? = nil) throws -> TiledUpscaler {
        let u = try TiledUpscaler(net: runner, inputName: "in0", outputName: "out", scale: 2, border: .samePadding(context: context),
                                  clampOutput: false)
        if let notes { u.note = { notes.lines.append($0) } }
        return u
    }

    /// A 64×48 frame in 64-pixel tiles on a device that holds only 1600 input pixels: the frame is retried in 32-pixel
    /// tiles (each under 1600 with its context) and comes out as the unfaulted one-tile run (`sameFrame`); the next frame
    /// starts at 32 and is refused nothing.
    func testAFrameRetriedWithSmallerTilesIsTheUnfaultedFrame() throws {
        let device = try S.deviceIndex()
        let net = try GPUTileRetryTests.convolutionStack()
        for winograd in [false, true] {
            let gpu = try GPUTileRetryTests.gpu(net, device: device, winograd: winograd)
            let image = S.tensor(3, 48, 64, seed: 171, range: 0...1)
            let unfaulted = try upscaler(gpu, context: 3).upscale(image, tileSize: 64)
            let cpu = try upscaler(net, context: 3).upscale(image, tileSize: 64)
            XCTAssertLessThanOrEqual(zip(unfaulted.toArray(), cpu.toArray()).map { abs($0 - $1) }.max() ?? .infinity, 1e-4, "a real result")

            let notes = Notes()
            let small = SmallDevice(gpu, pixels: 1600, times: nil)
            let tiled = try upscaler(small, context: 3, notes: notes)
            let retried = try tiled.upscale(image, tileSize: 64)
            XCTAssertEqual(small.refused, [64 * 48], "one refusal: the whole frame")
            XCTAssertEqual(tiled.reducedTileSize, 32)
            XCTAssertEqual(notes.lines.count, 1)
            XCTAssertTrue(notes.lines.first?.hasPrefix("out of GPU memory with 64-pixel tiles: retrying the frame on the GPU with 32-pixel tiles (") == true,
                          "\(notes.lines)")
            sameFrame(retried, unfaulted, winograd: winograd, "the retried frame is the unfaulted frame")
            // Sanity: the frame was really cut (a seam at x = 32 with 3 pixels of context) and the cut is invisible only
            // because the context covers the receptive field: with none, the seams show.
            let blind = try upscaler(gpu, context: 0).upscale(image, tileSize: 32)
            XCTAssertGreaterThan(zip(blind.toArray(), unfaulted.toArray()).map { abs($0 - $1) }.max() ?? 0, 1e-3)

            let next = try tiled.upscale(image, tileSize: 64)
            XCTAssertEqual(small.refused.count, 1, "the next frame starts at the smaller tile")
            sameFrame(next, unfaulted, winograd: winograd, "the next frame")
        }
    }

    /// The same on a shipped model at the catalogue's context (realesr-animevideov3 ×2, 20 pixels) on a real photo
    /// crop: 56×40 in one tile, then retried in four 28×20 tiles (their inputs differ along x: 0..<48 and 8..<56); the
    /// same frame (`sameFrame`).
    func testAShippedModelRetriedWithSmallerTilesIsTheUnfaultedFrame() throws {
        let device = try S.deviceIndex()
        let stem = GPUModelTests.models.appendingPathComponent("realesr-animevideov3/realesr-animevideov3-x2")
        let net = try Net(paramURL: stem.appendingPathExtension("param"), weightsURL: stem.appendingPathExtension("bin"),
                          options: EngineOptions(threads: 2))
        let image = try GPUModelTests.crop(width: 56, height: 40)
        func upscaler(_ runner: InferenceRunner) throws -> TiledUpscaler {
            try TiledUpscaler(net: runner, inputName: net.inputNames[0], outputName: net.definitions.last!.tops[0], scale: 2,
                              border: .samePadding(context: 20))
        }
        for winograd in [false, true] {
            let gpu = try GPUTileRetryTests.gpu(net, device: device, winograd: winograd)
            let unfaulted = try upscaler(gpu).upscale(image, tileSize: 56)
            let small = SmallDevice(gpu, pixels: 56 * 40 - 1, times: 1)
            let retried = try upscaler(small).upscale(image, tileSize: 56)
            XCTAssertEqual(small.refused, [56 * 40])
            sameFrame(retried, unfaulted, winograd: winograd, "across the cores meeting at x = 28 and y = 20")
        }
    }

    /// A device that holds no tile at all: 64, then 32, then 16-pixel tiles fail, and the error reaches the caller with
    /// a line that says the smallest tile failed too (a worker then goes on with the CPU engine).
    func testTheSmallestTileFailingReachesTheCaller() throws {
        let device = try S.deviceIndex()
        let gpu = try GPUNet(net: try GPUTileRetryTests.convolutionStack(), device: device)
        let notes = Notes()
        let small = SmallDevice(gpu, pixels: 0, times: nil)
        let tiled = try upscaler(small, context: 3, notes: notes)
        XCTAssertThrowsError(try tiled.upscale(S.tensor(3, 48, 64, seed: 172, range: 0...1), tileSize: 64)) { error in
            guard case GPUError.outOfDeviceMemory(let what)? = error as? GPUError else { return XCTFail("\(error)") }
            XCTAssertTrue(what.contains("test's small device"), what)
        }
        XCTAssertEqual(small.refused.count, 3, "64, 32 and 16-pixel tiles, one refusal each (the first tile of each)")
        XCTAssertEqual(notes.lines.count, 3, "\(notes.lines)")
        XCTAssertTrue(notes.lines.last?.hasPrefix("out of GPU memory even with 16-pixel tiles, the smallest tried: giving up the GPU (") == true,
                      "\(notes.lines)")
        XCTAssertEqual(tiled.reducedTileSize, 16)
    }

    /// Other GPU errors are not retried: a lost device goes straight to the caller.
    func testALostDeviceIsNotRetried() throws {
        final class Lost: InferenceRunner {
            var calls = 0
            var inputNames: [String] { ["in0"] }
            func run(inputs: [String: Tensor], outputs: [String]) throws -> [String: Tensor] {
                calls += 1
                throw GPUError.deviceLost("the test")
            }
        }
        let lost = Lost()
        let tiled = try upscaler(lost, context: 3)
        XCTAssertThrowsError(try tiled.upscale(S.tensor(3, 48, 64, seed: 173, range: 0...1), tileSize: 64)) {
            XCTAssertEqual($0 as? GPUError, .deviceLost("the test"))
        }
        XCTAssertEqual(lost.calls, 1)
        XCTAssertNil(tiled.reducedTileSize)
    }
}
