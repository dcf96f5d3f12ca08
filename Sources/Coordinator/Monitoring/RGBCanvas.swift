/// An 8-bit RGB raster with just enough drawing for a chart: rectangles, thick lines, 5×7 text.
public struct RGBCanvas: Sendable, Equatable {
    public struct Color: Equatable, Sendable {
        public var r: UInt8, g: UInt8, b: UInt8
        public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
        public static let white = Color(255, 255, 255)
        public static let black = Color(0, 0, 0)
        public static let grid = Color(225, 225, 225)
    }

    public let width: Int
    public let height: Int
    /// Interleaved RGB, rows top to bottom.
    public private(set) var pixels: [UInt8]

    public init(width: Int, height: Int, background: Color = .white) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        fill(x: 0, y: 0, width: width, height: height, background)
    }

    public func color(x: Int, y: Int) -> Color {
        let i = (y * width + x) * 3
        return Color(pixels[i], pixels[i + 1], pixels[i + 2])
    }

    public mutating func set(x: Int, y: Int, _ c: Color) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = (y * width + x) * 3
        pixels[i] = c.r; pixels[i + 1] = c.g; pixels[i + 2] = c.b
    }

    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, _ c: Color) {
        let x0 = max(0, x), x1 = min(width, x + w), y0 = max(0, y), y1 = min(height, y + h)
        guard x0 < x1, y0 < y1 else { return } // entirely outside the canvas
        for yy in y0..<y1 { for xx in x0..<x1 { set(x: xx, y: yy, c) } }
    }

    /// Bresenham with a square brush of side `thickness`.
    public mutating func line(from a: (x: Int, y: Int), to b: (x: Int, y: Int), _ c: Color, thickness: Int = 1) {
        var x = a.x, y = a.y
        let dx = abs(b.x - a.x), dy = -abs(b.y - a.y)
        let sx = a.x < b.x ? 1 : -1, sy = a.y < b.y ? 1 : -1
        var error = dx + dy
        let offset = (thickness - 1) / 2
        while true {
            fill(x: x - offset, y: y - offset, width: thickness, height: thickness, c)
            if x == b.x && y == b.y { break }
            let e2 = 2 * error
            if e2 >= dy { error += dy; x += sx }
            if e2 <= dx { error += dx; y += sy }
        }
    }

    /// Text with the built-in 5×7 font, each font pixel drawn as `scale`×`scale`; returns the width drawn.
    @discardableResult
    public mutating func text(_ string: String, x: Int, y: Int, _ c: Color, scale: Int = 2) -> Int {
        var cursor = x
        for character in string {
            for (row, bits) in BitmapFont.rows(character).enumerated() {
                for column in 0..<BitmapFont.glyphWidth where bits & (0x10 >> UInt8(column)) != 0 {
                    fill(x: cursor + column * scale, y: y + row * scale, width: scale, height: scale, c)
                }
            }
            cursor += (BitmapFont.glyphWidth + 1) * scale
        }
        return cursor - x
    }

    public static func textWidth(_ string: String, scale: Int = 2) -> Int { string.count * (BitmapFont.glyphWidth + 1) * scale }
}
