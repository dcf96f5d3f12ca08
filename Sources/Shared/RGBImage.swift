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
}
