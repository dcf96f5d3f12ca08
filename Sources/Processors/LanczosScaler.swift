import Media
import Shared

/// The classical baseline: swscale's Lanczos resampling to a fixed size. No model, no learning.
public final class LanczosScaler: FrameFilter {
    public let name = "lanczos"
    public let target: PixelSize
    private let converter = PixelConverter()

    public init(target: PixelSize) { self.target = target }

    public func outputSize(for input: PixelSize) throws -> PixelSize { target }

    public func apply(_ image: RGBImage) throws -> RGBImage {
        try converter.resize(image, to: target)
    }
}
