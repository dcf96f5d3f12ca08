import Foundation
import Planning
import XCTest

/// Shot detection on generated pictures with known cuts (no footage needed): moving textures, grain,
/// old-film flicker, a flash, a fade through black.
final class ShotDetectorSyntheticTests: XCTestCase {
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let z = (state ^ (state >> 33)) &* 0xff51afd7ed558ccd
            return z ^ (z >> 29)
        }
    }

    /// A shot: a few drifting sinusoidal patterns (a "scene" with camera motion).
    struct Scene {
        var waves: [(fx: Float, fy: Float, phase: Float, speed: Float, amplitude: Float)]
        var base: Float
        init(using g: inout Generator) {
            base = Float.random(in: 0.3...0.6, using: &g)
            waves = (0..<4).map { _ in (Float.random(in: 0.05...0.4, using: &g), Float.random(in: 0.05...0.4, using: &g),
                                        Float.random(in: 0...6.28, using: &g), Float.random(in: -0.3...0.3, using: &g),
                                        Float.random(in: 0.04...0.12, using: &g)) }
        }
        func picture(time t: Int, gain: Float, grain: Float, using g: inout Generator) -> [Float] {
            var v = [Float](repeating: 0, count: 64 * 36)
            for y in 0..<36 { for x in 0..<64 {
                var s = base
                for w in waves { s += w.amplitude * sin(w.fx * Float(x) + w.fy * Float(y) + w.phase + w.speed * Float(t)) }
                v[y * 64 + x] = min(1, max(0, s * gain + Float.random(in: -grain...grain, using: &g)))
            } }
            return v
        }
    }

    static func film(shotLengths: [Int], flicker: Float, grain: Float, seed: UInt64) -> (thumbnails: [LumaThumbnail], cuts: [Int]) {
        var g = Generator(state: seed)
        var thumbnails: [LumaThumbnail] = []
        var cuts: [Int] = []
        for length in shotLengths {
            if !thumbnails.isEmpty { cuts.append(thumbnails.count) }
            let scene = Scene(using: &g)
            for t in 0..<length {
                let gain = 1 + Float.random(in: -flicker...flicker, using: &g)
                thumbnails.append(LumaThumbnail(width: 64, height: 36, values: scene.picture(time: t, gain: gain, grain: grain, using: &g)))
            }
        }
        return (thumbnails, cuts)
    }

    func testFindsEveryCutExactlyAndStreamingMatchesBatch() throws {
        for seed: UInt64 in [1, 2, 3] {
            let (thumbnails, cuts) = Self.film(shotLengths: [40, 25, 90, 12, 60], flicker: 0.02, grain: 0.02, seed: seed)
            let found = try ShotDetector.detect(thumbnails)
            XCTAssertEqual(found.map(\.frame), cuts, "seed \(seed)")
            XCTAssert(found.allSatisfy { $0.kind == .cut && $0.score >= ShotDetectorSettings().threshold })
            // Streaming: each boundary comes out a bounded number of frames after its frame.
            var detector = try ShotDetector()
            var streamed: [ShotBoundary] = []
            for (k, t) in thumbnails.enumerated() {
                for b in detector.push(t) {
                    streamed.append(b)
                    XCTAssertLessThanOrEqual(k - b.frame, detector.settings.flashFrames + detector.settings.minimumShotFrames + 1)
                }
            }
            streamed += detector.finish()
            XCTAssertEqual(streamed, found)
        }
    }

    /// Strong flicker (±25 % gain frame to frame, like an old print) is not a cut; a flash of two frames is not two cuts.
    func testFlickerAndAFlashAreNotCuts() throws {
        var (thumbnails, cuts) = Self.film(shotLengths: [120, 80], flicker: 0.25, grain: 0.03, seed: 7)
        let flashed = [50, 51]
        for f in flashed {
            let t = thumbnails[f]
            // A flash lighting part of the picture (a uniform brightening would not even count as a change).
            thumbnails[f] = LumaThumbnail(width: 64, height: 36, values: t.values.indices.map { i in i % 64 < 40 ? min(1, t.values[i] + 0.5) : t.values[i] })
        }
        XCTAssertEqual(try ShotDetector.detect(thumbnails).map(\.frame), cuts)
        var blind = ShotDetectorSettings()
        blind.flashFrames = 0
        blind.minimumShotFrames = 1
        XCTAssertEqual(try ShotDetector.detect(thumbnails, settings: blind).map(\.frame), [50, 52, 120], "the flash should look like two cuts without flash handling")
    }

    /// Two cuts closer than the minimum shot length keep the stronger one; the setting can be lowered.
    func testMinimumShotLength() throws {
        let (thumbnails, cuts) = Self.film(shotLengths: [50, 4, 50], flicker: 0, grain: 0.02, seed: 11)
        XCTAssertEqual(cuts, [50, 54])
        let found = try ShotDetector.detect(thumbnails)
        XCTAssertEqual(found.count, 1)
        XCTAssert(cuts.contains(found[0].frame))
        XCTAssertEqual(try ShotDetector.detect(thumbnails, settings: ShotDetectorSettings(minimumShotFrames: 3)).map(\.frame), cuts)
        // A higher threshold than any cut's score finds nothing; an invalid one is refused with a reason.
        XCTAssertEqual(try ShotDetector.detect(thumbnails, settings: ShotDetectorSettings(threshold: 0.95, minimumShotFrames: 3)), [])
        XCTAssertThrowsError(try ShotDetector(settings: ShotDetectorSettings(threshold: 1.5))) { XCTAssert("\($0)".contains("threshold")) }
    }

    /// Issue 16: `settledFrames` is safe to cut a long shot's segments from before its cut is found — no boundary is ever
    /// emitted below it — and it trails the input by no more than the detector's look-ahead. Cuts, close cuts that
    /// compete (minimum shot length), a flash, a fade through black and flicker, under three settings.
    func testNoBoundaryComesBelowTheSettledFramesWhichTrailTheInputByTheLookAhead() throws {
        var (thumbnails, _) = Self.film(shotLengths: [60, 5, 70, 40, 90, 30], flicker: 0.1, grain: 0.03, seed: 21)
        for f in [100, 101] { // a flash on part of the picture
            let t = thumbnails[f]
            thumbnails[f] = LumaThumbnail(width: 64, height: 36, values: t.values.indices.map { i in i % 64 < 40 ? min(1, t.values[i] + 0.5) : t.values[i] })
        }
        for f in 190..<200 { thumbnails[f] = LumaThumbnail(width: 64, height: 36, values: [Float](repeating: 0.01, count: 64 * 36)) } // black
        var blind = ShotDetectorSettings(minimumShotFrames: 1)
        blind.flashFrames = 0
        for settings in [ShotDetectorSettings(), ShotDetectorSettings(minimumShotFrames: 3), blind] {
            var detector = try ShotDetector(settings: settings)
            var settled: [Int] = [], emitted: [(at: Int, frame: Int)] = []
            for (k, t) in thumbnails.enumerated() {
                for b in detector.push(t) { emitted.append((k, b.frame)) }
                let now = detector.settledFrames
                XCTAssertGreaterThanOrEqual(now, settled.last ?? 0, "settled frames went back at frame \(k)")
                XCTAssertGreaterThanOrEqual(now, k + 1 - (settings.flashFrames + settings.minimumShotFrames + 1), "at frame \(k)")
                XCTAssertLessThanOrEqual(now, k + 1)
                settled.append(now)
            }
            for b in detector.finish() { emitted.append((thumbnails.count, b.frame)) }
            XCTAssertGreaterThan(emitted.count, 3, "\(settings)")
            for e in emitted {
                // Every push before the one that emitted it had settled no frame at or past it.
                for k in 0..<e.at where k < settled.count { XCTAssertLessThanOrEqual(settled[k], e.frame, "boundary \(e.frame) emitted after frame \(k) had settled \(settled[k]); \(settings)") }
            }
        }
    }
}
