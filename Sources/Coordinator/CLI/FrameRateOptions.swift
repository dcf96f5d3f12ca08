import ArgumentParser
import Processors
import Shared

/// `restore --fps RATE [--interp NAME] [--order ...] [--duplicate-threshold X | --keep-duplicates]`.
struct FrameRateOptions: ParsableArguments {
    @Option(help: ArgumentHelp("""
        Output frame rate, e.g. 60, 24, 24000/1001 or 29.97. Output frame k shows the film at k/RATE; frames that \
        land between two source frames are interpolated, never across a cut (there the nearer shot's frame is held). \
        Default: the source's rate, nothing interpolated.
        """, valueName: "rate"))
    var fps: String?

    @Option(help: "Interpolator for --fps (blend = plain crossfade, the cheap baseline).")
    var interp = InterpolatorName(RetimeSettings.defaultInterpolator)

    @Option(help: "With --fps and a model: interp-first (interpolate small frames, upscale every output), sr-first (upscale the source frames, interpolate big ones), or auto (the cheaper for this film and model).")
    var order: RetimeSettings.OrderChoice = .auto

    @Option(help: ArgumentHelp("""
        With --fps: consecutive frames scoring below this are one picture printed twice (or a stalled projector) and the motion \
        is spread over them. 0…1; \(DuplicateDetector.defaultThreshold) catches digital repeats but not the slowest real motion; \
        raise it for grainy prints (docs/retiming.md).
        """, valueName: "score"))
    var duplicateThreshold: Double = DuplicateDetector.defaultThreshold

    @Flag(help: "With --fps: keep duplicate frames as they are (motion stutters where the source repeats a frame).")
    var keepDuplicates = false

    func settings() throws -> RetimeSettings? {
        guard let fps else {
            if interp.name != RetimeSettings.defaultInterpolator || order != .auto || keepDuplicates
                || duplicateThreshold != DuplicateDetector.defaultThreshold {
                throw ValidationFailure("--interp, --order, --duplicate-threshold and --keep-duplicates need --fps (the output frame rate)")
            }
            return nil
        }
        guard let rate = Rational(parsing: fps), rate > .zero, rate <= Rational(1000) else {
            throw ValidationFailure("--fps must be a positive rate up to 1000 such as 60, 24000/1001 or 29.97, got \(fps)")
        }
        guard (0...1).contains(duplicateThreshold) else { throw ValidationFailure("--duplicate-threshold must lie within 0…1, got \(duplicateThreshold)") }
        return RetimeSettings(outputRate: rate, interpolator: interp.name, order: order, duplicateThreshold: keepDuplicates ? nil : duplicateThreshold)
    }
}
