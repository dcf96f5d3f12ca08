// The film-restoration oracle (issue 20): clean real clips get known synthetic damage (flicker, dust, weave), our
// stages and FFmpeg's filters restore them in the same run, and each is scored against the clean clip.
// Usage: lumiere-film-bench [frames (50)] [width (400)]   — footage from $LUMIERE_FOOTAGE or ../shared/footage.
//        lumiere-film-bench film [sheet.png]            — the 1906 film before and after the whole chain.
// STAGES=deflicker,dust,stabilise (default all) picks the stages to score; DEFLICKER_COLUMNS=n tries a regional deflicker.
import Foundation
import Planning
import Processors
import Shared
import TestSupport

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let frameCount = arguments.first ?? 50
let width = arguments.count > 1 ? arguments[1] : 400

struct Clip { var file: String; var start: Int }
// Moving footage inside one shot: bikes (fixed camera, cars and cyclists crossing) and the city (slow camera move).
let clips = [Clip(file: "video/bikes.mp4", start: 137), Clip(file: "video/cityCC0.mpg", start: 20)]

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
if CommandLine.arguments.dropFirst().first == "film" {
    try realFilm(sheet: CommandLine.arguments.count > 2 ? CommandLine.arguments[2] : nil)
    exit(0)
}
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
    let deflicker = try Deflicker(columns: Int(ProcessInfo.processInfo.environment["DEFLICKER_COLUMNS"] ?? "") ?? 1)
    var ours: [RGBImage] = []
    let t1 = try seconds { ours = try TemporalRun.apply(deflicker, shot: flicker.frames) }
    let ffDeflicker = try FootageFrames.ffmpeg(flicker.frames, passes: ["deflicker=size=\(2 * deflicker.radius + 1)"])
    let cleanDeflicker = try TemporalRun.apply(try Deflicker(columns: deflicker.columns), shot: clean)
    print("deflicker  degraded \(scores(flicker.frames, clean)) | ffmpeg deflicker \(scores(ffDeflicker, clean)) | ours \(scores(ours, clean))"
          + " | clean in→out \(f1(ImageQuality.meanPSNR(cleanDeflicker, clean))) dB | \(cost(t1 / Double(clean.count)))")

    }
    if stages.contains("dust") {
    // Dust.
    let dust = FilmDamage.dust(clean, seed: 21)
    let remover = try DustRemover()
    var repaired: [RGBImage] = [], found: [[Bool]] = []
    let t2 = try seconds {
        for i in dust.frames.indices {
            let lo = max(0, i - remover.radius), hi = min(dust.frames.count, i + remover.radius + 1)
            let d = try remover.detect(window: Array(dust.frames[lo..<hi]), centre: i - lo)
            repaired.append(d.repaired); found.append(d.mask)
        }
    }
    let pr = ImageQuality.maskScores(found: found, painted: dust.painted, visible: dust.visible)
    let ffDust = try FootageFrames.ffmpeg(dust.frames, passes: ["tmedian=radius=1"])
    let cleanDust = try TemporalRun.apply(try DustRemover(), shot: clean)
    print("dust       degraded \(scores(dust.frames, clean)) | ffmpeg tmedian \(scores(ffDust, clean)) | ours \(scores(repaired, clean))"
          + " | precision \(f3(pr.precision)) recall \(f3(pr.recall)) | clean in→out \(f1(ImageQuality.meanPSNR(cleanDust, clean))) dB | \(cost(t2 / Double(clean.count)))")

    }
    if stages.contains("stabilise") {
    // Weave.
    let weave = FilmDamage.weave(clean, seed: 22) { $0.translated(dx: $1, dy: $2, kernel: .lanczos3) }
    let stabiliser = try Stabiliser()
    var steady: [RGBImage] = []
    let t3 = try seconds { steady = try TemporalRun.apply(stabiliser, shot: weave.frames) }
    let ffWeave = try FootageFrames.ffmpeg(weave.frames, passes: ["format=yuv444p,vidstabdetect=result={tmp}/t.trf",
                                                                  "format=yuv444p,vidstabtransform=input={tmp}/t.trf:optzoom=0:interpol=bicubic"])
    let cleanSteady = try TemporalRun.apply(try Stabiliser(radius: stabiliser.radius, pathDegree: stabiliser.pathDegree), shot: clean)
    let m = 8
    print("stabilise  degraded \(scores(weave.frames, clean, margin: m)) weave \(f3(weaveResidual(weave.frames, clean))) px"
          + " | ffmpeg vidstab \(scores(ffWeave, clean, margin: m)) weave \(f3(weaveResidual(ffWeave, clean))) px"
          + " | ours \(scores(steady, clean, margin: m)) weave \(f3(weaveResidual(steady, clean))) px"
          + " | clean in→out \(f1(ImageQuality.meanPSNR(cleanSteady, clean, margin: m))) dB | \(cost(t3 / Double(clean.count)))")
    }
}

/// The 1906 film through deflicker → dust → stabilise, shot by shot: flicker index, defects found per frame and weave
/// amplitude before and after (no ground truth here: these are the film's own statistics).
func realFilm(sheet: String?) throws {
    let path = try Fixtures.requireFootage("oldfilm/Shepard_Calais_1906_FrenchGP.160p.ogv")
    let film = try FootageFrames.load(path, start: 0, count: 100_000, width: 214)
    let cuts = try ShotDetector.detect(film.map { LumaThumbnail(image: $0) }).map(\.frame)
    let bounds = [0] + cuts + [film.count]
    let shots = zip(bounds, bounds.dropFirst()).map { $0..<$1 }.filter { !$0.isEmpty }
    print("1906 film: \(film.count) frames at \(film[0].size), shots \(shots.map { "\($0.lowerBound)…\($0.upperBound - 1)" }.joined(separator: ", "))")
    let chain = TemporalChain([try Deflicker(), try DustRemover(), try Stabiliser()])
    var restored: [RGBImage] = []
    let t = try seconds {
        for shot in shots {
            for i in shot { restored += try chain.push(film[i]) }
            restored += try chain.finish()
        }
    }
    print("chain (deflicker, dust, stabilise; radius \(chain.radius)): \(f1(t / Double(film.count) * 1000)) ms/frame")

    /// Spread (standard deviation, % of full scale) of frame mean luma around its 9-frame moving average in the shot.
    func flickerIndex(_ frames: [RGBImage]) -> Double {
        var residuals: [Double] = []
        for shot in shots {
            let means = shot.map { i -> Double in let p = Plane(luma: frames[i]).values; return Double(p.reduce(0, +)) / Double(p.count) }
            for k in means.indices {
                let window = means[max(0, k - 4)...min(means.count - 1, k + 4)]
                residuals.append(means[k] - window.reduce(0, +) / Double(window.count))
            }
        }
        return 100 * (residuals.map { $0 * $0 }.reduce(0, +) / Double(residuals.count)).squareRoot()
    }
    /// Mean count of one-frame defects (8-connected groups of flagged pixels) and flagged pixels per frame.
    func defects(_ frames: [RGBImage]) throws -> (blobs: Double, pixels: Double) {
        let finder = try DustRemover()
        var blobs = 0, pixels = 0
        for shot in shots {
            let part = Array(frames[shot])
            for i in part.indices {
                let lo = max(0, i - finder.radius), hi = min(part.count, i + finder.radius + 1)
                var mask = try finder.detect(window: Array(part[lo..<hi]), centre: i - lo).mask
                let w = part[i].width, h = part[i].height
                for start in mask.indices where mask[start] {
                    blobs += 1
                    var stack = [start]
                    mask[start] = false
                    while let p = stack.popLast() {
                        pixels += 1
                        let x = p % w, y = p / w
                        for yy in max(0, y - 1)...min(h - 1, y + 1) { for xx in max(0, x - 1)...min(w - 1, x + 1) where mask[yy * w + xx] {
                            mask[yy * w + xx] = false; stack.append(yy * w + xx)
                        } }
                    }
                }
            }
        }
        return (Double(blobs) / Double(frames.count), Double(pixels) / Double(frames.count))
    }
    /// White jitter of the picture's position: RMS of the second difference of the chained frame-to-frame shifts, / √6
    /// (a smooth camera move has a second difference near 0; independent jitter of σ px gives 6σ² of variance).
    func weave(_ frames: [RGBImage]) -> Double {
        var second: [Double] = []
        for shot in shots where shot.count >= 3 {
            let steps = shot.dropFirst().map { TranslationEstimator.estimate(from: Plane(luma: frames[$0 - 1]), to: Plane(luma: frames[$0])) }
            for k in 1..<steps.count {
                second.append(pow(steps[k].dx - steps[k - 1].dx, 2) + pow(steps[k].dy - steps[k - 1].dy, 2))
            }
        }
        return (second.reduce(0, +) / Double(second.count) / 6).squareRoot()
    }
    let before = try defects(film), after = try defects(restored)
    print("flicker index  before \(f3(flickerIndex(film))) %  after \(f3(flickerIndex(restored))) %")
    print("defects/frame  before \(f1(before.blobs)) (\(f1(before.pixels)) px)  after \(f1(after.blobs)) (\(f1(after.pixels)) px)")
    print("weave (px RMS) before \(f3(weave(film)))  after \(f3(weave(restored)))")
    if let sheet {
        // Before | after, three frames, 2× nearest-neighbour so the dust is visible.
        let picks = [40, 150, 250].filter { $0 < film.count }
        let rows = picks.flatMap { [film[$0], restored[$0]] }
        let raw = URL(fileURLWithPath: sheet + ".rgb")
        try FootageFrames.rgb24(rows).write(to: raw)
        defer { try? FileManager.default.removeItem(at: raw) }
        try Fixtures.run("ffmpeg", ["-y", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "\(film[0].width)x\(film[0].height)",
                                    "-i", raw.path, "-vf", "scale=iw*2:ih*2:flags=neighbor,tile=2x\(picks.count):padding=4",
                                    "-frames:v", "1", sheet])
        print("contact sheet (before | after, frames \(picks)): \(sheet)")
    }
}
