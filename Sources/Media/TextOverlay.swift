import CFFmpeg
import Foundation

/// One line of text to draw: its top-left corner in pixels and its size (the font's em, in pixels).
public struct TextLabel: Sendable, Equatable {
    public var text: String
    public var x: Int
    public var y: Int
    public var size: Int

    public init(text: String, x: Int, y: Int, size: Int) {
        self.text = text
        self.x = x
        self.y = y
        self.size = size
    }
}

/// Draws text on an 8-bit RGB picture with libavfilter's `drawtext` (FreeType) and a TrueType font from Debian's
/// fonts-dejavu-core — a real text renderer (hinting, anti-aliasing, any Unicode the font has, `×` and `…`
/// included) through the FFmpeg libraries Lumière links already, instead of a hand-made bitmap font
/// (`BitmapFont`, 5x7 ASCII, is for the throughput plot's digits). No new library: Debian's libavfilter is built with
/// libfreetype. DejaVu Sans *Mono* on purpose: every glyph advances 0.602 em, so a caller can size a label to fit a
/// panel before drawing it (`monoAdvance`), with no text-measuring API.
public enum TextOverlay {
    /// fonts-dejavu-core's monospaced face (scripts/setup.sh installs it).
    public static let defaultFont = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
    /// Advance of one glyph of DejaVu Sans Mono, in ems (1233/2048 font units).
    public static let monoAdvance = 1233.0 / 2048.0
    /// Bounds on what one call draws: a label is a line, not a document.
    public static let maxLabels = 4096
    public static let maxTextBytes = 512
    public static let sizes = 4...256

    /// The font to draw with: `$LUMIERE_FONT` when set, else DejaVu Sans Mono; a missing file says what to install.
    public static func font() throws -> String {
        let path = ProcessInfo.processInfo.environment["LUMIERE_FONT"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultFont
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw MediaError.invalidSetting("no font at \(path) to write the labels with: install Debian's fonts-dejavu-core (scripts/setup.sh does), "
                + "or point LUMIERE_FONT at a TrueType font")
        }
        return path
    }

    /// Draws `labels` in white on `pixels` (interleaved RGB24, `width * height * 3` bytes, rows top to bottom).
    public static func draw(_ labels: [TextLabel], on pixels: inout [UInt8], width: Int, height: Int, font: String) throws {
        guard (1...ImageWriter.maxSide).contains(width), (1...ImageWriter.maxSide).contains(height), pixels.count == width * height * 3 else {
            throw MediaError.invalidSize("\(pixels.count) bytes for a \(width)x\(height) RGB picture")
        }
        guard labels.count <= maxLabels else { throw MediaError.invalidSetting("\(labels.count) labels, more than \(maxLabels)") }
        for label in labels {
            guard label.text.utf8.count <= maxTextBytes, sizes.contains(label.size), !label.text.contains("\n") else {
                throw MediaError.invalidSetting("a label must be one line of at most \(maxTextBytes) bytes at \(sizes) px: \(label.text.prefix(40))")
            }
        }
        let drawn = labels.filter { !$0.text.isEmpty }
        guard !drawn.isEmpty else { return }
        _ = FFmpeg.configureLogging
        guard let drawtext = avfilter_get_by_name("drawtext") else {
            throw MediaError.unsupportedCodec("this FFmpeg's libavfilter has no drawtext filter (it is built without libfreetype); use Debian's libavfilter")
        }
        var graph = avfilter_graph_alloc()
        guard let g = graph else { throw MediaError.ffmpeg(operation: "avfilter_graph_alloc", code: -12, message: "out of memory") }
        defer { avfilter_graph_free(&graph) }
        g.pointee.nb_threads = 1
        var source: UnsafeMutablePointer<AVFilterContext>?, sink: UnsafeMutablePointer<AVFilterContext>?
        let args = "video_size=\(width)x\(height):pix_fmt=\(AV_PIX_FMT_RGB24.rawValue):time_base=1/1:pixel_aspect=1/1"
        try FFmpeg.check(avfilter_graph_create_filter(&source, avfilter_get_by_name("buffer"), "in", args, nil, g), "creating the label drawer's input")
        try FFmpeg.check(avfilter_graph_create_filter(&sink, avfilter_get_by_name("buffersink"), "out", nil, nil, g), "creating the label drawer's output")
        var previous = source
        for (i, label) in drawn.enumerated() {
            guard let context = avfilter_graph_alloc_filter(g, drawtext, "label\(i)") else {
                throw MediaError.ffmpeg(operation: "avfilter_graph_alloc_filter(drawtext)", code: -12, message: "out of memory")
            }
            // Options set one by one, not as a filter string: the text needs no escaping (a `:` or `'` in a model's
            // settings stays what it is), and `expansion=none` keeps `%{…}` literal.
            let options = [("fontfile", font), ("text", label.text), ("expansion", "none"), ("fontsize", "\(label.size)"),
                           ("fontcolor", "white"), ("x", "\(label.x)"), ("y", "\(label.y)")]
            for (key, value) in options {
                try FFmpeg.check(av_opt_set(context, key, value, AV_OPT_SEARCH_CHILDREN), "setting drawtext's \(key)")
            }
            try FFmpeg.check(avfilter_init_str(context, nil), "loading the font \(font) for drawtext")
            try FFmpeg.check(avfilter_link(previous, 0, context, 0), "linking the label drawer")
            previous = context
        }
        try FFmpeg.check(avfilter_link(previous, 0, sink, 0), "linking the label drawer")
        try FFmpeg.check(avfilter_graph_config(g, nil), "configuring the label drawer for \(width)x\(height)")

        var frame = av_frame_alloc()
        guard let f = frame else { throw MediaError.ffmpeg(operation: "av_frame_alloc", code: -12, message: "out of memory") }
        defer { av_frame_free(&frame) }
        f.pointee.width = Int32(width)
        f.pointee.height = Int32(height)
        f.pointee.format = AV_PIX_FMT_RGB24.rawValue
        f.pointee.pts = 0
        try FFmpeg.check(av_frame_get_buffer(f, 0), "av_frame_get_buffer")
        let rowBytes = width * 3
        pixels.withUnsafeBufferPointer { src in
            let stride = Int(f.pointee.linesize.0)
            for y in 0..<height { (f.pointee.data.0! + y * stride).update(from: src.baseAddress! + y * rowBytes, count: rowBytes) }
        }
        try FFmpeg.check(av_buffersrc_add_frame_flags(source, f, 0), "drawing the labels")
        try FFmpeg.check(av_buffersrc_add_frame_flags(source, nil, 0), "drawing the labels (end)")
        av_frame_unref(f)
        try FFmpeg.check(av_buffersink_get_frame(sink, f), "receiving the labelled picture")
        guard f.pointee.format == AV_PIX_FMT_RGB24.rawValue, Int(f.pointee.width) == width, Int(f.pointee.height) == height else {
            throw MediaError.invalidSize("the label drawer gave a \(f.pointee.width)x\(f.pointee.height) picture of format \(f.pointee.format)")
        }
        pixels.withUnsafeMutableBufferPointer { dst in
            let stride = Int(f.pointee.linesize.0)
            for y in 0..<height { (dst.baseAddress! + y * rowBytes).update(from: f.pointee.data.0! + y * stride, count: rowBytes) }
        }
    }
}
