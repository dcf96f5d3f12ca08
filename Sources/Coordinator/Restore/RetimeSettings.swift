import Processors
import Shared

/// `restore --fps` and friends, before the source's rate is known.
public struct RetimeSettings: Sendable, Equatable {
    public enum OrderChoice: String, Sendable, CaseIterable {
        /// The cheaper of the two for this film, model and size (`RetimeSettings.cheaperOrder`).
        case auto
        case interpolateFirst = "interp-first"
        case superResolutionFirst = "sr-first"
    }

    public var outputRate: Rational
    public var interpolator: String
    public var order: OrderChoice
    /// nil: duplicate frames are kept as they are.
    public var duplicateThreshold: Double?
    public var maxDuplicateRun: Int

    public static let defaultInterpolator = ModelCatalogue.defaultInterpolator

    public init(outputRate: Rational, interpolator: String = RetimeSettings.defaultInterpolator, order: OrderChoice = .auto,
                duplicateThreshold: Double? = DuplicateDetector.defaultThreshold, maxDuplicateRun: Int = RetimeRecipe.defaultMaxDuplicateRun) {
        self.outputRate = outputRate
        self.interpolator = interpolator
        self.order = order
        self.duplicateThreshold = duplicateThreshold
        self.maxDuplicateRun = maxDuplicateRun
    }

    /// The recipe for a source at `inputRate`, with `auto` resolved.
    public func recipe(inputRate: Rational, processor: String, source: PixelSize, content: PixelSize) throws -> RetimeRecipe {
        let resolved: RetimeRecipe.Order
        switch order {
        case .interpolateFirst: resolved = .interpolateFirst
        case .superResolutionFirst: resolved = .superResolutionFirst
        case .auto: resolved = RetimeSettings.cheaperOrder(inputRate: inputRate, outputRate: outputRate, processor: processor, interpolator: interpolator,
                                                           source: source, content: content)
        }
        return try RetimeRecipe(inputRate: inputRate, outputRate: outputRate, interpolator: interpolator, order: resolved,
                                duplicateThreshold: duplicateThreshold, maxDuplicateRun: maxDuplicateRun).validated()
    }

    /// Seconds per source megapixel on one core of the development machine (docs/retiming.md, "Order"); only ratios matter.
    /// The measurements live in `ModelCatalogue` (`ModelEntry.secondsPerMegapixel`); an unknown model is priced as the
    /// default model (realesr-general-wdn).
    static func superResolutionCost(_ processor: String) -> Double {
        ModelCatalogue.secondsPerMegapixel(processor, kind: .superResolution)
    }

    /// Seconds per megapixel of the frames interpolated (`ModelCatalogue`; unknown: as rife-v4.0, the default).
    static func interpolationCost(_ interpolator: String) -> Double {
        ModelCatalogue.secondsPerMegapixel(interpolator, kind: .interpolation)
    }

    /// Interpolating first runs the interpolator on small frames but the upscaler on every output frame; upscaling
    /// first upscales only the input frames but interpolates big ones. Per input frame, with r = out / in and
    /// 1/a of the input frames landing exactly on an output (in / out = a / b in lowest terms):
    ///   interp-first: r·SR·source + (r − 1/a)·RIFE·source      sr-first: SR·source + (r − 1/a)·RIFE·content
    /// (pixel counts in megapixels). Down-conversions and equal rates interpolate little, so SR count decides.
    public static func cheaperOrder(inputRate: Rational, outputRate: Rational, processor: String, interpolator: String,
                                    source: PixelSize, content: PixelSize) -> RetimeRecipe.Order {
        let r = (outputRate / inputRate).doubleValue
        let exact = 1 / Double((inputRate / outputRate).numerator)
        let interpolated = max(0, r - exact)
        let sr = superResolutionCost(processor), rife = interpolationCost(interpolator)
        let sourceMP = Double(source.pixelCount) / 1e6, contentMP = Double(content.pixelCount) / 1e6
        let interpolateFirst = r * sr * sourceMP + interpolated * rife * sourceMP
        let superResolutionFirst = sr * sourceMP + interpolated * rife * contentMP
        return superResolutionFirst < interpolateFirst ? .superResolutionFirst : .interpolateFirst
    }
}
