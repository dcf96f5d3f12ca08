import Foundation

/// How a worker retimes a segment (issue 6, `restore --fps`): part of the `RenderRecipe`, the same for every segment.
public struct RetimeRecipe: Codable, Sendable, Equatable, Hashable {
    /// Which runs first when both change the picture.
    public enum Order: String, Codable, Sendable, CaseIterable {
        /// Interpolate the source frames, then upscale every output frame.
        case interpolateFirst = "interp-first"
        /// Upscale the source frames, then interpolate between the upscaled frames.
        case superResolutionFirst = "sr-first"
    }

    public var inputRate: Rational
    public var outputRate: Rational
    /// `rife-v4.0`, `rife-v4.25` or `blend`.
    public var interpolator: String
    public var order: Order
    /// Near-identical consecutive frames (a frame printed twice, a stalled projector) closer than this are one
    /// picture, and the motion is spread over the run (`DuplicateDetector.score`); nil = every frame is its own picture.
    public var duplicateThreshold: Double?
    /// Longest run of duplicates treated as one picture; a longer run is a deliberate freeze and is kept.
    public var maxDuplicateRun: Int

    public static let defaultMaxDuplicateRun = 4
    /// The interpolation models of `ModelCatalogue`, then `blend` (a plain crossfade, no model).
    public static var interpolators: [String] { ModelCatalogue.interpolationNames + ["blend"] }

    public init(inputRate: Rational, outputRate: Rational, interpolator: String = ModelCatalogue.defaultInterpolator, order: Order = .interpolateFirst,
                duplicateThreshold: Double? = nil, maxDuplicateRun: Int = RetimeRecipe.defaultMaxDuplicateRun) {
        self.inputRate = inputRate
        self.outputRate = outputRate
        self.interpolator = interpolator
        self.order = order
        self.duplicateThreshold = duplicateThreshold
        self.maxDuplicateRun = maxDuplicateRun
    }

    /// Checks a recipe read from the network or typed by a user.
    public func validated() throws -> RetimeRecipe {
        let rateRange = Rational(1, 1000)...Rational(1000)
        guard rateRange.contains(inputRate), rateRange.contains(outputRate) else {
            throw RenderRecipe.RecipeError.invalid("frame rates \(inputRate) → \(outputRate) must lie within 1/1000…1000 fps")
        }
        guard RetimeRecipe.interpolators.contains(interpolator) else {
            throw RenderRecipe.RecipeError.invalid("unknown interpolator \(interpolator); choose one of \(RetimeRecipe.interpolators.joined(separator: ", "))")
        }
        if let duplicateThreshold, !(0...1).contains(duplicateThreshold) {
            throw RenderRecipe.RecipeError.invalid("duplicate threshold \(duplicateThreshold) must lie within 0…1")
        }
        guard (1...16).contains(maxDuplicateRun) else { throw RenderRecipe.RecipeError.invalid("longest duplicate run \(maxDuplicateRun) must be 1…16 frames") }
        return self
    }
}

/// Where one segment sits in the film, sent with its assignment when the film is retimed: the worker needs
/// absolute frame numbers to compute exact source positions (p = k · in / out).
public struct SegmentTiming: Codable, Sendable, Equatable {
    /// Film frame number of the segment's first input frame.
    public var firstInputFrame: Int64
    /// Output frames (film output numbering, half-open) the segment makes.
    public var outputFrames: Range<Int64>

    public init(firstInputFrame: Int64, outputFrames: Range<Int64>) {
        self.firstInputFrame = firstInputFrame
        self.outputFrames = outputFrames
    }

    /// Checks the timing against its segment and the film's retiming (untrusted: from an assignment).
    public func validated(inputFrameCount: Int, retime: RetimeRecipe) throws -> SegmentTiming {
        guard firstInputFrame >= 0, firstInputFrame < Int64(1) << 40, outputFrames.lowerBound >= 0, outputFrames.upperBound < Int64(1) << 40 else {
            throw RenderRecipe.RecipeError.invalid("segment timing \(firstInputFrame), \(outputFrames) out of range")
        }
        // The outputs must lie within half an input frame before the segment's input (the nearer-side rule at a cut)
        // and before the frame after its last (the film's end).
        let step = retime.inputRate / retime.outputRate
        let maxOutputs = (Rational(Int64(inputFrameCount) + 1) * (retime.outputRate / retime.inputRate)).floor + 2
        guard inputFrameCount >= 1, Int64(outputFrames.count) <= maxOutputs else {
            throw RenderRecipe.RecipeError.invalid("\(outputFrames.count) output frames from \(inputFrameCount) input frames")
        }
        let first = Rational(firstInputFrame), last = Rational(firstInputFrame + Int64(inputFrameCount) - 1)
        if !outputFrames.isEmpty {
            let p0 = step * outputFrames.lowerBound, p1 = step * (outputFrames.upperBound - 1)
            guard p0 >= first - Rational(1, 2), p1 < last + Rational(1) else {
                throw RenderRecipe.RecipeError.invalid("output frames \(outputFrames) do not fall inside input frames \(firstInputFrame)..<\(firstInputFrame + Int64(inputFrameCount))")
            }
        }
        return self
    }
}
