// The film-restoration oracle (issue 20): clean real clips get known synthetic damage (flicker, dust, weave), our
// stages and FFmpeg's filters restore them in the same run, and each is scored against the clean clip.
// Usage: lumiere-film-bench [frames (40)] [width (400)]   — footage from $LUMIERE_FOOTAGE or ../shared/footage.
import Foundation
import Processors
import Shared
import TestSupport

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let frameCount = arguments.first ?? 40
let width = arguments.count > 1 ? arguments[1] : 400

struct Clip { var file: String; var start: Int }
// Moving footage inside one shot: bikes (fixed camera, cars and cyclists crossing) and the city (slow camera move).
let clips = ProcessInfo.processInfo.environment["ONE_CLIP"] == "city" ? [Clip(file: "video/cityCC0.mpg", start: 20)] : ProcessInfo.processInfo.environment["ONE_CLIP"] != nil ? [Clip(file: "video/bikes.mp4", start: 137)] : [Clip(file: "video/bikes.mp4", start: 137), Clip(file: "video/cityCC0.mpg", start: 20)]

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}
func f1(_ v: Double) -> String { String(format: "%.1f", v) }
func f3(_ v: Double) -> String { String(format: "%.3f", v) }
func scores(_ a: [RGBImage], _ clean: [RGBImage], margin: Int = 0) -> String {
    "\(f1(ImageQuality.meanPSNR(a, clean, margin: margin))) dB / \(f3(ImageQuality.meanSSIM(a, clean, margin: margin)))"
}
/// RMS (px, 2-D) of each frame's remaining shift against the clean frame, after removing the clip's mean shift.
func weaveResidual(_ frames: [RGBImage], _ clean: [RGBImage]) -> Double {
    let shifts = zip(clean, frames).map { TranslationEstimator.estimate(from: Plane(luma: $0), to: Plane(luma: $1)) }
    let mx = shifts.map(\.dx).reduce(0, +) / Double(shifts.count), my = shifts.map(\.dy).reduce(0, +) / Double(shifts.count)
    return (shifts.map { ($0.dx - mx) * ($0.dx - mx) + ($0.dy - my) * ($0.dy - my) }.reduce(0, +) / Double(shifts.count)).squareRoot()
}

setvbuf(stdout, nil, _IOLBF, 0)
print("film-restore-bench: \(frameCount) frames a clip at \(width) px wide; PSNR dB / SSIM against the clean clip")
for clip in clips {
    let path = try Fixtures.requireFootage(clip.file)
    let clean = try FootageFrames.load(path, start: clip.start, count: frameCount, width: width)
    let size = clean[0].size
    print("\n== \(clip.file) frames \(clip.start)…\(clip.start + clean.count - 1) at \(size)")
    let sr = try NeuralUpscaler(modelName: "realesr-animevideov3", scale: 2, threads: ProcessInfo.processInfo.activeProcessorCount, tileSize: 256)
    _ = try sr.apply(clean[0])
    let srPerFrame = try seconds { for f in clean.prefix(2) { _ = try sr.apply(f) } } / 2
    print("super-resolution reference: realesr-animevideov3 x2, \(f1(srPerFrame * 1000)) ms/frame")
    func cost(_ perFrame: Double) -> String { "\(f1(perFrame * 1000)) ms/frame = \(f3(perFrame / srPerFrame)) × SR" }

    let stages = ProcessInfo.processInfo.environment["STAGES"] ?? "deflicker,dust,stabilise"
    if stages.contains("deflicker") {
    // Deflicker.
    let flicker = FilmDamage.flicker(clean, seed: 20)
    let deflicker = try Deflicker()
    var ours: [RGBImage] = []
    let t1 = try seconds { ours = try TemporalRun.apply(deflicker, shot: flicker.frames) }
    let ffDeflicker = try FootageFrames.ffmpeg(flicker.frames, passes: ["deflicker=size=\(2 * deflicker.radius + 1)"])
    let cleanDeflicker = try TemporalRun.apply(try Deflicker(), shot: clean)
    print("deflicker  degraded \(scores(flicker.frames, clean)) | ffmpeg deflicker \(scores(ffDeflicker, clean)) | ours \(scores(ours, clean))"
          + " | clean in→out \(f1(ImageQuality.meanPSNR(cleanDeflicker, clean))) dB | \(cost(t1 / Double(clean.count)))")

    }
    if stages.contains("dust") {
    // Dust.
    let dust = FilmDamage.dust(clean, seed: 21)
    let remover = try DustRemover(strength: Double(ProcessInfo.processInfo.environment["DUST_STRENGTH"] ?? "") ?? 1)
    var repaired: [RGBImage] = [], found: [[Bool]] = []
    let t2 = try seconds {
        for i in dust.frames.indices {
            let lo = max(0, i - remover.radius), hi = min(dust.frames.count, i + remover.radius + 1)
            let d = try remover.detect(window: Array(dust.frames[lo..<hi]), centre: i - lo)
            repaired.append(d.repaired); found.append(d.mask)
        }
    }
    let pr = ImageQuality.maskScores(found: found, painted: dust.painted, visible: dust.visible)
    if ProcessInfo.processInfo.environment["DUST_DIAG"] != nil {
        var hist = [Int](repeating: 0, count: 6), missed = 0
        for k in found.indices { for i in found[k].indices where dust.visible[k][i] && !found[k][i] {
            missed += 1
            let n = clean[k].planeCount
            let l = { (f: RGBImage) in 0.299 * f.pixels[i] + 0.587 * f.pixels[n + i] + 0.114 * f.pixels[2 * n + i] }
            hist[min(5, Int(abs(l(dust.frames[k]) - l(clean[k])) / 0.05))] += 1
        } }
        for k in [5, 15] {
            var f = dust.frames[k]
            let n = f.planeCount
            for i in 0..<n {
                let l = 0.299 * f.pixels[i] + 0.587 * f.pixels[n + i] + 0.114 * f.pixels[2 * n + i]
                var rgb = [l, l, l]
                if dust.visible[k][i] && !found[k][i] { rgb = [1, 0, 0] }
                if found[k][i] && dust.painted[k][i] { rgb = [0, 1, 0] }
                if found[k][i] && !dust.painted[k][i] { rgb = [0, 0, 1] }
                for c in 0..<3 { f.pixels[c * n + i] = rgb[c] }
            }
            try FootageFrames.rgb24([f, dust.frames[k], clean[k]]).write(to: URL(fileURLWithPath: "/tmp/dustdiag\(k).rgb"))
        }
        print("missed \(missed) by |Δluma| in 0.05 steps: \(hist)")
    }
    let ffDust = try FootageFrames.ffmpeg(dust.frames, passes: ["tmedian=radius=1"])
    let cleanDust = try TemporalRun.apply(try DustRemover(), shot: clean)
    print("dust       degraded \(scores(dust.frames, clean)) | ffmpeg tmedian \(scores(ffDust, clean)) | ours \(scores(repaired, clean))"
          + " | precision \(f3(pr.precision)) recall \(f3(pr.recall)) | clean in→out \(f1(ImageQuality.meanPSNR(cleanDust, clean))) dB | \(cost(t2 / Double(clean.count)))")

    }
    if stages.contains("stabilise") {
    // Weave.
    let weave = FilmDamage.weave(clean, seed: 22) { $0.translated(dx: $1, dy: $2, kernel: .lanczos3) }
    let env = ProcessInfo.processInfo.environment
    let stabiliser = try Stabiliser(radius: Int(env["STAB_R"] ?? "") ?? 30, pathDegree: Int(env["STAB_DEG"] ?? "") ?? 2)
    var steady: [RGBImage] = []
    let t3 = try seconds { steady = try TemporalRun.apply(stabiliser, shot: weave.frames) }
    let ffWeave = try FootageFrames.ffmpeg(weave.frames, passes: ["format=yuv444p,vidstabdetect=result={tmp}/t.trf",
                                                                  "format=yuv444p,vidstabtransform=input={tmp}/t.trf:optzoom=0:interpol=bicubic"])
    let cleanSteady = try TemporalRun.apply(try Stabiliser(radius: stabiliser.radius, pathDegree: stabiliser.pathDegree), shot: clean)
    if ProcessInfo.processInfo.environment["WEAVE_DIAG"] != nil {
        let known = clean.indices.map { TranslationEstimator.estimate(from: Plane(luma: clean[$0]), to: Plane(luma: weave.frames[$0])) }
        let err = clean.indices.map { hypot(known[$0].dx - weave.dx[$0], known[$0].dy - weave.dy[$0]) }
        print("estimator error on known weave: rms \(f3((err.map { $0 * $0 }.reduce(0, +) / Double(err.count)).squareRoot())) max \(f3(err.max()!))")
        let steps = (1..<clean.count).map { TranslationEstimator.estimate(from: Plane(luma: clean[$0 - 1]), to: Plane(luma: clean[$0])) }
        print("clean consecutive shifts: \(steps.map(\.description).joined(separator: " "))")
        let s2 = try Stabiliser()
        let corr = try clean.indices.map { i -> String in
            let lo = max(0, i - s2.radius), hi = min(clean.count, i + s2.radius + 1)
            return try s2.correction(window: Array(clean[lo..<hi]), centre: i - lo).description
        }
        print("clean corrections: \(corr.joined(separator: " "))")
    }
    let m = 8
    print("stabilise  degraded \(scores(weave.frames, clean, margin: m)) weave \(f3(weaveResidual(weave.frames, clean))) px"
          + " | ffmpeg vidstab \(scores(ffWeave, clean, margin: m)) weave \(f3(weaveResidual(ffWeave, clean))) px"
          + " | ours \(scores(steady, clean, margin: m)) weave \(f3(weaveResidual(steady, clean))) px"
          + " | clean in→out \(f1(ImageQuality.meanPSNR(cleanSteady, clean, margin: m))) dB | \(cost(t3 / Double(clean.count)))")
    }
}
