import CommandLineSupport
import Foundation
import Processors
import Shared

/// What a restore will cost, said before the work begins (issue 19, item 4): a model that runs at a larger scale
/// than asked (`--scale 2` with a ×4-only model runs ×4 and shrinks — the time is that of ×4, the sharpness mostly
/// too), and an estimate of the whole job's time from the catalogue's measured cost per megapixel.
///
/// The estimate is rough on purpose and says so: `ModelEntry.secondsPerMegapixel` is one core of the development
/// machine (other CPUs differ by 2× either way), the frame count is the container's estimate before the analysis,
/// and the split, analysis and final encode (seconds to minutes) are left out. Not priced yet, and so a low figure:
/// each tile's context border (34 px for the realesr-general models: ×1.9 the pixels of a 214x160 frame, ×1.6 on
/// 256-px tiles) and the workers' decode/encode per segment. Measured (2026-12-05, the shared 2-core VM at load
/// average 6.5): the 1906 film at --scale 2 with realesr-general-wdn was estimated at 38 s and took 572 s wall. It is to tell a 2-hour job from a
/// 2-day one before committing the farm, not to promise a finish time: the progress line's ETA, from the speed
/// actually measured, takes over once the work runs.
struct JobCost {
    var processor: String
    /// The model's scale the workers run (`RenderRecipe.modelScale`); nil for Lanczos.
    var modelScale: Int?
    var source: PixelSize
    var content: PixelSize
    /// The container's frame count estimate; nil (unknown): no time estimate.
    var inputFrames: Int64?
    var retime: RetimeRecipe?

    /// Core-seconds for the whole film: super-resolution on every frame it runs on, plus the interpolated frames
    /// (the same model of cost as `RetimeSettings.cheaperOrder`). Nil for Lanczos (classical: cheap).
    var coreSeconds: Double? {
        guard processor != "lanczos", let frames = inputFrames.map(Double.init), frames > 0 else { return nil }
        let sourceMP = Double(source.pixelCount) / 1e6, contentMP = Double(content.pixelCount) / 1e6
        let sr = ModelCatalogue.secondsPerMegapixel(processor, kind: .superResolution)
        // The catalogue's figures are for each model's largest scale; a ×2 run of animevideov3 costs about the same
        // per input pixel (the same body, a different last layer).
        guard let retime else { return frames * sr * sourceMP }
        let r = (retime.outputRate / retime.inputRate).doubleValue
        let exact = 1 / Double((retime.inputRate / retime.outputRate).numerator)
        let interpolated = frames * max(0, r - exact)
        let rife = ModelCatalogue.secondsPerMegapixel(retime.interpolator, kind: .interpolation)
        switch retime.order {
        case .interpolateFirst: return frames * r * sr * sourceMP + interpolated * rife * sourceMP
        case .superResolutionFirst: return frames * sr * sourceMP + interpolated * rife * contentMP
        }
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

    /// The notes for the start of the job. `cores`: what the local workers use; nil when workers join over the
    /// network (`--bind`) and the farm's size is not known yet.
    func lines(cores: Int?) -> [String] {
        var lines: [String] = []
        let name = OwnModel.isPath(processor) ? URL(fileURLWithPath: processor).lastPathComponent : processor
        if overshoot, let modelScale {
            let made = PixelSize(width: source.width * modelScale, height: source.height * modelScale)
            let instead = cheaperModels.isEmpty ? "" : " (\(cheaperModels.joined(separator: ", ")) can run at a smaller scale)"
            lines.append("\(name) runs at ×\(modelScale) (\(source) → \(made)) and the result is shrunk to \(content): "
                + "the time is that of ×\(modelScale), not of the size you asked for\(instead)")
        }
        if let total = coreSeconds, let inputFrames {
            let perFrame = total / Double(inputFrames)
            let unknown = OwnModel.isPath(processor) || ModelCatalogue.entry(named: processor) == nil ? ", priced as the default model" : ""
            var line = "estimate before starting: \(String(format: "%.2g", perFrame)) s of one core per source frame (\(inputFrames) frames, "
                + "the catalogue's speed on the development machine\(unknown)): about \(JobCost.duration(total)) of CPU"
            if let cores, cores > 0 {
                line += ", \(JobCost.duration(total / Double(cores))) on this machine's \(cores) core(s)"
            } else {
                line += "; on a farm of N cores, that divided by N"
            }
            lines.append(line + "; the progress line's ETA follows the speed actually measured")
        }
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
    func report(cores: Int?, quiet: Bool) {
        guard !quiet || LogFormat.current == .json else { return }
        for line in lines(cores: cores) { ConsoleLine.write(.notice, "note", line, label: "lumiere-coordinator") }
    }
}
