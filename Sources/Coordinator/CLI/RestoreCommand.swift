import ArgumentParser
import Foundation
import Media
import Processors
import Shared

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a film: upscale it and write a new file with the original audio and subtitles.",
        discussion: """
        The output keeps every frame of the input at a constant frame rate (variable-rate input is
        normalised by timestamp, see docs/media.md), and the source's audio and subtitles unchanged
        when the container allows (otherwise audio is re-encoded to AAC, with a warning).
        The file appears at OUTPUT only when it is complete.

        Examples:
          lumiere-coordinator restore calais.ogv -o calais-4x.mp4 --scale 4
          lumiere-coordinator restore calais.ogv -o calais-uhd.mp4 --size 3840x2160
          lumiere-coordinator restore film.mkv -o master.mkv --codec ffv1
        """)

    @Argument(help: "The film to restore (any format FFmpeg reads).")
    var input: String

    @Option(name: [.short, .long], help: "Where to write the result (.mp4, .mkv or .mov).")
    var output: String

    @Option(help: "Upscale factor, 1…8 (ignored when --size is given).")
    var scale: Int = 2

    @Option(help: ArgumentHelp("Exact output size WxH, e.g. 3840x2160; the picture keeps its aspect ratio.", valueName: "WxH"))
    var size: String?

    @Flag(inversion: .prefixedNo, help: "With --size: pad with black to exactly WxH (otherwise the output is the fitted picture size).")
    var pad: Bool = true

    @Option(help: "Frame processor: \(RestoreSettings.Processor.allCases.map(\.rawValue).joined(separator: ", ")). lanczos is classical (swscale) resampling.")
    var processor: String = RestoreSettings.Processor.lanczos.rawValue

    @Option(help: "Video codec: h264 (libx264, yuv420p, plays everywhere) or ffv1 (lossless, for masters and intermediates).")
    var codec: String = VideoEncoding.Codec.h264.rawValue

    @Option(help: "x264 quality, 0 (lossless) … 51; 18 is visually transparent for film.")
    var crf: Int = 18

    @Option(help: "x264 preset: ultrafast … veryslow; slower gives smaller files at the same quality.")
    var preset: String = "slow"

    @Option(help: "Output pixel format, e.g. yuv420p (default for h264) or yuv444p.")
    var pixelFormat: String?

    @Option(help: "Threads for decoding, processing and encoding (0 = all cores).")
    var threads: Int = 0

    @Flag(help: "No progress output.")
    var quiet = false

    func run() throws {
        try failing {
            let geometry: OutputGeometry.Request
            if let size {
                guard let box = PixelSize(parsing: size) else { throw ValidationFailure("--size must look like 3840x2160, got \(size)") }
                geometry = .size(box, pad: pad)
            } else {
                geometry = .scale(scale)
            }
            guard let processor = RestoreSettings.Processor(rawValue: processor) else {
                throw ValidationFailure("unknown --processor \(self.processor); choose one of \(RestoreSettings.Processor.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let codec = VideoEncoding.Codec(rawValue: codec) else {
                throw ValidationFailure("unknown --codec \(self.codec); choose h264 or ffv1")
            }
            guard threads >= 0 else { throw ValidationFailure("--threads must be 0 (all cores) or more") }
            var encoding = VideoEncoding(codec: codec, crf: crf, preset: preset, pixelFormat: pixelFormat)
            if codec == .ffv1, pixelFormat == nil { encoding.pixelFormat = "yuv420p" }
            let settings = RestoreSettings(input: input, output: output, geometry: geometry, processor: processor,
                                           encoding: encoding, threads: threads, quiet: quiet)
            let summary = try RestorePipeline(settings: settings).run()
            if !quiet {
                FileHandle.standardError.write(Data("wrote \(output): \(summary.frames) frames, \(summary.size) at \(summary.rate) fps in \(String(format: "%.1f", summary.seconds)) s\n".utf8))
            }
        }
    }
}

/// A command-line value that makes no sense, said in one sentence.
struct ValidationFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
