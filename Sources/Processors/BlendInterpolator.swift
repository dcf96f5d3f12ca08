import Shared

/// The cheap baseline: a plain crossfade, (1 − t)·first + t·second per value.
public final class BlendInterpolator: FrameInterpolator {
    public var name: String { "blend" }

    public init() {}

    public func interpolate(_ first: RGBImage, _ second: RGBImage, at t: Double) throws -> RGBImage {
        guard first.width == second.width, first.height == second.height else {
            throw RIFEInterpolator.ConfigurationError.invalidSetting("frames to blend differ in size: \(first.width)x\(first.height) vs \(second.width)x\(second.height)")
        }
        guard t >= 0, t <= 1 else {
            throw RIFEInterpolator.ConfigurationError.invalidSetting("blend time t must be within 0...1, got \(t)")
        }
        let b = Float(t), a = 1 - b
        var pixels = [Float](repeating: 0, count: first.pixels.count)
        first.pixels.withUnsafeBufferPointer { p in
            second.pixels.withUnsafeBufferPointer { q in
                for i in 0..<pixels.count { pixels[i] = a * p[i] + b * q[i] }
            }
        }
        return RGBImage(width: first.width, height: first.height, pixels: pixels)
    }
}
