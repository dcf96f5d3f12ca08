import Foundation
import Inference
import TestSupport
import XCTest

/// The farm must write the same film whichever worker renders a segment (a retry, a speculative
/// copy, a resumed job or a worker with another `--worker-threads`): every shipped model on a real
/// image crop must give bit-identical outputs at 1, 2, 3 and 4 engine threads. RIFE v4.0 on pens.mp4
/// (176×144, padded to 192×160) once gave a different film at 1 and 2 threads: OpenBLAS chose its
/// K blocking (and its small-matrix "direct" kernel) by thread count for the GEMM convolutions of the
/// coarsest flow block (EngineOptions.swift, `ExecutionContext.sgemm`).
final class ThreadCountDeterminismTests: XCTestCase {
    static let threadCounts = [1, 2, 3, 4]

    /// A crop of a real photo or frame as a 3×h×w tensor of 0…1 values (decoded with the ffmpeg CLI, test-only).
    static func crop(_ relative: String, x: Int, y: Int, width: Int, height: Int) throws -> Tensor {
        let path = try Fixtures.requireFootage(relative)
        let data = try Fixtures.runData("ffmpeg", ["-v", "error", "-i", path, "-vf", "crop=\(width):\(height):\(x):\(y)", "-frames:v", "1",
                                                   "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        let bytes = [UInt8](data)
        guard bytes.count == width * height * 3 else {
            throw XCTSkip("ffmpeg gave \(bytes.count) bytes for a \(width)x\(height) crop of \(relative)")
        }
        let t = Tensor(dims: 3, channels: 3, height: height, width: width)
        t.withUnsafeMutableValues { v in
            for c in 0..<3 { for i in 0..<(width * height) { v[c * width * height + i] = Float(bytes[i * 3 + c]) / 255 } }
        }
        return t
    }

    static func filled(_ value: Float, height: Int, width: Int) -> Tensor {
        let t = Tensor(dims: 3, channels: 1, height: height, width: width)
        t.withUnsafeMutableValues { $0.update(repeating: value) }
        return t
    }

    static func bits(_ t: Tensor) -> [UInt32] { t.withUnsafeValues { $0.map(\.bitPattern) } }

    /// Runs `model` (relative to models/, without extension) at every thread count and requires the
    /// output bits of 2, 3 and 4 threads to equal those of 1 thread. On a mismatch, names the first
    /// blob (layer order, unfused) that differs.
    func check(_ model: String, inputs given: [String: Tensor], registry: LayerRegistry = .standard,
               file: StaticString = #filePath, line: UInt = #line) throws {
        let dir = NcnnReference.modelsDirectory
        let param = dir.appendingPathComponent(model + ".param"), bin = dir.appendingPathComponent(model + ".bin")
        try Fixtures.require(FileManager.default.fileExists(atPath: param.path), "model \(model) is not in \(dir.path)")
        func net(_ threads: Int, fused: Bool = true) throws -> Net {
            var options = EngineOptions(threads: threads)
            options.fuseLayers = fused
            return try Net(paramURL: param, weightsURL: bin, options: options, registry: registry)
        }
        let reference = try net(1)
        // A single image goes to the network's only input, whatever the converter named it.
        let inputs = given["image"].map { [reference.inputNames[0]: $0] } ?? given
        let output = try XCTUnwrap(reference.definitions.last?.tops.last)
        let want = try XCTUnwrap(try reference.run(inputs: inputs, outputs: [output])[output])
        let wantBits = Self.bits(want)
        XCTAssertTrue(wantBits.allSatisfy { Float(bitPattern: $0).isFinite }, "\(model): non-finite output", file: file, line: line)
        for threads in Self.threadCounts.dropFirst() {
            let got = try XCTUnwrap(try net(threads).run(inputs: inputs, outputs: [output])[output])
            let gotBits = Self.bits(got)
            let differing = zip(wantBits, gotBits).filter { $0 != $1 }.count
            XCTAssertEqual(got.shapeDescription, want.shapeDescription, "\(model) \(threads) threads: shape", file: file, line: line)
            guard differing > 0 else { continue }
            let err = ReferenceCases.maxError(got, want)
            // Where it starts: every blob, unfused, 1 thread against `threads`.
            let blobs = reference.definitions.flatMap(\.tops)
            let all1 = try net(1, fused: false).run(inputs: inputs, outputs: blobs)
            let allN = try net(threads, fused: false).run(inputs: inputs, outputs: blobs)
            var first = "none (only the fused path differs)"
            search: for d in reference.definitions {
                for top in d.tops {
                    guard let a = all1[top], let b = allN[top] else { continue }
                    if Self.bits(a) != Self.bits(b) {
                        first = "\(d.type) \(d.name) → \(top) \(a.shapeDescription), max |Δ| \(ReferenceCases.maxError(a, b))"
                        break search
                    }
                }
            }
            XCTFail("\(model): \(threads) threads differ from 1 thread in \(differing) of \(wantBits.count) values (max |Δ| \(err)); "
                    + "first differing blob: \(first)", file: file, line: line)
        }
    }

    /// A frame pair as RIFE sees it from pens.mp4 (176×144 padded to 192×160 for v4.0's multiple of 32, to
    /// 192×192 for v4.25's 64) and a larger one, at t = 0.5.
    func checkRIFE(_ model: String, sizes: [(Int, Int)]) throws {
        for (w, h) in sizes {
            let in0 = try Self.crop("framepairs/rubberwhale1.png", x: 100, y: 80, width: w, height: h)
            let in1 = try Self.crop("framepairs/rubberwhale2.png", x: 100, y: 80, width: w, height: h)
            try check(model, inputs: ["in0": in0, "in1": in1, "in2": Self.filled(0.5, height: h, width: w)], registry: .withRIFE)
        }
    }

    func testRIFEv40() throws { try checkRIFE("rife-v4.0-ncnn/flownet", sizes: [(192, 160), (448, 256)]) }
    func testRIFEv425() throws { try checkRIFE("rife-v4.25-ncnn/flownet", sizes: [(192, 192), (448, 256)]) }

    func testRealESRAnimeVideoV3() throws {
        let x = try Self.crop("photos/LadyBird.jpg", x: 300, y: 200, width: 96, height: 72)
        for scale in [2, 3, 4] {
            try check("realesr-animevideov3/realesr-animevideov3-x\(scale)", inputs: ["image": x])
        }
    }

    func testRealESRGeneral() throws {
        let x = try Self.crop("photos/LadyBird.jpg", x: 300, y: 200, width: 80, height: 64)
        try check("realesr-general-x4v3/RealESRGAN_General_x4_v3", inputs: ["image": x])
        try check("realesr-general-wdn-x4v3/RealESRGAN_General_WDN_x4_v3", inputs: ["image": x])
    }

    /// RRDBNet: 351 convolutions, so a small crop.
    func testRealESRGANx4plus() throws {
        let x = try Self.crop("photos/LadyBird.jpg", x: 300, y: 200, width: 32, height: 24)
        try check("realesrgan-x4plus/realesrgan-x4plus", inputs: ["image": x])
    }

    func testWaifu2xPhoto() throws {
        let x = try Self.crop("photos/flower.png", x: 1000, y: 600, width: 96, height: 80)
        for stem in ["scale2.0x_model", "noise0_scale2.0x_model", "noise3_scale2.0x_model"] {
            try check("waifu2x-upconv7-photo/\(stem)", inputs: ["image": x])
        }
    }
}
