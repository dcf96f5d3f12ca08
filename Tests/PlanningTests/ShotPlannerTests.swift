import Planning
import Shared
import XCTest

/// Issue 16 item 1: a film planned shot by shot, each shot as soon as its cut is known, is exactly the plan made from
/// the whole shot list: the same segments, the same retimed (`--fps`) output frames and the same interiors (so the
/// same result keys and the same film), for plans with long shots split with overlaps and for retimed plans.
final class ShotPlannerTests: XCTestCase {
    func testShotsPlannedOneByOneAreTheWholeFilmsPlan() throws {
        var g = SegmentPlannerTests.SeededGenerator(state: 16)
        let conversions: [(Rational, Rational)?] = [nil, (Rational(24), Rational(60)), (Rational(15), Rational(24)),
                                                    (Rational(24000, 1001), Rational(60)), (Rational(30), Rational(24)), (Rational(25), Rational(50))]
        var compared = 0, retimedCompared = 0, splitShots = 0
        for trial in 0..<300 {
            let conversion = conversions[trial % conversions.count]
            let retiming = try conversion.map { try Retiming(inputRate: $0.0, outputRate: $0.1) }
            let frames = Int.random(in: 1...3000, using: &g)
            let shots = RetimedPlanTests.mergeShort(SegmentPlannerTests.randomShots(frames: frames, using: &g), minimum: 8)
            let settings = SegmentPlannerSettings(maxSegmentFrames: [24, 60, 250][trial % 3], overlapFrames: 8)
            let context = "trial \(trial): \(frames) frames, \(String(describing: conversion)), shots \(shots)"

            // The whole film at once, as the pipeline planned it before streaming.
            let whole: (input: SegmentPlan, output: SegmentPlan, interiors: [Range<Int>])?
            do {
                let plan = try SegmentPlanner.plan(shots: shots, frameCount: frames, settings: settings)
                let output = try retiming.map { try plan.retimed($0) } ?? plan
                let interiors = StitchPlan(plan: output).interiors(segmentCount: output.segments.count, starts: output.segments.map(\.input.lowerBound))
                whole = (plan, output, interiors)
            } catch { whole = nil }

            // Shot by shot.
            var planner = try ShotPlanner(settings: settings, retiming: retiming)
            var pieces: [PlannedShot] = []
            do {
                for (k, shot) in shots.enumerated() { pieces.append(try planner.plan(shotEndingAt: shot.upperBound, isLast: k == shots.count - 1)) }
            } catch {
                XCTAssertNil(whole, "planned whole but not shot by shot (\(error)); \(context)")
                continue
            }
            guard let whole else { XCTFail("planned shot by shot but not whole; \(context)"); continue }
            XCTAssertEqual(pieces.flatMap(\.segments), whole.input.segments, context)
            XCTAssertEqual(pieces.flatMap(\.output), whole.output.segments, context)
            XCTAssertEqual(pieces.map(\.outputFrames), whole.output.shots, context)
            XCTAssertEqual(pieces.map(\.frames), shots, context)
            XCTAssertEqual(pieces.flatMap(\.interiors), whole.interiors, context)
            XCTAssertEqual(pieces.last?.outputFrames.upperBound, whole.output.frameCount, context)
            // The stitch steps shot by shot are the whole plan's.
            XCTAssertEqual(pieces.flatMap { StitchPlan(segments: $0.output, start: $0.outputFrames.lowerBound).steps }, StitchPlan(plan: whole.output).steps, context)
            compared += 1
            if retiming != nil { retimedCompared += 1 }
            splitShots += pieces.filter { $0.segments.count > 1 }.count
        }
        XCTAssertGreaterThan(compared, 250, "most trials plan")
        XCTAssertGreaterThan(retimedCompared, 200)
        XCTAssertGreaterThan(splitShots, 100, "long shots split into overlapping segments are covered")
    }

    /// Issue 16: a long shot's first parts planned while it is open (the frames known to be in it growing as a decode
    /// with the detector's lag makes them known), then the rest when it closes, are the whole-film plan too: segments,
    /// output frames, interiors and stitch steps; for plans without seams in output frames (no overlap; retimed with an
    /// overlap of 1), with the ramp at the film's start (`ShotSplit`). With seams (an overlap of 8) nothing is planned
    /// before a shot closes.
    func testPartsOfOpenShotsPlannedAsFramesBecomeKnownAreTheWholeFilmsPlan() throws {
        var g = SegmentPlannerTests.SeededGenerator(state: 1617)
        let conversions: [(Rational, Rational)?] = [nil, (Rational(24), Rational(60)), (Rational(15), Rational(24)),
                                                    (Rational(24000, 1001), Rational(60)), (Rational(30), Rational(24)), (Rational(25), Rational(50))]
        var compared = 0, parts = 0, retimedParts = 0, rampedFilms = 0
        for trial in 0..<300 {
            let conversion = conversions[trial % conversions.count]
            let retiming = try conversion.map { try Retiming(inputRate: $0.0, outputRate: $0.1) }
            let overlap = trial % 7 == 6 ? 8 : (retiming == nil ? 0 : 1)
            let frames = Int.random(in: 1...3000, using: &g)
            let shots = RetimedPlanTests.mergeShort(SegmentPlannerTests.randomShots(frames: frames, using: &g), minimum: 8)
            // The pipeline's settings: with the ramp at the film's start (1 s of film) where parts go out, none with seams.
            let settings = ShotPlanner.settings(maxSegmentFrames: [24, 60, 250][trial % 3], overlapFrames: overlap,
                                                rate: conversion?.0 ?? Rational(24), retiming: retiming)
            XCTAssertEqual(settings.rampFrames > 0, overlap < 2)
            if ShotSplit.pieceFrames(shotStart: 0, at: 0, settings: settings) < settings.maxSegmentFrames - overlap, shots[0].count > 60 { rampedFilms += 1 }
            let context = "trial \(trial): \(frames) frames, overlap \(overlap), ramp \(settings.rampFrames), \(String(describing: conversion)), shots \(shots)"
            let plan = try SegmentPlanner.plan(shots: shots, frameCount: frames, settings: settings)
            // A retimed plan some of whose segments make no output frame is refused whole and part by part alike.
            guard let output = try? retiming.map({ try plan.retimed($0) }) ?? plan else { continue }
            let interiors = StitchPlan(plan: output).interiors(segmentCount: output.segments.count, starts: output.segments.map(\.input.lowerBound))

            var planner = try ShotPlanner(settings: settings, retiming: retiming)
            XCTAssertEqual(planner.plansOpenShots, overlap < 2, context)
            var planned: [PlannedShot] = []
            for (k, shot) in shots.enumerated() {
                var known = shot.lowerBound
                while known < shot.upperBound {
                    known = min(shot.upperBound, known + Int.random(in: 1...30, using: &g))
                    if let part = try planner.plan(openShotKnownUpTo: known, reserve: Int.random(in: 0...3, using: &g)) {
                        XCTAssertFalse(part.closesShot)
                        XCTAssertEqual(part.index, k, context)
                        XCTAssertTrue(part.segments.allSatisfy { $0.input.upperBound <= known }, "a part's input past the known frames; \(context)")
                        planned.append(part)
                        parts += 1
                        if retiming != nil { retimedParts += 1 }
                    }
                }
                planned.append(try planner.plan(shotEndingAt: shot.upperBound, isLast: k == shots.count - 1))
            }
            XCTAssertEqual(planned.flatMap(\.segments), plan.segments, context)
            XCTAssertEqual(planned.flatMap(\.output), output.segments, context)
            XCTAssertEqual(planned.flatMap(\.interiors), interiors, context)
            XCTAssertEqual(planned.filter(\.closesShot).map(\.frames), shots, context)
            // Each part's output frames start where the one before stopped, and the last ends the film.
            for (a, b) in zip(planned, planned.dropFirst()) { XCTAssertEqual(a.outputFrames.upperBound, b.outputFrames.lowerBound, context) }
            XCTAssertEqual(planned.last?.outputFrames.upperBound, output.frameCount, context)
            XCTAssertEqual(planned.flatMap { StitchPlan(segments: $0.output, start: $0.outputFrames.lowerBound).steps }, StitchPlan(plan: output).steps, context)
            compared += 1
        }
        XCTAssertGreaterThan(compared, 250)
        XCTAssertGreaterThan(parts, 200, "parts of open shots were planned")
        XCTAssertGreaterThan(retimedParts, 100, "retimed parts were planned")
        XCTAssertGreaterThan(rampedFilms, 60, "films whose first shot starts with the ramp")
    }

    func testAShotMustEndAfterItStarts() throws {
        var planner = try ShotPlanner(settings: SegmentPlannerSettings(maxSegmentFrames: 30, overlapFrames: 8), retiming: nil)
        _ = try planner.plan(shotEndingAt: 10, isLast: false)
        XCTAssertThrowsError(try planner.plan(shotEndingAt: 10, isLast: true))
        XCTAssertEqual(planner.segmentCount, 1)
    }
}
