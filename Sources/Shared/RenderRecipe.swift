import Foundation

/// What a worker does to a segment's frames, sent with each assignment. Plain data: the coordinator
/// decides everything (sizes included) so every worker produces the same frames for the same segment.
public struct RenderRecipe: Codable, Sendable, Equatable {
    /// `lanczos`, a super-resolution model name (`realesr-general`, `realesr-animevideov3`, …), or the absolute path
    /// of the user's own ncnn model's `.param` (with `modelParamSHA256` and `modelWeightsSHA256`).
    public var processor: String
    /// Own model only: the SHA-256 of its `.param` and of its `.bin`. A worker runs the model only when its files at
    /// `processor` hash the same; and they make the job's resume keys change when the model's files change.
    /// nil for the catalogue's models (whose recipes, and so resume keys, stay as they were).
    public var modelParamSHA256: String?
    public var modelWeightsSHA256: String?
    /// The longest own-model path a recipe carries (the recipe must fit `maxEncodedBytes`).
    public static let maxModelPathBytes = 1024
    /// Denoise level for models that have one (waifu2x: 0…3).
    public var noise: Int?
    /// The model's own scale factor to run at (2, 3, 4), when it has several.
    public var modelScale: Int?
    /// Size of the restored picture (before any padding, which the coordinator adds when assembling).
    public var contentWidth: Int
    public var contentHeight: Int
    /// Largest tile side the engine processes at once (bounds memory); nil = the engine's default.
    public var tileSize: Int?
    /// The one rule for tile sides, shared by the CLI, the recipe a worker decodes and the engine:
    /// 0 (the whole frame at once) or 32…8192 input pixels.
    public static func isValidTileSize(_ side: Int) -> Bool { side == 0 || (32...8192).contains(side) }
    /// Frame-rate conversion (`restore --fps`); nil = one output frame per input frame.
    public var retime: RetimeRecipe?
    /// The filter the coordinator deinterlaced the source with before the segment inputs were written
    /// (`bwdif=…`); nil = frames as decoded. Workers do not apply it; it is here so that a job's fingerprint
    /// (and so its resume keys) changes with it: results made from other frames are never reused.
    public var deinterlaced: String?
    /// Pixel format of the results workers send back (planar RGB, `gbrp10le` … `gbrp16le`), chosen by the
    /// coordinator to be finer than the output; nil = gbrp10le (for 8-bit output, and recipes from older coordinators).
    public var resultPixelFormat: String?
    /// How workers hand back the frames no seam touches: encoded in the job's final codec on the output canvas, so the
    /// head node joins them without re-encoding (issue 16). nil: every frame comes back lossless and the head node
    /// encodes the film (image-sequence outputs; recipes from older coordinators).
    public var delivery: Delivery?
    /// Film restoration stages (`restore --deflicker/--dust/--stabilise/--restore-film`), run by the worker at source size
    /// on the decoded frames, before super-resolution and interpolation. nil: none (and recipes, so resume keys, as before).
    public var film: FilmRestoration?

    /// Which temporal stages run and how strongly; a nil strength leaves the stage out. They always run in the order
    /// deflicker → dust → stabilise (docs/film-restoration.md says why), whatever order the options came in.
    public struct FilmRestoration: Codable, Sendable, Equatable {
        public var deflicker: Double?
        public var dust: Double?
        public var stabilise: Double?

        public init(deflicker: Double? = nil, dust: Double? = nil, stabilise: Double? = nil) {
            self.deflicker = deflicker; self.dust = dust; self.stabilise = stabilise
        }

        /// The strengths each stage accepts: the fraction of the correction for deflicker and stabilise; for dust, the
        /// detection threshold's divisor (0.07 luma / strength). The stages check the same ranges.
        public static let deflickerRange: ClosedRange<Double> = 0.01...1
        public static let dustRange: ClosedRange<Double> = 0.01...4
        public static let stabiliseRange: ClosedRange<Double> = 0.01...1

        public var isEmpty: Bool { deflicker == nil && dust == nil && stabilise == nil }

        public func validate() throws {
            guard !isEmpty else { throw RecipeError.invalid("film restoration with no stage") }
            for (name, value, range) in [("deflicker", deflicker, FilmRestoration.deflickerRange), ("dust", dust, FilmRestoration.dustRange),
                                         ("stabilise", stabilise, FilmRestoration.stabiliseRange)] {
                if let value, !(value.isFinite && range.contains(value)) {
                    throw RecipeError.invalid("\(name) strength \(value), expected \(range.lowerBound)…\(range.upperBound)")
                }
            }
        }
    }

    /// The job's final encoding, as plain fields (Shared knows no codecs): the worker builds the same encoder the head
    /// node would, so a segment's frames are the same bytes whoever encodes them.
    public struct Delivery: Codable, Sendable, Equatable {
        /// `h264` or `ffv1`: the codecs whose streams join by concatenation (every piece starts with a key frame).
        public var codec: String
        public var crf: Int
        public var preset: String
        public var pixelFormat: String
        /// The output frame and where the content sits on it (black borders around it).
        public var canvasWidth: Int
        public var canvasHeight: Int
        public var offsetX: Int
        public var offsetY: Int

        public init(codec: String, crf: Int, preset: String, pixelFormat: String, canvasWidth: Int, canvasHeight: Int, offsetX: Int, offsetY: Int) {
            self.codec = codec; self.crf = crf; self.preset = preset; self.pixelFormat = pixelFormat
            self.canvasWidth = canvasWidth; self.canvasHeight = canvasHeight; self.offsetX = offsetX; self.offsetY = offsetY
        }

        public static let codecs: Set<String> = ["h264", "ffv1"]

        func validate(content: PixelSize) throws {
            guard Delivery.codecs.contains(codec) else { throw RecipeError.invalid("delivery codec \(codec.prefix(32))") }
            guard (0...51).contains(crf) else { throw RecipeError.invalid("delivery crf \(crf)") }
            let name: (String) -> Bool = { $0.utf8.count <= 32 && $0.utf8.allSatisfy { (48...57).contains($0) || (97...122).contains($0) } }
            guard name(preset), name(pixelFormat), !pixelFormat.isEmpty else { throw RecipeError.invalid("delivery preset or pixel format") }
            guard (2...16384).contains(canvasWidth), (2...16384).contains(canvasHeight), offsetX >= 0, offsetY >= 0,
                  offsetX + content.width <= canvasWidth, offsetY + content.height <= canvasHeight else {
                throw RecipeError.invalid("content \(content) does not fit the \(canvasWidth)x\(canvasHeight) canvas at +\(offsetX)+\(offsetY)")
            }
        }
    }

    public init(processor: String, noise: Int? = nil, modelScale: Int? = nil, contentWidth: Int, contentHeight: Int, tileSize: Int? = nil,
                retime: RetimeRecipe? = nil) {
        self.processor = processor
        self.noise = noise
        self.modelScale = modelScale
        self.contentWidth = contentWidth
        self.contentHeight = contentHeight
        self.tileSize = tileSize
        self.retime = retime
    }

    public var contentSize: PixelSize { PixelSize(width: contentWidth, height: contentHeight) }

    /// The result formats a worker accepts: planar RGB, 10 to 16 bits, that FFV1 codes losslessly.
    public static let resultPixelFormats: Set<String> = ["gbrp10le", "gbrp12le", "gbrp14le", "gbrp16le"]
    /// Recipes are small; anything larger is not a recipe. The wire's limit for the recipe field is this one.
    public static let maxEncodedBytes = 4096

    /// The canonical encoding (JSON, sorted keys) an assignment carries.
    public func json() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array((try? encoder.encode(self)) ?? Data())
    }

    public enum RecipeError: Error, CustomStringConvertible, Equatable {
        case missing
        case invalid(String)
        public var description: String {
            switch self {
            case .missing: return "the assignment carries no render recipe; coordinator and worker versions may differ"
            case .invalid(let why): return "the render recipe is invalid: \(why)"
            }
        }
    }

    /// Decodes and validates a recipe from an assignment (untrusted: size-limited, sizes bounded).
    public init(json: [UInt8]) throws {
        guard json.count <= RenderRecipe.maxEncodedBytes else {
            throw RecipeError.invalid("\(json.count) bytes, above the limit of \(RenderRecipe.maxEncodedBytes)")
        }
        do {
            self = try JSONDecoder().decode(RenderRecipe.self, from: Data(json))
        } catch {
            throw RecipeError.invalid("not a recipe (\(error))")
        }
        guard (2...16384).contains(contentWidth), (2...16384).contains(contentHeight) else {
            throw RecipeError.invalid("content size \(contentWidth)x\(contentHeight) out of range")
        }
        if let noise, !(0...3).contains(noise) { throw RecipeError.invalid("noise \(noise)") }
        if processor.contains("/") || processor.hasSuffix(".param") {
            guard processor.hasPrefix("/"), processor.hasSuffix(".param"), processor.utf8.count <= RenderRecipe.maxModelPathBytes else {
                throw RecipeError.invalid("model path \(processor.prefix(200)) is not an absolute .param path of at most \(RenderRecipe.maxModelPathBytes) bytes")
            }
            for digest in [modelParamSHA256, modelWeightsSHA256] {
                guard let digest, digest.utf8.count == 64, digest.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
                    throw RecipeError.invalid("the model \(processor) comes without the SHA-256 of its .param and .bin")
                }
            }
        } else if modelParamSHA256 != nil || modelWeightsSHA256 != nil {
            throw RecipeError.invalid("model hashes given for \(processor), which is not a model path")
        }
        if let modelScale, !(1...8).contains(modelScale) { throw RecipeError.invalid("model scale \(modelScale)") }
        if let tileSize, !RenderRecipe.isValidTileSize(tileSize) { throw RecipeError.invalid("tile size \(tileSize)") }
        if let retime { _ = try retime.validated() }
        try delivery?.validate(content: contentSize)
        try film?.validate()
        if let format = resultPixelFormat, !RenderRecipe.resultPixelFormats.contains(format) {
            throw RecipeError.invalid("result pixel format \(format); expected one of \(RenderRecipe.resultPixelFormats.sorted().joined(separator: ", "))")
        }
    }
}
