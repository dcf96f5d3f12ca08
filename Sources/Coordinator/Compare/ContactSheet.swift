import Foundation
import Media
import Shared

/// The layout of `compare`'s sheet, pure: one row per time, one column per variant, each cell the same crop of that
/// variant's picture at output scale with a black label strip under it, cells `gap` pixels apart on a grey ground.
/// Labels are sized so their longest line fits a cell at DejaVu Sans Mono's fixed advance (`TextOverlay.monoAdvance`);
/// a line that would not fit even at the smallest size is shortened with "…".
struct ContactSheet: Equatable {
    /// The picture part of every cell (the crop).
    let panel: PixelSize
    let columns: Int
    let rows: Int
    let labelLines: Int
    let fontSize: Int

    static let gap = 8
    static let padding = 4
    static let largestFont = 16
    static let smallestFont = 8
    /// The ground between cells and the label strips' colour: told apart by tests and by eye.
    static let ground: [UInt8] = [48, 48, 48]
    static let strip: [UInt8] = [0, 0, 0]

    /// `longestLine`: characters in the longest label line.
    init(panel: PixelSize, columns: Int, rows: Int, labelLines: Int, longestLine: Int) {
        self.panel = panel
        self.columns = columns
        self.rows = rows
        self.labelLines = labelLines
        let fits = Double(panel.width - 2 * ContactSheet.padding) / (Double(max(1, longestLine)) * TextOverlay.monoAdvance)
        fontSize = min(ContactSheet.largestFont, max(ContactSheet.smallestFont, Int(fits.rounded(.down))))
    }

    var lineHeight: Int { fontSize + fontSize / 4 + 1 }
    var stripHeight: Int { labelLines * lineHeight + 2 * ContactSheet.padding }
    var cell: PixelSize { PixelSize(width: panel.width, height: panel.height + stripHeight) }
    var size: PixelSize {
        PixelSize(width: columns * cell.width + (columns + 1) * ContactSheet.gap, height: rows * cell.height + (rows + 1) * ContactSheet.gap)
    }

    /// Top-left corner of the picture of cell (row, column); its label strip starts `panel.height` below.
    func origin(row: Int, column: Int) -> (x: Int, y: Int) {
        (ContactSheet.gap + column * (cell.width + ContactSheet.gap), ContactSheet.gap + row * (cell.height + ContactSheet.gap))
    }

    /// Characters of a label line that fit a cell at the chosen size.
    var charactersPerLine: Int { max(1, Int(Double(panel.width - 2 * ContactSheet.padding) / (Double(fontSize) * TextOverlay.monoAdvance))) }

    /// The label lines of cell (row, column), placed in its strip (shortened with "…" where they do not fit).
    func labels(_ lines: [String], row: Int, column: Int) -> [TextLabel] {
        let (x, y) = origin(row: row, column: column)
        let fit = charactersPerLine
        return lines.prefix(labelLines).enumerated().map { i, line in
            let text = line.count <= fit ? line : String(line.prefix(max(0, fit - 1))) + "…"
            return TextLabel(text: text, x: x + ContactSheet.padding, y: y + panel.height + ContactSheet.padding + i * lineHeight, size: fontSize)
        }
    }

    /// The sheet without text: ground, strips, and each cell's picture (`pictures[row][column]`, RGB24 of `panel` size).
    func compose(_ pictures: [[[UInt8]]]) -> [UInt8] {
        let size = self.size
        var out = [UInt8](repeating: 0, count: size.pixelCount * 3)
        for i in 0..<size.pixelCount { out[3 * i] = ContactSheet.ground[0]; out[3 * i + 1] = ContactSheet.ground[1]; out[3 * i + 2] = ContactSheet.ground[2] }
        let rowBytes = panel.width * 3
        for (r, row) in pictures.enumerated() {
            for (c, picture) in row.enumerated() {
                precondition(picture.count == panel.pixelCount * 3, "compose: a picture is not \(panel)")
                let (x, y) = origin(row: r, column: c)
                for line in 0..<cell.height {
                    let at = ((y + line) * size.width + x) * 3
                    if line < panel.height {
                        out.replaceSubrange(at..<(at + rowBytes), with: picture[(line * rowBytes)..<((line + 1) * rowBytes)])
                    } else {
                        for p in 0..<panel.width { out[at + 3 * p] = ContactSheet.strip[0]; out[at + 3 * p + 1] = ContactSheet.strip[1]; out[at + 3 * p + 2] = ContactSheet.strip[2] }
                    }
                }
            }
        }
        return out
    }

    /// A crop of a float RGB picture as 8-bit interleaved RGB (rounded, clipped: what an 8-bit output shows).
    static func rgb24(_ image: RGBImage, crop: PixelRect) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: crop.width * crop.height * 3)
        let plane = image.planeCount
        image.pixels.withUnsafeBufferPointer { src in
            for y in 0..<crop.height {
                for x in 0..<crop.width {
                    let s = (crop.y + y) * image.width + crop.x + x
                    for c in 0..<3 {
                        out[(y * crop.width + x) * 3 + c] = UInt8(min(255, max(0, (src[c * plane + s] * 255).rounded())))
                    }
                }
            }
        }
        return out
    }
}

/// A rectangle in pixels, written WxH+X+Y (ImageMagick's and X11's geometry syntax).
struct PixelRect: Equatable, CustomStringConvertible {
    var width: Int, height: Int, x: Int, y: Int

    init(width: Int, height: Int, x: Int, y: Int) { self.width = width; self.height = height; self.x = x; self.y = y }

    /// Parses "320x240+100+40" (a missing offset is +0+0).
    init?(parsing text: String) {
        let parts = text.split(separator: "+", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 3, let size = PixelSize(parsing: String(parts[0])) else { return nil }
        var offsets = (0, 0)
        if parts.count == 3 {
            guard let x = Int(parts[1]), let y = Int(parts[2]), x >= 0, y >= 0 else { return nil }
            offsets = (x, y)
        }
        self.init(width: size.width, height: size.height, x: offsets.0, y: offsets.1)
    }

    var description: String { "\(width)x\(height)+\(x)+\(y)" }

    func fits(in size: PixelSize) -> Bool { x + width <= size.width && y + height <= size.height }
}
