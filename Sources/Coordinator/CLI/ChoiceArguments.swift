import ArgumentParser
import Media
import Shared

// Every option whose values form a fixed set is one of these types (issue 19): a wrong value is refused while the
// command line is parsed — before any file is opened — with the list, exit 64 (EX_USAGE); `--help` shows the list and
// the generated shell completions offer it.
//
// Left as plain strings, on purpose: `--model` (a catalogue name *or* the path of your own NAME.param — an enum would
// refuse the path; the names are offered to completion and checked before any work, with both choices in the
// message), `--pixel-format` (the set is whatever the linked FFmpeg's encoder takes, and it depends on --codec; checked
// against FFmpeg before any work), `--metrics-host`/`--bind`/`--connect` (addresses) and the numeric options (ranges,
// checked before any work with the range in the message).

/// `--codec`: the film codecs. Image sequences take their codec from the output name (`-o out/frame_%06d.dpx`).
enum OutputCodec: String, CaseIterable, ExpressibleByArgument {
    case h264, ffv1

    var codec: VideoEncoding.Codec {
        switch self { case .h264: return .h264; case .ffv1: return .ffv1 }
    }
}

/// `--preset`: x264's presets, fastest to slowest (the same list as `VideoEncoding.x264Presets`, which the encoder
/// checks again).
enum X264Preset: String, CaseIterable, ExpressibleByArgument {
    case ultrafast, superfast, veryfast, faster, fast, medium, slow, slower, veryslow, placebo
}

/// `--interlaced auto|deinterlace|keep`.
extension InterlaceMode: ExpressibleByArgument {}

/// `--order auto|interp-first|sr-first`.
extension RetimeSettings.OrderChoice: ExpressibleByArgument {}

/// `--status auto|live|log|off`.
extension LiveViewMode: ExpressibleByArgument {}

/// `--interp`: the interpolation models of the catalogue and `blend`. Not an enum because the names come from
/// `ModelCatalogue` (one list for the CLI, the workers and `models`); `allValueStrings` gives parse-time refusal
/// with the list, the help's list and completion all the same.
struct InterpolatorName: ExpressibleByArgument, Equatable {
    let name: String

    init(_ name: String) { self.name = name }

    init?(argument: String) {
        guard RetimeRecipe.interpolators.contains(argument) else { return nil }
        name = argument
    }

    static var allValueStrings: [String] { RetimeRecipe.interpolators }
    static var defaultCompletionKind: CompletionKind { .list(allValueStrings) }
    var defaultValueDescription: String { name }
}
