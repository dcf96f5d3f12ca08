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

/// A temporal restoration stage (deflicker, dust, stabilise): a window of consecutive frames of one shot → the
/// restored centre frame. `window[centre]` is the frame to restore; the window holds up to `radius` frames either
/// side, fewer where the shot begins or ends (a window never crosses a cut: the caller cuts it at the shot's ends).
/// Each stage must cope with a one-sided or a one-frame window (it then does what it can, or returns the centre
/// unchanged). The result depends only on the window, so a segment whose context frames cover `radius` on each side
/// restores its frames exactly as a run over the whole shot does.
public protocol TemporalFilter: AnyObject {
    var name: String { get }
    /// Frames needed either side of the centre (the segment context must cover it).
    var radius: Int { get }
    func apply(window: [RGBImage], centre: Int) throws -> RGBImage
}
