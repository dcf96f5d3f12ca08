import Coordinator
import Foundation
import Media
import Planning
import Shared
import TestSupport
import XCTest

/// `StitchAssembler` on real result files (FFV1, 16-bit RGB, as workers write them) whose overlapping versions
/// differ, so that taking the wrong side of a seam, blending the wrong way or mis-counting frames shows.
final class StitchAssemblerTests: XCTestCase {
    private var dir: URL!
    override func setUpWithError() throws { dir = try Fixtures.temporaryDirectory("stitch-assembler") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func frames() throws -> [RGBImage] {
        let path = try Fixtures.requireFootage("video/box.mp4")
        return try SegmentedStitchFootageTests.decode(path, count: 90, factor: 8) // one shot, 80x60
    }

    private func plan(_ count: Int) throws -> SegmentPlan {
        try SegmentPlanner.plan(shots: [0..<count], frameCount: count, settings: SegmentPlannerSettings(maxSegmentFrames: 30, overlapFrames: 8))
    }

    /// Writes each segment's frames as a result file; returns the file of segment s.
    private func writeResults(_ results: [[RGBImage]], name: String) throws -> (SegmentIndex) -> URL {
        let converter = PixelConverter()
        for (s, images) in results.enumerated() {
            let size = PixelSize(width: images[0].width, height: images[0].height)
            let writer = try MediaWriter(path: dir.appendingPathComponent("\(name)-\(s).mkv").path,
                                         video: .init(size: size, rate: Rational(25), encoding: VideoEncoding(codec: .ffv1, pixelFormat: "gbrp16le"),
                                                      color: .defaultFor(height: size.height), threads: 1))
            for image in images { try writer.write(try converter.picture(from: image, pixelFormat: writer.pixelFormat, color: .defaultFor(height: size.height))) }
            try writer.finish()
        }
        let base = dir!
        return { base.appendingPathComponent("\(name)-\($0).mkv") }
    }

    private func assemble(_ plan: SegmentPlan, _ url: @escaping (SegmentIndex) -> URL, size: PixelSize) throws -> ([RGBImage], [StitchAssembler.SeamReport]) {
        var out: [RGBImage] = []
        let reports = try StitchAssembler(plan: plan, resultURL: url, content: size).run { out.append($0) }
        return (out, reports)
    }

    private static func maxDifference(_ a: RGBImage, _ b: RGBImage) -> Float {
        var m: Float = 0
        for (x, y) in zip(a.pixels, b.pixels) { let d = abs(x - y); if !(d <= m) { m = d } } // NaN wins
        return m
    }

    /// Each segment's version is scaled by its own gain, so neighbouring versions differ in every overlap frame:
    /// every output frame must be exactly the owning segment's version, or the crossfade the report names.
    func testEveryFrameComesFromTheRightSideWithTheRightWeight() throws {
        let frames = try frames()
        let plan = try plan(frames.count)
        let stitch = StitchPlan(plan: plan)
        let seams = stitch.steps.compactMap { step -> StitchPlan.Seam? in if case .blend(let s) = step { return s }; return nil }
        XCTAssertGreaterThanOrEqual(seams.count, 3, "the test needs several seams inside the shot")
        let results: [[RGBImage]] = plan.segments.enumerated().map { s, segment in
            let gain = Float(0.6) + 0.08 * Float(s) // ≤ 1: stored values are not clipped
            return SegmentedStitchFootageTests.lookAhead(frames[segment.input]).map { image in
                RGBImage(width: image.width, height: image.height, pixels: image.pixels.map { $0 * gain })
            }
        }
        func version(_ s: SegmentIndex, _ f: Int) -> RGBImage { results[s.position][f - plan.segments[s.position].input.lowerBound] }
        let size = PixelSize(width: frames[0].width, height: frames[0].height)
        let (out, reports) = try assemble(plan, try writeResults(results, name: "gain"), size: size)
        XCTAssertEqual(out.count, frames.count)
        XCTAssertEqual(reports.map(\.seam), seams)

        let tolerance: Float = 2e-4 // 16-bit storage rounding (1/65535) plus the blend's float arithmetic
        var owner = [SegmentIndex](repeating: 0, count: frames.count)
        for segment in plan.segments { for f in segment.owned { owner[f] = segment.index } }
        var checked = 0
        for report in reports {
            let seam = report.seam
            // The report's differences are those of the versions written, and its window is where they agree best.
            let expected = seam.frames.map { Crossfade.difference(version(seam.left, $0), version(seam.right, $0)) }
            for (a, b) in zip(report.differences, expected) { XCTAssertEqual(a, b, accuracy: 1e-4) }
            XCTAssertEqual(report.window, Crossfade.window(differences: expected))
            XCTAssertEqual(report.window.count, Crossfade.defaultWidth)
            for (k, f) in seam.frames.enumerated() {
                let w = report.window
                let want: RGBImage
                if k < w.lowerBound { want = version(seam.left, f) }
                else if k >= w.upperBound { want = version(seam.right, f) }
                else { want = Crossfade.blend(version(seam.left, f), version(seam.right, f), rightWeight: (Float(k - w.lowerBound) + 0.5) / Float(w.count)) }
                XCTAssertLessThanOrEqual(Self.maxDifference(out[f], want), tolerance, "seam \(seam.left)|\(seam.right) frame \(f) (offset \(k), window \(w))")
                // The two sides really differ here, so the check above can tell them apart.
                XCTAssertGreaterThan(Self.maxDifference(version(seam.left, f), version(seam.right, f)), 0.01)
                checked += 1
            }
        }
        let seamFrames = Set(seams.flatMap { Array($0.frames) })
        for f in 0..<frames.count where !seamFrames.contains(f) {
            XCTAssertLessThanOrEqual(Self.maxDifference(out[f], version(owner[f], f)), tolerance, "frame \(f) must be segment \(owner[f])'s")
            checked += 1
        }
        XCTAssertEqual(checked, frames.count)
    }

    /// A real temporal processor (look-ahead: a segment's last frames lack the future), cut into segments and
    /// stitched through files, against the same processor on the whole shot. docs/segments.md quotes this number.
    func testSeamFramesAgainstOneSegment() throws {
        let frames = try frames()
        let plan = try plan(frames.count)
        let reference = SegmentedStitchFootageTests.lookAhead(frames[...])
        let results = plan.segments.map { SegmentedStitchFootageTests.lookAhead(frames[$0.input]) }
        let size = PixelSize(width: frames[0].width, height: frames[0].height)
        let (out, reports) = try assemble(plan, try writeResults(results, name: "ahead"), size: size)
        XCTAssertEqual(out.count, reference.count)
        let seamFrames = Set(reports.flatMap { Array($0.seam.frames) })
        let seams = SegmentedStitchFootageTests.psnr(out, reference, frames: seamFrames.sorted())
        let rest = SegmentedStitchFootageTests.psnr(out, reference, frames: (0..<out.count).filter { !seamFrames.contains($0) })
        print(String(format: "stitch through result files (box.mp4 80x60, %d frames, %d segments, %d seams, look-ahead): PSNR vs one segment: seam frames %.1f dB, other frames %.1f dB",
                     out.count, plan.segments.count, reports.count, seams, rest))
        XCTAssertGreaterThanOrEqual(seams, 60, "seams much worse than the processor's own edge error")
        XCTAssertGreaterThanOrEqual(rest, 85, "frames outside the overlaps must equal the one-segment run up to 16-bit storage")
    }

    /// A result file with a frame too few or too many is an error naming the segment, not a silently shifted film.
    func testShortAndLongResultsAreRefused() throws {
        let frames = try frames()
        let plan = try plan(frames.count)
        var results = plan.segments.map { Array(frames[$0.input]) }
        results[1].removeLast()
        let size = PixelSize(width: frames[0].width, height: frames[0].height)
        XCTAssertThrowsError(try assemble(plan, try writeResults(results, name: "short"), size: size)) { error in
            guard case .segmentShort(let segment, _, _, _)? = error as? AssemblyError else { return XCTFail("\(error)") }
            XCTAssertEqual(segment, 1)
        }
        results = plan.segments.map { Array(frames[$0.input]) }
        results[2].append(frames[0])
        XCTAssertThrowsError(try assemble(plan, try writeResults(results, name: "long"), size: size)) { error in
            guard case .segmentLong(let segment, _, _)? = error as? AssemblyError else { return XCTFail("\(error)") }
            XCTAssertEqual(segment, 2)
        }
    }
}
