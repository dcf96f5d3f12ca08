/// A spatial processor: one frame in, one frame out (super-resolution, classical scaling, denoise).
/// Implementations may hold per-instance scratch state, so one instance is used by one thread at a time.
public protocol FrameFilter: AnyObject {
    /// A short, stable name (`lanczos`, `realesr-general`), recorded in job settings.
    var name: String { get }
    /// The size this filter produces for an input of `input` (validated before any work starts).
    func outputSize(for input: PixelSize) throws -> PixelSize
    func apply(_ image: RGBImage) throws -> RGBImage
}

/// A temporal processor: two neighbouring frames and a time t in (0, 1) → the frame at t.
public protocol FrameInterpolator: AnyObject {
    var name: String { get }
    func interpolate(_ first: RGBImage, _ second: RGBImage, at t: Double) throws -> RGBImage
}
