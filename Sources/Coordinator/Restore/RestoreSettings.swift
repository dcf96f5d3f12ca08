import CommandLineSupport
import Foundation
import Media
import Processors
import Shared

/// Everything a restore needs to know, validated before any frame is decoded.
public struct RestoreSettings: Sendable {
    public var input: String
    public var output: String
    public var geometry: OutputGeometry.Request
    /// `lanczos` (classical), a super-resolution model (`FilterFactory.knownProcessors`), or the path of the user's
    /// own ncnn `.param` (`OwnModel`).
    public var processor: String
    /// waifu2x-photo's denoise level, 0…3.
    public var noise: Int?
    /// Engine tile side in input pixels (bounds memory); nil = the engine's default.
    public var tileSize: Int?
    public var encoding: VideoEncoding
    public var threads: Int
    /// Suppress progress output (tests).
    public var quiet: Bool
    /// Replace an output file that exists already (`--overwrite`). Off: refused before any work, and a file that
    /// appears at the output while the job runs is not replaced either (`OutputTarget.publish`).
    public var overwrite = false
    /// Frame-rate conversion (`--fps`); nil keeps the source's frames and rate.
    public var retime: RetimeSettings?
    /// Interlaced input (`--interlaced`): deinterlaced where detected unless told otherwise.
    public var interlacing: InterlaceMode = .auto
    /// An image sequence's frame rate (`--input-rate`).
    public var inputRate: Rational?
    /// The video stream to restore (`--video-stream`); nil: FFmpeg's best pick.
    public var videoStream: Int?
    /// Only part of the film (`--start`, `--duration`, `--frames`), with its audio: every reader of the source sees just
    /// these frames, so the pipeline's phases need not know.
    public var trim: MediaSource.Trim?

    /// The first file number of an input sequence, which an output sequence keeps (frame 86400 stays 86400; trimmed,
    /// the first kept frame's number).
    public var sequenceStart: Int? { source.isSequence ? (try? source.sequenceFiles())?.first.map { $0.number + Int(trim?.first ?? 0) } : nil }

    /// The film as every reader opens it.
    public var source: MediaSource { MediaSource(path: input, sequenceRate: inputRate, videoStream: videoStream, interlacing: interlacing, trim: trim) }

    public init(input: String, output: String, geometry: OutputGeometry.Request = .scale(2), processor: String = "lanczos", noise: Int? = nil, tileSize: Int? = nil,
                encoding: VideoEncoding = VideoEncoding(), threads: Int = 0, quiet: Bool = false) {
        self.input = input
        self.output = output
        self.geometry = geometry
        self.processor = processor
        self.noise = noise
        self.tileSize = tileSize
        self.encoding = encoding
        self.threads = threads
        self.quiet = quiet
    }
}

extension RestoreSettings {
    /// The default processor for live-action film: Real-ESRGAN general "WDN" (weak denoise). On the 1906 film it
    /// is much sharper than Lanczos while keeping the grain that realesr-general paints over; on real photos it is
    /// the more faithful of the two live-action models (README, "Choosing a model").
    public static let defaultProcessor = ModelCatalogue.defaultSuperResolution

    /// The recipe every worker follows for this restore (`inputRate` is needed only when retiming; `fields` is how
    /// the source was deinterlaced, see `ConstantRateReader.fieldPlan()`).
    /// `outputPixelFormat` (see `outputEncoding`) sets how finely the workers' results are kept.
    public func recipe(source: PixelSize, geometry: OutputGeometry, inputRate: Rational? = nil, fields: Deinterlacing? = nil,
                       outputPixelFormat: String? = nil) throws -> RenderRecipe {
        var recipe = RenderRecipe(processor: processor, noise: noise,
                                  modelScale: FilterFactory.modelScale(processor: processor, source: source, content: geometry.content),
                                  contentWidth: geometry.content.width, contentHeight: geometry.content.height, tileSize: tileSize)
        if OwnModel.isPath(processor) {
            // The user's own model: its absolute path, its scale from the probe run, and both files' SHA-256 (which
            // every worker checks, and which put the model's content into the job's resume keys).
            let own = try OwnModel.inspect(processor)
            recipe.processor = own.param.path
            recipe.modelScale = own.scale
            recipe.modelParamSHA256 = own.paramSHA256
            recipe.modelWeightsSHA256 = own.weightsSHA256
        }
        recipe.deinterlaced = fields?.filter
        // nil for 8-bit output: recipes (and so resume keys) stay as they were before deeper results existed.
        let results = PixelFormats.intermediate(forOutput: outputPixelFormat ?? "yuv420p")
        recipe.resultPixelFormat = results == SegmentRenderer.intermediatePixelFormat ? nil : results
        if let retime, let inputRate {
            recipe.retime = try retime.recipe(inputRate: inputRate, processor: processor, source: source, content: geometry.content)
        }
        return recipe
    }
}

extension RestoreSettings {
    /// The encoding with its pixel format settled: as asked (`--pixel-format`), else yuv420p for H.264 (plays
    /// everywhere), and for an FFV1 master the source's own depth and chroma, up to 16 bits (a lossless master
    /// must not be 8-bit 4:2:0 from a 10-bit 4:2:2 or 16-bit RGB source).
    public func outputEncoding(sourcePixelFormat: String?) -> VideoEncoding {
        var resolved = encoding
        if resolved.pixelFormat == nil {
            switch encoding.codec {
            case .h264: resolved.pixelFormat = "yuv420p"
            case .ffv1: resolved.pixelFormat = PixelFormats.ffv1Lossless(for: sourcePixelFormat ?? "yuv444p")
            case .png, .tiff, .dpx: resolved.pixelFormat = encoding.codec.imagePixelFormat(depth: sourcePixelFormat.flatMap(PixelFormats.depth(of:)) ?? 8)
            }
        }
        return resolved
    }

    /// The one-line note `restore` prints when it deinterlaces on its own (`--interlaced auto`), so it is never silent.
    func noteFields(_ fields: Deinterlacing?) {
        guard interlacing == .auto, let fields, !quiet else { return }
        let order = fields.fieldOrder.map { $0 == .topFieldFirst ? " (top field first)" : " (bottom field first)" } ?? ""
        ConsoleLine.write(.notice, "note", "the input is interlaced\(order); deinterlacing it with \(fields.filter) (--interlaced keep to process the fields as they are)",
                          label: "lumiere-coordinator")
    }
}

/// Why a restore could not run, in words that say what to do.
public enum RestoreError: Error, CustomStringConvertible, Equatable {
    case outputIsInput(String)
    case outputDirectoryMissing(String)
    case outputIsDirectory(String)
    case outputExists(String)
    case outputAppeared(String)
    case unsupportedSequenceExtension(String)
    case outputSequenceExists(pattern: String, example: String)
    case outputInsideJobDirectory(output: String, job: String)
    case interrupted(phase: String)
    case outputFailed(path: String, detail: String)
    case unsupportedOutputExtension(String)
    case frameCountMismatch(expected: Int64, written: Int64)

    public var description: String {
        switch self {
        case .outputIsInput(let p): return "The output \(p) is the input file; choose another output name."
        case .outputDirectoryMissing(let d): return "The output directory \(d) does not exist; create it first."
        case .unsupportedSequenceExtension(let e): return "An image sequence is written as .png, .tif or .dpx, not .\(e)."
        case .outputSequenceExists(let p, let e): return "\(e) already exists and matches \(p); Lumière never overwrites frames (not even with --overwrite, which replaces a film file): choose an empty folder or move them away."
        case .outputExists(let p): return "The output \(p) exists already; pass --overwrite to replace it, or choose another output name."
        case .outputAppeared(let p): return "The output \(p) appeared while this job ran and was left as it is; run the same command with --overwrite to replace it, or with another output name (the finished segments are reused)."
        case .outputIsDirectory(let p): return "The output \(p) is a folder; give a file name such as \(p)/film.mp4."
        case .outputInsideJobDirectory(let o, let j): return "The output \(o) would be inside the job directory \(j), which is deleted after success; choose another output or --job-dir."
        case .outputFailed(let p, let d): return "Cannot put the finished output at \(p): \(d); the job directory is kept, run again to retry."
        case .interrupted(let phase): return "stopped during \(phase) on request; nothing partial was kept. Run the same command again to resume."
        case .unsupportedOutputExtension(let e): return "Output must be .mp4, .mkv or .mov, not \(e.isEmpty ? "a name without extension" : "." + e)."
        case .frameCountMismatch(let e, let w): return "Internal error: wrote \(w) frames, expected \(e); the output was not kept."
        }
    }
}
