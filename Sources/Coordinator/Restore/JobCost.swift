import CommandLineSupport
import Foundation
import Media
import Processors
import Shared

/// What a restore will cost, said before the work begins (issue 19, item 4): a model that runs at a larger scale
/// than asked (`--scale 2` with a ×4-only model runs ×4 and shrinks — the time is that of ×4, the sharpness mostly
/// too), and the whole job's time on the farm that is about to run it.
///
/// The time is measured, not looked up: one frame of this film (the trim's first) is restored here by the workers'
/// own `SegmentRenderer`, built from the job's recipe with one worker's threads and device (`Measurement`). So the
/// model's real scale (×4 before the shrink), its tiles and their context borders, the resize, the interpolator in
/// the recipe's order, this machine's speed and its load at the time are all in the figure. Before (the catalogue's
/// cost per megapixel of one core of the development machine): 0.02–0.03× the time taken (carphone ×4, the 1906 film
/// at --scale 2, carphone with RIFE to 60 fps; 2026-12-05, load 17–19 on 2 cores); measured this way, 0.6–1.9× (load
/// 6–19, the spread of the load) — the cases are in the issue-19 report, and `JobCostTests` checks real runs.
/// Left out: the analysis and split (a decode of the film, streaming while the farm runs), each segment's decode and
/// encode, the film restoration stages (`--deflicker` …: 0.005–0.16× of super-resolution) and the shots, which split
/// segments further (the segment count below is the least the film's length gives).
struct JobCost {
    var processor: String
    /// The model's scale the workers run (`RenderRecipe.modelScale`); nil for Lanczos.
    var modelScale: Int?
    var source: PixelSize
    var content: PixelSize
    /// The container's frame count estimate; nil (unknown): no time estimate.
    var inputFrames: Int64?
    var retime: RetimeRecipe?

    /// One frame of the film restored with the job's recipe, timed here before the work.
    struct Measurement {
        /// Seconds for one picture by one worker (`SegmentRenderer.Cost`), scaled from the crop to the whole frame.
        var cost: SegmentRenderer.Cost
        /// Seconds to load the models (each worker does it once, all at the same time).
        var load: Double
        /// The threads it ran with (one worker's).
        var threads: Int
        /// The source frame it was timed on, and the part of it (the whole frame, or a centred crop of a large one).
        var frame: Int64
        var measured: PixelSize
        var wholeFrame: Bool
    }

    /// Who runs the segments: `workers` local worker processes (or this process, in-process: 1) of `threads` each;
    /// nil workers: remote workers over the network, their number unknown before they join.
    struct Farm {
        var workers: Int?
        var threads: Int
        var maxSegmentFrames: Int
        var overlapFrames: Int
    }

    /// Frames of a large picture beyond this many pixels are timed on a centred crop of this size and scaled by area
    /// (0.26 MP: 512x512, about 2 s of one core for realesr-general ×4 at the catalogue's speed).
    static let cropSide = 512

    /// Times the recipe on the first frame the job restores (and the next, retimed). Nil for Lanczos (classical,
    /// cheap) or when the film gives no frame; a failure here is the job's failure (the same model, the same frames).
    static func measure(recipe: RenderRecipe, source: MediaSource, rate: Rational, threads: Int, device: ComputeDevice) throws -> Measurement? {
        guard recipe.processor != "lanczos" || recipe.retime != nil else { return nil }
        let reader = try ConstantRateReader(source: source, rate: rate, threads: threads)
        let converter = PixelConverter()
        guard let first = try reader.next() else { return nil }
        let second = recipe.retime == nil ? nil : try reader.next()
        let loadStarted = DispatchTime.now().uptimeNanoseconds
        let renderer = try SegmentRenderer(recipe: recipe, threads: threads, device: device)
        let load = Double(DispatchTime.now().uptimeNanoseconds - loadStarted) / 1e9
        let whole = try converter.rgbImage(from: first.picture)
        let part = whole.centre(width: cropSide, height: cropSide)
        let next = try second.map { try converter.rgbImage(from: $0.picture).centre(width: cropSide, height: cropSide) }
        let isWhole = part.size == whole.size
        var cost = try renderer.cost(of: part, next, wholeFrame: isWhole)
        let area = Double(whole.size.pixelCount) / Double(part.size.pixelCount)
        cost.restore *= area
        cost.interpolate = cost.interpolate.map { $0 * area }
        return Measurement(cost: cost, load: load, threads: threads, frame: source.trim?.first ?? 0, measured: part.size, wholeFrame: isWhole)
    }

    /// Output pictures per source frame (1 without retiming) and interpolated ones among them.
    private var rates: (outputs: Double, interpolated: Double) {
        guard let retime else { return (1, 0) }
        let r = (retime.outputRate / retime.inputRate).doubleValue
        let exact = 1 / Double((retime.inputRate / retime.outputRate).numerator)
        return (r, max(0, r - exact))
    }

    /// Seconds of one worker (of the measured threads) per source frame: super-resolution on every picture it runs
    /// on (each source frame when it runs first, each output picture when interpolation runs first), plus the
    /// interpolated pictures.
    func secondsPerFrame(_ m: Measurement) -> Double {
        let (outputs, interpolated) = rates
        let restores = retime?.order == .interpolateFirst ? outputs : 1
        return restores * m.cost.restore + interpolated * (m.cost.interpolate ?? 0)
    }

    /// The whole job's seconds on `farm` (nil: unknown, remote workers or an unknown length): the models' load, then
    /// the segments — at least one per `maxSegmentFrames`, neighbours sharing `overlapFrames` each side of a seam —
    /// dealt out to the workers in rounds.
    func seconds(_ m: Measurement, farm: Farm) -> Double? {
        guard let frames = inputFrames, frames > 0, let workers = farm.workers, workers > 0 else { return nil }
        let segments = max(1, (frames + Int64(farm.maxSegmentFrames) - 1) / Int64(max(1, farm.maxSegmentFrames)))
        let framesPerSegment = Double(frames) / Double(segments) + (segments > 1 ? Double(farm.overlapFrames) : 0)
        let rounds = (segments + Int64(workers) - 1) / Int64(workers)
        return m.load + Double(rounds) * framesPerSegment * secondsPerFrame(m)
    }

    /// The model overshoots when its scale makes a picture larger than the output needs in both directions.
    var overshoot: Bool {
        guard let modelScale else { return false }
        return source.width * modelScale > content.width && source.height * modelScale > content.height
    }

    /// Catalogue models that could reach `content` at a smaller scale than `modelScale` (what to choose instead).
    var cheaperModels: [String] {
        guard let modelScale else { return [] }
        return ModelCatalogue.entries(.superResolution).filter { entry in
            entry.scales.contains { $0 < modelScale && source.width * $0 >= content.width && source.height * $0 >= content.height }
        }.map(\.name)
    }

    /// The notes for the start of the job.
    func lines(measurement m: Measurement?, farm: Farm) -> [String] {
        var lines: [String] = []
        let name = OwnModel.isPath(processor) ? URL(fileURLWithPath: processor).lastPathComponent : processor
        if overshoot, let modelScale {
            let made = PixelSize(width: source.width * modelScale, height: source.height * modelScale)
            let instead = cheaperModels.isEmpty ? "" : " (\(cheaperModels.joined(separator: ", ")) can run at a smaller scale)"
            lines.append("\(name) runs at ×\(modelScale) (\(source) → \(made)) and the result is shrunk to \(content): "
                + "the time is that of ×\(modelScale), not of the size you asked for\(instead)")
        }
        guard let m, let inputFrames else { return lines }
        let part = m.wholeFrame ? "the whole \(m.measured) frame" : "a \(m.measured) crop of the frame, scaled by area"
        var steps = String(format: "super-resolution %.3g s", m.cost.restore)
        if let between = m.cost.interpolate { steps += String(format: ", interpolation %.3g s a picture", between) }
        var line = "estimate before starting: \(String(format: "%.3g", secondsPerFrame(m))) s per source frame for one worker of \(m.threads) thread(s) "
            + "(\(steps); timed on frame \(m.frame), \(part)), \(inputFrames) frames"
        if let total = seconds(m, farm: farm), let workers = farm.workers {
            line += " on \(workers) worker(s): about \(JobCost.duration(total)) (\(String(format: "%.1f", total)) s)"
        } else {
            line += ": about \(JobCost.duration(secondsPerFrame(m) * Double(inputFrames))) on one such worker; on a farm of N, that divided by N"
        }
        lines.append(line + "; the progress line's ETA follows the speed actually measured")
        return lines
    }

    /// 45 s, 12 min, 3 h 20 min, 2 d 5 h.
    static func duration(_ seconds: Double) -> String {
        switch seconds {
        case ..<90: return "\(max(1, Int(seconds.rounded()))) s"
        case ..<5400: return "\(Int((seconds / 60).rounded())) min"
        case ..<172_800: return "\(Int(seconds / 3600)) h \(Int(seconds.truncatingRemainder(dividingBy: 3600) / 60)) min"
        default: return "\(Int(seconds / 86400)) d \(Int(seconds.truncatingRemainder(dividingBy: 86400) / 3600)) h"
        }
    }

    /// Writes the lines as notes (JSON records with `--log-format json`), unless quiet.
    func report(measurement: Measurement?, farm: Farm, quiet: Bool) {
        guard !quiet || LogFormat.current == .json else { return }
        for line in lines(measurement: measurement, farm: farm) { ConsoleLine.write(.notice, "note", line, label: "lumiere-coordinator") }
    }
}
