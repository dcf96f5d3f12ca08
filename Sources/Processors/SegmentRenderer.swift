import Foundation
import Inference
import Media
import Shared

/// A worker's media work on one segment: decode the segment's input file (the source's packets or lossless frames), run the
/// recipe's film restoration stages over them as a stream at source size (dropping the context frames around the segment's
/// own), then the recipe's filter on every frame (and, when the film is retimed, the interpolator), and write the restored
/// frames losslessly (FFV1, planar RGB of the recipe's precision, 10 bits by default) for the coordinator to stitch.
public final class SegmentRenderer {
    public let recipe: RenderRecipe
    private let filter: FrameFilter
    private let interpolator: FrameInterpolator?
    /// The restore's own converter (resizes to the content size). The decoder and the writer have theirs: with
    /// `.pipelined` they run on other threads, and a converter keeps one swscale context (not thread-safe).
    private let converter = PixelConverter()
    /// How `render` moves frames through decode → restore → encode (`FrameStreaming.default(gpu:)` unless given).
    public let streaming: FrameStreaming

    /// Default intermediate pixel format: 10-bit planar RGB — finer than an 8-bit output, so blending loses nothing
    /// visible, and FFV1 decodes it twice as fast as 16-bit (measured: 30 vs 64 ms for an 856x640 frame). Deeper
    /// outputs get deeper results (`RenderRecipe.resultPixelFormat`, chosen by `PixelFormats.intermediate`).
    public static let intermediatePixelFormat = "gbrp10le"
    private var resultFormat: String { recipe.resultPixelFormat ?? SegmentRenderer.intermediatePixelFormat }

    /// `device`: where the models run (`threads` is for the CPU engine, decoding and encoding), `precision` how a GPU
    /// stores their blobs. A `GPUError` from a device that cannot load the models, or later from `render`, is the
    /// caller's to handle (`DeviceSelection`). `note` gets the lines for the log said while rendering (a frame retried
    /// with smaller tiles after the GPU ran out of memory). `streaming`: nil for the default of where the models run.
    public init(recipe: RenderRecipe, threads: Int, device: ComputeDevice = .cpu, precision: GPUPrecision = .fp32,
                streaming: FrameStreaming? = nil, note: @escaping (String) -> Void = { _ in }) throws {
        self.recipe = recipe
        self.filter = try FilterFactory.make(recipe, threads: threads, device: device, precision: precision)
        self.interpolator = try recipe.retime.map {
            try InterpolatorFactory.make($0.interpolator, threads: threads, device: device, precision: precision)
        }
        (filter as? NeuralUpscaler)?.note = note
        let onGPU = (filter as? NeuralUpscaler)?.device.isGPU == true || (interpolator as? RIFEInterpolator)?.device.isGPU == true
        self.streaming = streaming ?? .default(gpu: onGPU)
    }

    /// Seconds the GPU has spent on this renderer's models so far; nil when no model runs on a GPU.
    private var deviceSeconds: Double? {
        let spent = [(filter as? NeuralUpscaler)?.deviceSeconds, (interpolator as? RIFEInterpolator)?.deviceSeconds].compactMap { $0 }
        return spent.isEmpty ? nil : spent.reduce(0, +)
    }

    /// Lines for the log about where the models run when that differs from the device asked for (a model with a layer
    /// the GPU backend lacks runs on the CPU engine).
    public var deviceNotes: [String] {
        [(filter as? NeuralUpscaler)?.fallback, (interpolator as? RIFEInterpolator)?.fallback].compactMap { $0 }
    }

    public struct Result: Sendable {
        public var frames: Int
        public var size: PixelSize
        public var streaming: FrameStreaming
        /// Seconds from opening the input to the last frame written.
        public var wallSeconds: Double
        /// Seconds the GPU spent on the segment's models (`GPUNet.totalDeviceSeconds`); nil when none ran on a GPU.
        public var deviceSeconds: Double?
        /// Seconds spent decoding (with the conversion to float RGB and the film stages) and encoding (with the
        /// conversion to the result's format), on their own threads when pipelined (`FramePipeline`).
        public var decodeSeconds: Double
        public var encodeSeconds: Double

        /// The line a worker logs per segment: frames, time, streaming, its decode and encode time, and "GPU busy %" (the device's busy time over
        /// the wall time: the rest is time the GPU waited for the CPU — decode, encode, and each tile's recording and
        /// copies).
        public var summary: String {
            var line = "\(frames) frames in \(String(format: "%.2f", wallSeconds)) s, \(streaming.rawValue)"
                + String(format: " (decode %.2f s, encode %.2f s)", decodeSeconds, encodeSeconds)
            if let deviceSeconds {
                line += String(format: ", GPU busy %.2f s = %.0f %%", deviceSeconds, 100 * deviceSeconds / max(wallSeconds, 1e-9))
            }
            return line
        }
    }

    public struct Cancelled: Error {}

    public enum RenderError: Error, CustomStringConvertible, Equatable {
        case missingTiming
        case outputCountMismatch(expected: Int, made: Int)
        case inputShorterThanContext(context: Int, frames: Int)
        public var description: String {
            switch self {
            case .missingTiming: return "the assignment retimes the film but carries no segment timing; coordinator and worker versions may differ"
            case let .outputCountMismatch(e, m): return "made \(m) output frames where the plan expects \(e); the segment input may be damaged"
            case let .inputShorterThanContext(c, f): return "the segment input holds \(f) frames, not more than its \(c) context frames; the segment input may be damaged"
            }
        }
    }

    /// Restores one segment. `timing` is required when the recipe retimes the film. `interior`: the output frames no seam
    /// touches, encoded in the recipe's delivery encoding (a `SegmentResultWriter` file); nil: every frame lossless.
    /// `context`: frames at the input's start and end that only the film restoration stages read (no output).
    public func render(input: URL, output: URL, timing: SegmentTiming? = nil, interior: Range<Int64>? = nil, context: SegmentContext? = nil,
                       progress: (Int) -> Void = { _ in }, isCancelled: () -> Bool = { false }) throws -> Result {
        let started = DispatchTime.now().uptimeNanoseconds
        let busyBefore = deviceSeconds
        // A packet cut of the source or a lossless file, told apart by its metadata (`SegmentInputReader`).
        let decoder = try SegmentInputReader(path: input.path)
        let source = try RestoredFrames(decoder: decoder, converter: PixelConverter(), chain: recipe.film.map { try TemporalChain(film: $0) },
                                        context: context)
        let sourceRate = decoder.rate
        let rate = recipe.retime?.outputRate ?? sourceRate
        let sink = try ResultSink(recipe: recipe, resultFormat: resultFormat, interior: interior, output: output, rate: rate,
                                  converter: PixelConverter())
        // Decode ahead and encode behind on threads of their own when pipelined; the restore (the GPU's work) stays here.
        let stream = FramePipeline<(image: RGBImage, color: ColorDescription), (image: RGBImage, color: ColorDescription, index: Int)>(
            streaming, read: { try source.next() }, write: { try sink.write($0.image, color: $0.color, index: $0.index) })
        var frames = 0
        func write(_ image: RGBImage, color: ColorDescription) throws {
            try stream.write((image, color, frames))
            frames += 1
            progress(frames)
        }
        do {
            if let retime = recipe.retime, let interpolator {
                guard let timing else { throw RenderError.missingTiming }
                try retimeFrames(next: stream.next, retime: retime, timing: timing, interpolator: interpolator, isCancelled: isCancelled,
                                 write: write)
                try stream.finish()
                guard frames == timing.outputFrames.count else { throw RenderError.outputCountMismatch(expected: timing.outputFrames.count, made: frames) }
            } else {
                while let frame = try stream.next() {
                    if isCancelled() { throw Cancelled() }
                    try write(try restore(frame.image), color: frame.color)
                }
                try stream.finish()
            }
        } catch {
            throw stream.stop(after: error)
        }
        try sink.finish()
        let wall = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        return Result(frames: frames, size: recipe.contentSize, streaming: streaming, wallSeconds: wall,
                      deviceSeconds: deviceSeconds.map { $0 - (busyBefore ?? 0) }, decodeSeconds: stream.readSeconds, encodeSeconds: stream.writeSeconds)
    }

    /// Where restored frames go: all lossless (one FFV1 stream), or, with a delivery encoding, the interior encoded on
    /// the output canvas and the rest lossless for the seams.
    private final class ResultSink {
        let resultFormat: String
        let converter: PixelConverter
        let plain: MediaWriter?
        let split: SegmentResultWriter?
        let interior: Range<Int64>
        let geometry: OutputGeometry?
        let canvasColor: ColorDescription

        init(recipe: RenderRecipe, resultFormat: String, interior: Range<Int64>?, output: URL, rate: Rational, converter: PixelConverter) throws {
            self.resultFormat = resultFormat
            self.converter = converter
            if let interior, let delivery = recipe.delivery {
                guard let codec = VideoEncoding.Codec(rawValue: delivery.codec) else { throw RenderRecipe.RecipeError.invalid("delivery codec \(delivery.codec)") }
                let encoding = try VideoEncoding(codec: codec, crf: delivery.crf, preset: delivery.preset, pixelFormat: delivery.pixelFormat).validated()
                let geometry = OutputGeometry(delivery: delivery, content: recipe.contentSize)
                split = try SegmentResultWriter(path: output.path, losslessSize: recipe.contentSize, losslessPixelFormat: resultFormat,
                                                encoding: encoding, canvas: geometry.canvas, rate: rate)
                plain = nil
                self.interior = interior
                self.geometry = geometry
                canvasColor = .defaultFor(height: geometry.canvas.height)
            } else {
                plain = try MediaWriter(path: output.path, video: .init(size: recipe.contentSize, rate: rate,
                                                                        encoding: VideoEncoding(codec: .ffv1, pixelFormat: resultFormat),
                                                                        color: .defaultFor(height: recipe.contentHeight), threads: 1))
                split = nil
                self.interior = 0..<0
                geometry = nil
                canvasColor = .defaultFor(height: recipe.contentHeight)
            }
        }

        func write(_ image: RGBImage, color: ColorDescription, index: Int) throws {
            let lossless = try converter.picture(from: image, pixelFormat: resultFormat, color: color)
            if let plain { return try plain.write(lossless) }
            guard let split, let geometry else { return }
            if interior.contains(Int64(index)) {
                // The picture the head node would have made from the lossless result: same rounding to the result
                // format, same placing, same conversion, so an FFV1 film is bit for bit what it was before workers encoded.
                let rounded = try converter.rgbImage(from: lossless)
                try split.writeEncoded(try converter.picture(from: geometry.place(rounded), pixelFormat: split.encodedPixelFormat, color: canvasColor),
                                       index: Int64(index))
            } else {
                try split.writeLossless(lossless, index: Int64(index))
            }
        }

        func finish() throws {
            try plain?.finish()
            try split?.finish()
        }
    }

    /// One output picture exactly as `render` makes it, for `compare`: the recipe's filter on `first`, or — when the
    /// recipe retimes and `second` is given with `t` in (0, 1) — the picture between them, interpolated and restored in
    /// the recipe's order. Not thread-safe (the filter's scratch state), like `render`.
    public func picture(_ first: RGBImage, _ second: RGBImage? = nil, at t: Double = 0) throws -> RGBImage {
        guard let second, t > 0, t < 1, let retime = recipe.retime, let interpolator else { return try restore(first) }
        switch retime.order {
        case .superResolutionFirst: return try interpolator.interpolate(try restore(first), try restore(second), at: t)
        case .interpolateFirst: return try restore(try interpolator.interpolate(first, second, at: t))
        }
    }

    /// What one picture costs this renderer, timed as `render` runs it (the start-of-job estimate, `JobCost`).
    public struct Cost: Sendable, Equatable {
        /// Seconds to restore one source picture: the filter at the model's own scale with its tiles and their context
        /// borders, then (for a whole frame) the resize to the content size.
        public var restore: Double
        /// Seconds for one interpolated picture, on the pictures the recipe's order gives the interpolator; nil when
        /// the recipe does not retime.
        public var interpolate: Double?
    }

    /// Times one picture of `first` (and, retimed, one interpolated between `first` and `second`). `first` may be a
    /// crop of a large frame (`wholeFrame` false: the resize to the content size is left out; the caller scales by area).
    /// A whole frame's time includes its conversion to the result's pixel format, as `render` writes it. Each step is
    /// first run once on a 64x64 corner (the engine's first run starts its threads), then timed twice and the faster
    /// kept (one timing if it took over 30 s): the first run at a new size allocates the engine's buffers, which every
    /// later frame reuses. On the shared 2-core machine (load 6–19) the spread between runs hid what this changes: the
    /// estimates were 0.6–1.9× the time taken with it and 0.7–1.9× without (issue-19 report).
    public func cost(of first: RGBImage, _ second: RGBImage?, wholeFrame: Bool = true) throws -> Cost {
        func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
            let started = DispatchTime.now().uptimeNanoseconds
            let value = try body()
            return (value, Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
        }
        func best<T>(_ body: () throws -> T) rethrows -> (T, Double) {
            let once = try timed(body)
            guard once.1 < 30 else { return once }
            let twice = try timed(body)
            return twice.1 < once.1 ? twice : once
        }
        let color = ColorDescription.defaultFor(height: recipe.contentHeight)
        let restoreOne: (RGBImage) throws -> RGBImage = { image in
            guard wholeFrame else { return try self.filter.apply(image) }
            let restored = try self.restore(image)
            _ = try self.converter.picture(from: restored, pixelFormat: self.resultFormat, color: color)
            return restored
        }
        _ = try filter.apply(first.centre(width: 64, height: 64))
        let (restored, seconds) = try best { try restoreOne(first) }
        guard let second, second.size == first.size, let retime = recipe.retime, let interpolator else { return Cost(restore: seconds, interpolate: nil) }
        let pair = retime.order == .superResolutionFirst ? (restored, try restoreOne(second)) : (first, second)
        _ = try interpolator.interpolate(pair.0.centre(width: 64, height: 64), pair.1.centre(width: 64, height: 64), at: 0.5)
        let between = try best { try interpolator.interpolate(pair.0, pair.1, at: 0.5) }.1
        return Cost(restore: seconds, interpolate: between)
    }

    /// The recipe's filter, brought to the content size.
    private func restore(_ image: RGBImage) throws -> RGBImage {
        let restored = try filter.apply(image)
        return restored.size == recipe.contentSize ? restored : try converter.resize(restored, to: recipe.contentSize)
    }

    /// Streams the segment through a `RetimeSchedule`: keeps only the frames outputs still need (at most a
    /// duplicate run plus the pictures either side), upscales each picture at most once when SR runs first.
    private func retimeFrames(next: () throws -> (image: RGBImage, color: ColorDescription)?, retime: RetimeRecipe, timing: SegmentTiming, interpolator: FrameInterpolator,
                              isCancelled: () -> Bool, write: (RGBImage, ColorDescription) throws -> Void) throws {
        var schedule = RetimeSchedule(retiming: try Retiming(inputRate: retime.inputRate, outputRate: retime.outputRate),
                                      firstInputFrame: timing.firstInputFrame, outputFrames: timing.outputFrames,
                                      maxDuplicateRun: retime.maxDuplicateRun)
        let srFirst = retime.order == .superResolutionFirst
        var sources: [Int: RGBImage] = [:]      // decoded input frames still needed
        var upscaled: [Int: RGBImage] = [:]     // sr-first: restored pictures
        var lastCopy: (frame: Int, image: RGBImage)?  // interp-first: a held picture is restored once
        var reference: DuplicateDetector.Thumbnail?
        var color = ColorDescription.defaultFor(height: recipe.contentHeight)
        var index = 0

        func picture(_ frame: Int) throws -> RGBImage {
            guard srFirst else { return sources[frame]! }
            if let done = upscaled[frame] { return done }
            let done = try restore(sources[frame]!)
            upscaled[frame] = done
            return done
        }
        func make(_ steps: [(output: Int64, step: RetimeSchedule.Step)]) throws {
            for (_, step) in steps {
                if isCancelled() { throw Cancelled() }
                switch step {
                case .copy(let frame):
                    if srFirst { try write(try picture(frame), color) }
                    else if let held = lastCopy, held.frame == frame { try write(held.image, color) }
                    else {
                        let image = try restore(sources[frame]!)
                        lastCopy = (frame, image)
                        try write(image, color)
                    }
                case .interpolate(let a, let b, let t):
                    let between = try interpolator.interpolate(try picture(a), try picture(b), at: t)
                    try write(srFirst ? between : try restore(between), color)
                }
            }
            for frame in Array(sources.keys) where !schedule.retains(frame: frame) { sources[frame] = nil }
            for frame in Array(upscaled.keys) where !schedule.retains(frame: frame) { upscaled[frame] = nil }
        }

        while let decoded = try next() {
            if isCancelled() { throw Cancelled() }
            color = decoded.color
            let image = decoded.image
            var kind = RetimeSchedule.FrameKind.newPicture
            if let threshold = retime.duplicateThreshold {
                let thumbnail = DuplicateDetector.thumbnail(image)
                if index > 0, let reference, DuplicateDetector.score(thumbnail, reference) < threshold { kind = .duplicate }
                else { reference = thumbnail }
            }
            sources[index] = image
            index += 1
            try make(schedule.onFrame(kind))
        }
        try make(schedule.onEnd())
    }
}

/// A segment's frames as the filter sees them: decoded, through the recipe's film restoration stages when it has any (a
/// `TemporalChain` over the whole input, context frames included, so each frame's window is the one a whole-shot run
/// gives it), with the context frames at either end left out.
final class RestoredFrames {
    private let decoder: SegmentInputReader
    private let converter: PixelConverter
    private let chain: TemporalChain?
    /// Context frames still to drop at the start, and how many restored frames to hold back (the end's context).
    private var skip: Int
    private let holdBack: Int
    private let contextFrames: Int
    /// The colour of each frame pushed into the chain and not yet out of it (the chain keeps the order).
    private var colors: [ColorDescription] = []
    private var ready: [(image: RGBImage, color: ColorDescription)] = []
    private var ended = false
    private var decoded = 0

    init(decoder: SegmentInputReader, converter: PixelConverter, chain: TemporalChain?, context: SegmentContext?) {
        self.decoder = decoder
        self.converter = converter
        self.chain = chain
        skip = Int(context?.before ?? 0)
        holdBack = Int(context?.after ?? 0)
        contextFrames = skip + holdBack
    }

    /// The next of the segment's own frames, restored; nil after the last.
    func next() throws -> (image: RGBImage, color: ColorDescription)? {
        while true {
            if ready.count > holdBack { return ready.removeFirst() }
            if ended { return nil }
            if let frame = try decoder.next() {
                decoded += 1
                let image = try converter.rgbImage(from: frame.picture)
                colors.append(frame.picture.color)
                take(try chain?.push(image) ?? [image])
            } else {
                ended = true
                if let chain { take(try chain.finish()) }
                // The last `holdBack` frames are the end's context (the rest are handed out first); fewer frames than the
                // context means a short input.
                guard skip == 0, ready.count >= holdBack else {
                    throw SegmentRenderer.RenderError.inputShorterThanContext(context: contextFrames, frames: decoded)
                }
            }
        }
    }

    private func take(_ images: [RGBImage]) {
        for image in images {
            let color = colors.removeFirst()
            if skip > 0 { skip -= 1; continue }
            ready.append((image, color))
        }
    }
}
