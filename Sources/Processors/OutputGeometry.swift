import Shared

/// Where the restored picture goes in the output frame.
///
/// `--scale N` multiplies the source size; `--size WxH` fits the picture inside W×H keeping its
/// display aspect ratio and, with padding (the default), centres it on a black canvas of exactly W×H.
/// Sides are rounded to even numbers because yuv420p needs them.
public struct OutputGeometry: Sendable, Equatable, Codable {
    /// Size of the picture itself.
    public var content: PixelSize
    /// Size of the output frame (equal to `content` without padding).
    public var canvas: PixelSize
    public var offsetX: Int
    public var offsetY: Int

    public static let maxSide = 16384

    public enum Request: Sendable, Equatable {
        case scale(Int)
        case size(PixelSize, pad: Bool)

        /// `--size` names the box the viewer sees; a stream shown turned a quarter (phone video) is stored the other
        /// way round, so the stored picture must fit the box turned back.
        public func stored(rotation: Int?) -> Request {
            guard case .size(let box, let pad) = self, rotation == 90 || rotation == 270 else { return self }
            return .size(PixelSize(width: box.height, height: box.width), pad: pad)
        }
    }

    public enum GeometryError: Error, CustomStringConvertible, Equatable {
        case badScale(Int)
        case tooLarge(PixelSize)
        public var description: String {
            switch self {
            case .badScale(let s): return "--scale must be between 1 and 8, got \(s)."
            case .tooLarge(let s): return "The requested output \(s) is too large; Lumière's limit is \(OutputGeometry.maxSide) pixels per side (e.g. --size 7680x4320)."
            }
        }
    }

    /// - Parameter sampleAspect: the source's pixel aspect ratio (1 for square pixels).
    public init(source: PixelSize, sampleAspect: Rational = .one, request: Request) throws {
        switch request {
        case .scale(let s):
            guard (1...8).contains(s) else { throw GeometryError.badScale(s) }
            // Non-square pixels are made square by widening, as players display them.
            let width = Double(source.width * s) * sampleAspect.doubleValue
            content = PixelSize(width: OutputGeometry.even(width), height: OutputGeometry.even(Double(source.height * s)))
            canvas = content
        case .size(let box, let pad):
            guard box.width <= OutputGeometry.maxSide, box.height <= OutputGeometry.maxSide else { throw GeometryError.tooLarge(box) }
            let displayAspect = Double(source.width) * sampleAspect.doubleValue / Double(source.height)
            var w = Double(box.width), h = w / displayAspect
            if h > Double(box.height) { h = Double(box.height); w = h * displayAspect }
            content = PixelSize(width: min(OutputGeometry.even(w), box.width - box.width % 2),
                                height: min(OutputGeometry.even(h), box.height - box.height % 2))
            canvas = pad ? PixelSize(width: box.width - box.width % 2, height: box.height - box.height % 2) : content
        }
        guard canvas.width <= OutputGeometry.maxSide, canvas.height <= OutputGeometry.maxSide else { throw GeometryError.tooLarge(canvas) }
        offsetX = ((canvas.width - content.width) / 2) & ~1
        offsetY = ((canvas.height - content.height) / 2) & ~1
    }

    /// The geometry a recipe's delivery names (a worker placing frames exactly as the head node would).
    public init(delivery: RenderRecipe.Delivery, content: PixelSize) {
        self.content = content
        canvas = PixelSize(width: delivery.canvasWidth, height: delivery.canvasHeight)
        offsetX = delivery.offsetX
        offsetY = delivery.offsetY
    }

    static func even(_ value: Double) -> Int { max(2, Int((value / 2).rounded()) * 2) }

    /// Places a picture of `content` size on the canvas (black borders).
    public func place(_ image: RGBImage) -> RGBImage {
        precondition(image.size == content, "place: \(image.size) is not the content size \(content)")
        if canvas == content { return image }
        var out = RGBImage(width: canvas.width, height: canvas.height)
        image.pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                for c in 0..<3 {
                    for y in 0..<content.height {
                        let s = c * content.pixelCount + y * content.width
                        let d = c * canvas.pixelCount + (y + offsetY) * canvas.width + offsetX
                        for x in 0..<content.width { dst[d + x] = src[s + x] }
                    }
                }
            }
        }
        return out
    }
}
