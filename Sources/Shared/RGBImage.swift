/// Width and height in pixels.
public struct PixelSize: Hashable, Sendable, Codable, CustomStringConvertible {
    public var width: Int
    public var height: Int
    public init(width: Int, height: Int) { self.width = width; self.height = height }
    public var description: String { "\(width)x\(height)" }
    public var pixelCount: Int { width * height }

    /// Parses "3840x2160".
    public init?(parsing text: String) {
        let parts = text.lowercased().split(separator: "x")
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), w > 0, h > 0 else { return nil }
        self.init(width: w, height: h)
    }
}

/// A frame as processors see it: planar RGB, 32-bit float in [0, 1], channel-major (C×H×W) —
/// the layout the inference engine consumes, so no reshuffling between stages.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// 3 planes (R, G, B), each `width * height` floats, row-major.
    public var pixels: [Float]

    public init(width: Int, height: Int, pixels: [Float]) {
        precondition(pixels.count == 3 * width * height, "RGBImage: \(pixels.count) values for \(width)x\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    public init(width: Int, height: Int, fill: Float = 0) {
        self.init(width: width, height: height, pixels: [Float](repeating: fill, count: 3 * width * height))
    }

    public var size: PixelSize { PixelSize(width: width, height: height) }
    public var planeCount: Int { width * height }

    public subscript(channel: Int, y: Int, x: Int) -> Float {
        get { pixels[channel * planeCount + y * width + x] }
        set { pixels[channel * planeCount + y * width + x] = newValue }
    }

    /// The centred part of at most `width`x`height` pixels (the whole image when it is smaller).
    public func centre(width maxWidth: Int, height maxHeight: Int) -> RGBImage {
        let w = min(width, maxWidth), h = min(height, maxHeight)
        guard w < width || h < height else { return self }
        let x0 = (width - w) / 2, y0 = (height - h) / 2
        var out = [Float](repeating: 0, count: 3 * w * h)
        for c in 0..<3 {
            for y in 0..<h {
                let from = c * planeCount + (y0 + y) * width + x0, to = c * w * h + y * w
                out[to..<(to + w)] = pixels[from..<(from + w)]
            }
        }
        return RGBImage(width: w, height: h, pixels: out)
    }
}
