import Foundation
import Inference
import TestSupport
import XCTest

/// Every shipped super-resolution model the GPU backend runs, end to end on a real photo crop (32×24: lavapipe runs
/// animevideov3 at 48×40 in about 35 s on this machine's two shared cores, see docs/engine.md), through
/// `TiledUpscaler` on both engines: within 1e-3 of the CPU engine on the 0…1 scale.
final class GPUModelTests: XCTestCase {
    static let models = Fixtures.repositoryRoot.appendingPathComponent("models")

    /// A width × height crop of a real photo as a 3 × h × w tensor in 0…1 (decoded by the ffmpeg CLI: a test fixture).
    static func crop(_ file: String = "photos/LadyBird.jpg", width: Int = 32, height: Int = 24, x: Int = 180, y: Int = 120) throws -> Tensor {
        let photo = try Fixtures.requireFootage(file)
        let rgb = [UInt8](try Fixtures.runData("ffmpeg", ["-v", "error", "-i", photo, "-vf", "crop=\(width):\(height):\(x):\(y)",
                                                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]))
        guard rgb.count == width * height * 3 else { throw XCTSkip("ffmpeg gave \(rgb.count) bytes for the crop") }
        let t = Tensor(channels: 3, height: height, width: width)
        t.withUnsafeMutableValues { v in
            for c in 0..<3 { for i in 0..<(width * height) { v[c * width * height + i] = Float(rgb[i * 3 + c]) / 255 } }
        }
        return t
    }

    /// Runs `stem` (relative to models/) on the crop with the CPU engine and on the GPU; returns (max error, GPU seconds).
    @discardableResult
    func check(_ stem: String, scale: Int, border: TiledUpscaler.Border, tileSize: Int? = nil) throws -> (Float, Double) {
        let device = try GPUTestSupport.deviceIndex()
        let image = try GPUModelTests.crop()
        let net = try Net(paramURL: GPUModelTests.models.appendingPathComponent(stem + ".param"),
                          weightsURL: GPUModelTests.models.appendingPathComponent(stem + ".bin"), options: EngineOptions(threads: 2))
        let input = net.inputNames[0], output = net.definitions.last!.tops[0]
        let want = try TiledUpscaler(net: net, inputName: input, outputName: output, scale: scale, border: border).upscale(image, tileSize: tileSize)
        let gpu = try GPUNet(net: net, device: device)
        let start = Date()
        let got = try TiledUpscaler(net: gpu, inputName: input, outputName: output, scale: scale, border: border).upscale(image, tileSize: tileSize)
        let seconds = Date().timeIntervalSince(start)
        XCTAssertEqual(got.shapeDescription, want.shapeDescription)
        let error = got.withUnsafeValues { g in want.withUnsafeValues { w in zip(g, w).map { abs($0 - $1) }.max() ?? .infinity } }
        XCTAssertLessThanOrEqual(error, 1e-3, "\(stem) on \(gpu.device.name): GPU differs from the CPU engine by \(error)")
        // The output is a picture, not zeros: a GPU that wrote nothing would fail above, unless the CPU also gave zeros.
        XCTAssertGreaterThan(want.withUnsafeValues { $0.max() ?? 0 }, 0.1)
        print("\(stem): max |GPU - CPU| = \(error), GPU \(String(format: "%.2f", seconds)) s on \(gpu.device.name)")
        return (error, seconds)
    }

    func testAnimeVideoV3x2() throws { try check("realesr-animevideov3/realesr-animevideov3-x2", scale: 2, border: .samePadding(context: 20)) }
    func testAnimeVideoV3x3() throws { try check("realesr-animevideov3/realesr-animevideov3-x3", scale: 3, border: .samePadding(context: 20)) }
    func testAnimeVideoV3x4() throws { try check("realesr-animevideov3/realesr-animevideov3-x4", scale: 4, border: .samePadding(context: 20)) }
    func testGeneralX4() throws { try check("realesr-general-x4v3/RealESRGAN_General_x4_v3", scale: 4, border: .samePadding(context: 34)) }
    func testGeneralWDNX4() throws { try check("realesr-general-wdn-x4v3/RealESRGAN_General_WDN_x4_v3", scale: 4, border: .samePadding(context: 34)) }
    func testWaifu2xUpconv7() throws {
        try check("waifu2x-upconv7-photo/noise1_scale2.0x_model", scale: 2, border: .valid(padding: 7))
    }
    /// Tiles on the GPU: four 16×12 tiles with 4 pixels of context (the CPU side tiles the same way, so the context
    /// need not cover the receptive field here), the pool's buffers reused from tile to tile.
    func testTiledOnTheGPU() throws {
        try check("realesr-animevideov3/realesr-animevideov3-x2", scale: 2, border: .samePadding(context: 4), tileSize: 16)
    }
}
