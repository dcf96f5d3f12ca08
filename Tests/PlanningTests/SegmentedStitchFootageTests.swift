import Foundation
import Media
import Planning
import Shared
import TestSupport
import XCTest

/// A long real shot processed in small overlapping segments and stitched, against the same shot processed
/// as one segment. The processors are deterministic and temporal (their output depends on neighbouring
/// frames), so a segment's edge frames really are worse than its middle ones — what the seams must hide.
final class SegmentedStitchFootageTests: XCTestCase {
    /// A temporal processor: each frame from frames [t - before, t + after] of the segment's input only.
    typealias Processor = (_ frames: ArraySlice<RGBImage>) -> [RGBImage]

    /// Centred 5-tap temporal mean (like interpolation or denoising context: needs two frames on each side).
    static let temporalMean: Processor = { frames in
        let base = frames.startIndex
        return (0..<frames.count).map { t in
            let lo = max(0, t - 2), hi = min(frames.count - 1, t + 2)
            var sum = [Float](repeating: 0, count: frames[base].pixels.count)
            for k in lo...hi { for i in sum.indices { sum[i] += frames[base + k].pixels[i] } }
            let n = Float(hi - lo + 1)
            return RGBImage(width: frames[base].width, height: frames[base].height, pixels: sum.map { $0 / n })
        }
    }

    /// Looks ahead only (frames t … t+4, as a model fed future frames): the left segment's last four
    /// frames lack context, the right one's are all fine — the versions agree only in the overlap's first half.
    static let lookAhead: Processor = { frames in
        let base = frames.startIndex
        return (0..<frames.count).map { t in
            let hi = min(frames.count - 1, t + 4)
            var sum = [Float](repeating: 0, count: frames[base].pixels.count)
            for k in t...hi { for i in sum.indices { sum[i] += frames[base + k].pixels[i] } }
            let n = Float(hi - t + 1)
            return RGBImage(width: frames[base].width, height: frames[base].height, pixels: sum.map { $0 / n })
        }
    }

    /// A recursive filter (state carried from frame to frame, as a video denoiser does): a segment's first
    /// frames start from the wrong state, which fades out.
    static let recursive: Processor = { frames in
        var state = frames[frames.startIndex].pixels
        return frames.map { frame in
            for i in state.indices { state[i] = 0.5 * state[i] + 0.5 * frame.pixels[i] }
            return RGBImage(width: frame.width, height: frame.height, pixels: state)
        }
    }

    func testSegmentedOutputMatchesOneSegmentIncludingSeams() throws {
        let path = try Fixtures.requireFootage("video/box.mp4")
        let frames = try Self.decode(path, count: 150, factor: 8) // one shot, hand and box moving
        let plan = try SegmentPlanner.plan(shots: [0..<frames.count], frameCount: frames.count,
                                           settings: SegmentPlannerSettings(maxSegmentFrames: 30, overlapFrames: 8))
        XCTAssertGreaterThanOrEqual(plan.segments.count, 6)
        let stitch = StitchPlan(plan: plan)
        var seamFrames = Set<Int>()
        for case .blend(let seam) in stitch.steps { seamFrames.formUnion(seam.frames) }

        for (name, processor, contextInsideOverlap) in [("temporal mean", Self.temporalMean, true), ("look-ahead", Self.lookAhead, false),
                                                        ("recursive", Self.recursive, false)] {
            let reference = processor(frames[...])
            let results = plan.segments.map { processor(frames[$0.input]) }
            func version(_ segment: SegmentIndex, _ frame: Int) -> RGBImage { results[segment.position][frame - plan.segments[segment.position].input.lowerBound] }

            var windows: [SegmentIndex: Range<Int>] = [:] // seam (by left segment) → crossfade window in the overlap
            for case .blend(let seam) in stitch.steps {
                let d = seam.frames.map { Crossfade.difference(version(seam.left, $0), version(seam.right, $0)) }
                windows[seam.left] = Crossfade.window(differences: d)
            }
            func assemble(_ window: (StitchPlan.Seam) -> Range<Int>) -> [RGBImage] {
                (0..<frames.count).map { f in
                    let sources = stitch.sources(frame: f, crossfade: window)
                    if sources.count == 1 { return version(sources[0].segment, f) }
                    return Crossfade.blend(version(sources[0].segment, f), version(sources[1].segment, f), rightWeight: sources[1].weight)
                }
            }
            let seamAware = assemble { windows[$0.left]! }
            let middleSwitch = assemble { seam in let m = seam.frames.count / 2; return m..<(m + 1) } // hard switch, no search
            XCTAssertEqual(seamAware.count, reference.count)

            let all = Self.psnr(seamAware, reference, frames: Array(0..<frames.count))
            let seams = Self.psnr(seamAware, reference, frames: seamFrames.sorted())
            let rest = Self.psnr(seamAware, reference, frames: (0..<frames.count).filter { !seamFrames.contains($0) })
            let naiveSeams = Self.psnr(middleSwitch, reference, frames: seamFrames.sorted())
            print(String(format: "stitch %@: %d segments (30 frames, overlap 8), PSNR vs one segment: overall %.1f dB, seam frames %.1f dB, other frames %.1f dB; hard switch mid-overlap: seam frames %.1f dB",
                         name, plan.segments.count, all, seams, rest, naiveSeams))
            XCTAssertGreaterThanOrEqual(seams, 45, name)
            // A processor whose context fits in the overlap gives seams as good as the rest (identical here).
            if contextInsideOverlap { XCTAssertGreaterThanOrEqual(seams, rest - 0.01, "\(name): seams worse than the rest") }
            XCTAssertGreaterThanOrEqual(seams, naiveSeams - 0.01, "\(name): searching the overlap did worse than switching in its middle")
        }
    }

    /// PSNR (peak 1) over the given frames; 99 dB when identical.
    static func psnr(_ a: [RGBImage], _ b: [RGBImage], frames: [Int]) -> Double {
        var sum = 0.0, count = 0
        for f in frames {
            for i in a[f].pixels.indices { let d = Double(a[f].pixels[i] - b[f].pixels[i]); sum += d * d }
            count += a[f].pixels.count
        }
        let mse = sum / Double(max(1, count))
        return mse <= 1e-10 ? 99 : 10 * log10(1 / mse)
    }

    /// The first `count` frames, area-averaged down by `factor` (small enough to keep the test quick).
    static func decode(_ path: String, count: Int, factor: Int) throws -> [RGBImage] {
        let input = try MediaInput(path: path)
        let decoder = try VideoDecoder(input: input, stream: try input.primaryVideoStream(), threads: 1)
        let converter = PixelConverter()
        var result: [RGBImage] = []
        while result.count < count, let frame = try decoder.next() {
            let image = try converter.rgbImage(from: frame.picture)
            let w = image.width / factor, h = image.height / factor
            var small = RGBImage(width: w, height: h)
            for c in 0..<3 { for y in 0..<h { for x in 0..<w {
                var s: Float = 0
                for dy in 0..<factor { for dx in 0..<factor { s += image[c, y * factor + dy, x * factor + dx] } }
                small[c, y, x] = s / Float(factor * factor)
            } } }
            result.append(small)
        }
        return result
    }
}
