import ArgumentParser
import Shared

/// `restore --deflicker[=S] --dust[=S] --stabilise[=S] | --restore-film` (docs/film-restoration.md).
struct FilmRestorationOptions: ParsableArguments {
    @Option(help: ArgumentHelp("""
        Even out flicker (exposure changing frame to frame) while keeping fades: each frame's brightness and contrast are \
        moved toward a line fitted over ±7 frames of its shot. Strength 0.01…1, the fraction of the correction; \
        --deflicker alone is 1.
        """, valueName: "S"))
    var deflicker: Double?

    @Option(help: ArgumentHelp("""
        Remove dust, dirt and short scratches that appear in one frame only, repairing just those pixels from the \
        motion-compensated neighbours (±2 frames); anything that persists (motion, rain) is left alone. Strength 0.01…4 \
        (higher finds fainter defects); --dust alone is 1.
        """, valueName: "S"))
    var dust: Double?

    @Option(help: ArgumentHelp("""
        Remove gate weave (the picture jittering in the gate) while keeping camera moves: each frame is moved onto a \
        path smoothed over ±30 frames of its shot; borders are filled by repeating the edge. Strength 0.01…1; \
        --stabilise alone is 1.
        """, valueName: "S"))
    var stabilise: Double?

    @Flag(help: """
        All three film restoration stages at their measured defaults (--deflicker --dust --stabilise). The stages run in \
        the order deflicker, dust, stabilise, on the source frames at source size, before super-resolution and before \
        --fps interpolation; they read up to 39 frames either side, never across a cut, so each segment's workers also \
        decode that many context frames of its shot.
        """)
    var restoreFilm = false

    /// The stages asked for; nil: none.
    func film() throws -> RenderRecipe.FilmRestoration? {
        var film = RenderRecipe.FilmRestoration(deflicker: deflicker, dust: dust, stabilise: stabilise)
        if restoreFilm {
            film.deflicker = film.deflicker ?? FilmRestorationOptions.defaultStrength
            film.dust = film.dust ?? FilmRestorationOptions.defaultStrength
            film.stabilise = film.stabilise ?? FilmRestorationOptions.defaultStrength
        }
        guard !film.isEmpty else { return nil }
        for (name, value, range) in [("--deflicker", deflicker, RenderRecipe.FilmRestoration.deflickerRange),
                                     ("--dust", dust, RenderRecipe.FilmRestoration.dustRange),
                                     ("--stabilise", stabilise, RenderRecipe.FilmRestoration.stabiliseRange)] {
            if let value, !(value.isFinite && range.contains(value)) {
                throw ValidationFailure("\(name) strength must be \(range.lowerBound)…\(range.upperBound), got \(value)")
            }
        }
        return film
    }

    /// Strength 1 for every stage: the settings measured in docs/film-restoration.md (each stage's goals met on both clips).
    static let defaultStrength = 1.0
    static let optionalValueOptions = ["--deflicker", "--dust", "--stabilise"]

    /// ArgumentParser has no option with an optional value: a bare `--deflicker` (before any `--`) becomes
    /// `--deflicker=1`, so `--deflicker` and `--deflicker=0.5` both parse. A strength goes after `=`: a separate word
    /// after the bare option is read as the next argument, as for any flag.
    static func expandingBareOptions(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var ended = false
        for argument in arguments {
            if argument == "--" { ended = true }
            if !ended, optionalValueOptions.contains(argument) { result.append("\(argument)=\(defaultStrength)") } else { result.append(argument) }
        }
        return result
    }
}
