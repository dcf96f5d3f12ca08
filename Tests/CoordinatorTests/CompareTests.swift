import Foundation
import TestSupport
import XCTest

/// Issue 19, item 2: `compare` through the real executable on the 1906 film — a PNG contact sheet with one panel per
/// variant and time, each the chosen crop at output scale with a label strip holding text; the right frame; bad
/// inputs refused with exit 64 before any work.
final class CompareTests: XCTestCase {
    private var dir: URL!
    private var film: String!

    override func setUpWithError() throws {
        film = try Fixtures.requireFootage("oldfilm/Shepard_Calais_1906_FrenchGP.160p.ogv")
        dir = try Fixtures.temporaryDirectory("compare")
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func compare(_ args: [String], timeout: Double = 300) throws -> Fixtures.CommandResult {
        try Fixtures.runProduct("lumiere-coordinator", ["compare", film] + args, in: dir, timeout: timeout)
    }

    /// A decoded PNG (the ffmpeg CLI as the oracle): width, height, RGB24 rows.
    private struct Picture {
        let width: Int, height: Int, rgb: [UInt8]
        func pixel(_ x: Int, _ y: Int) -> [UInt8] { Array(rgb[((y * width + x) * 3)..<((y * width + x) * 3 + 3)]) }
        func crop(x: Int, y: Int, width w: Int, height h: Int) -> [UInt8] {
            var out: [UInt8] = []
            for row in y..<(y + h) {
                let start: Int = (row * width + x) * 3
                out += rgb[start..<(start + w * 3)]
            }
            return out
        }
    }

    private func decode(_ name: String) throws -> Picture {
        let path = dir.appendingPathComponent(name).path
        let info = try Fixtures.probe(path, stream: "v:0")
        let width = try XCTUnwrap(info["width"].flatMap(Int.init)), height = try XCTUnwrap(info["height"].flatMap(Int.init))
        let rgb = [UInt8](try Fixtures.runData("ffmpeg", ["-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]))
        XCTAssertEqual(rgb.count, width * height * 3)
        return Picture(width: width, height: height, rgb: rgb)
    }

    /// Source frame `n` of the film as the ffmpeg CLI decodes it, cropped (source pixels).
    private func sourceFrame(_ n: Int, crop: (w: Int, h: Int, x: Int, y: Int)) throws -> [UInt8] {
        [UInt8](try Fixtures.runData("ffmpeg", ["-v", "error", "-i", film, "-vf", "select=eq(n\\,\(n)),crop=\(crop.w):\(crop.h):\(crop.x):\(crop.y)",
                                                "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]))
    }

    private static func meanDifference(_ a: [UInt8], _ b: [UInt8]) -> Double {
        precondition(a.count == b.count)
        return Double(zip(a, b).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }) / Double(a.count)
    }

    /// Runs of columns (or rows) that are not all the sheet's ground colour, within `range` of the other axis.
    private static func runs(_ p: Picture, columns: Bool, across range: Range<Int>) -> [Range<Int>] {
        let ground: [UInt8] = [48, 48, 48]
        var out: [Range<Int>] = []
        var start: Int?
        let count = columns ? p.width : p.height
        for i in 0..<count {
            let isGround = range.allSatisfy { j in (columns ? p.pixel(i, j) : p.pixel(j, i)) == ground }
            if !isGround, start == nil { start = i }
            if isGround, let s = start { out.append(s..<i); start = nil }
        }
        if let s = start { out.append(s..<count) }
        return out
    }

    /// Two variants × two times at ×2 with a crop: the PNG has 2×2 cells of the crop's size, 8 px apart; each cell's
    /// picture is a picture (not flat), its label strip under it is black with white text, and the strips differ
    /// (each names its variant and time); the two variants' pictures differ.
    func testSheetHasOnePanelPerVariantAndTime() throws {
        let result = try compare(["--at", "2,5.5", "--models", "lanczos,realesr-animevideov3", "--scale", "2", "--crop", "160x120+100+60",
                                  "--threads", "2", "-o", "sheet.png"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("realesr-animevideov3: ") && result.stderr.contains(" s a picture on 2 thread(s)"), result.stderr)
        let sheet = try decode("sheet.png")
        XCTAssertEqual(sheet.width, 2 * 160 + 3 * 8)
        let columns = CompareTests.runs(sheet, columns: true, across: 0..<sheet.height)
        XCTAssertEqual(columns, [8..<168, 176..<336], "two columns of the crop's width")
        let rows = CompareTests.runs(sheet, columns: false, across: 0..<sheet.width)
        XCTAssertEqual(rows.count, 2, "one row per time: \(rows)")
        let cellHeight = try XCTUnwrap(rows.first).count
        XCTAssertEqual(rows.map(\.count), [cellHeight, cellHeight])
        XCTAssertEqual(sheet.height, 2 * cellHeight + 3 * 8)
        let strip = cellHeight - 120
        XCTAssertGreaterThanOrEqual(strip, 4 * 10, "room for four lines of text")

        var strips: [[UInt8]] = [], pictures: [[UInt8]] = []
        for row in rows {
            for column in columns {
                let picture = sheet.crop(x: column.lowerBound, y: row.lowerBound, width: 160, height: 120)
                let values = Set(picture)
                XCTAssertGreaterThan(values.count, 30, "a picture, not a flat panel")
                pictures.append(picture)
                let label = sheet.crop(x: column.lowerBound, y: row.lowerBound + 120, width: 160, height: strip)
                let lit = label.filter { $0 > 128 }.count
                XCTAssertGreaterThan(lit, 200, "the label strip holds text")
                XCTAssertLessThan(lit, label.count / 3, "on a black strip")
                strips.append(label)
            }
        }
        XCTAssertEqual(Set(strips.map { $0.hashValue }).count, 4, "every label differs (variant and time)")
        XCTAssertGreaterThan(CompareTests.meanDifference(pictures[0], pictures[1]), 0.5, "the two variants' pictures differ")
        XCTAssertGreaterThan(CompareTests.meanDifference(pictures[0], pictures[2]), 0.5, "the two times' pictures differ")
    }

    /// At --scale 1 Lanczos leaves the picture as decoded: the panel is source frame 30 (2 s at 15 fps), cropped —
    /// closer to the ffmpeg CLI's frame 30 than to its neighbours.
    func testPanelIsTheFrameAtThatTime() throws {
        let result = try compare(["--at", "2", "--models", "lanczos", "--scale", "1", "--crop", "64x48+10+20", "-o", "one.png", "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr, "", "--quiet")
        let sheet = try decode("one.png")
        XCTAssertEqual(sheet.width, 64 + 16)
        let panel = sheet.crop(x: 8, y: 8, width: 64, height: 48)
        let crop = (w: 64, h: 48, x: 10, y: 20)
        let at = CompareTests.meanDifference(panel, try sourceFrame(30, crop: crop))
        XCTAssertLessThan(at, 3, "frame 30 within conversion rounding")
        for other in [29, 31] {
            XCTAssertGreaterThan(CompareTests.meanDifference(panel, try sourceFrame(other, crop: crop)), at, "frame \(other) is further away")
        }
    }

    /// --interp: one panel per interpolator at a between-frame time; the blend panel is the crossfade of frames 30
    /// and 31 at t = 0.45 (2.03 s × 15 fps = frame 30.45).
    func testInterpolatorsAtABetweenFrameTime() throws {
        let result = try compare(["--at", "2.03", "--models", "lanczos", "--interp", "blend,rife-v4.0", "--scale", "1", "--crop", "64x48+10+20",
                                  "-o", "interp.png"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let sheet = try decode("interp.png")
        XCTAssertEqual(CompareTests.runs(sheet, columns: true, across: 0..<sheet.height).count, 2, "two panels")
        let blend = sheet.crop(x: 8, y: 8, width: 64, height: 48)
        let crop = (w: 64, h: 48, x: 10, y: 20)
        let a = try sourceFrame(30, crop: crop), b = try sourceFrame(31, crop: crop)
        let mix = zip(a, b).map { UInt8((0.55 * Double($0) + 0.45 * Double($1)).rounded()) }
        XCTAssertLessThan(CompareTests.meanDifference(blend, mix), 3)
        XCTAssertLessThan(CompareTests.meanDifference(blend, mix), CompareTests.meanDifference(blend, a))
    }

    /// --video: the variants side by side for a second from the first time (15 frames at 15 fps), H.264 of the sheet's
    /// width (even), the frames moving; with the sheet beside it. Refused with --interp (exit 64).
    func testSideBySideVideo() throws {
        let result = try compare(["--at", "2", "--models", "lanczos,realesr-animevideov3", "--scale", "2", "--crop", "151x101+100+60",
                                  "--video", "side.mp4", "--video-seconds", "1", "-o", "still.png"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("wrote side.mp4: 15 frames at 15 fps"), result.stderr)
        let probe = try Fixtures.probe(dir.appendingPathComponent("side.mp4").path, stream: "v:0")
        XCTAssertEqual(probe["nb_read_frames"], "15")
        let sheet = try decode("still.png")
        XCTAssertEqual(sheet.width, 2 * 151 + 3 * 8)
        XCTAssertEqual(probe["width"], "\(sheet.width + sheet.width % 2)", "H.264 4:2:0 needs even sides")
        XCTAssertEqual(probe["height"], "\(sheet.height + sheet.height % 2)", "one more row where the sheet's is odd")
        let frames = try Fixtures.runData("ffmpeg", ["-v", "error", "-i", dir.appendingPathComponent("side.mp4").path, "-vf", "select=eq(n\\,0)+eq(n\\,14)",
                                                     "-vsync", "0", "-f", "rawvideo", "-pix_fmt", "gray", "-"])
        XCTAssertEqual(frames.count % 2, 0)
        let half = frames.count / 2
        XCTAssertGreaterThan(CompareTests.meanDifference([UInt8](frames.prefix(half)), [UInt8](frames.suffix(half))), 1, "the picture moves")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent(".side.partial-1.mp4").path))
        XCTAssertEqual(Set(Fixtures.tree(dir)), ["side.mp4", "still.png"], "nothing else left")

        let refused = try compare(["--at", "2", "--models", "lanczos", "--interp", "blend", "--video", "v.mp4", "-o", "x.png"], timeout: 60)
        XCTAssertEqual(refused.status, 64, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("--video shows the films' own frames"), refused.stderr)
    }

    /// Mistakes exit 64 with a line that says what to do, and write nothing: an unknown model (the list named), a
    /// setting a model lacks, a time that is not one, a time beyond the end (19.2 s), a crop outside the picture, a
    /// name that is not .png, an existing output without --overwrite (kept byte for byte; replaced with it).
    func testBadInputsAreRefusedWithExit64() throws {
        let cases: [([String], String)] = [
            (["--at", "2", "--models", "lanczos,esrgan-9000"], "unknown model 'esrgan-9000' in --models; choose from lanczos, realesr-animevideov3, realesr-general, realesr-general-wdn, waifu2x-photo"),
            (["--at", "2", "--models", "realesr-general:noise=1"], "only waifu2x-photo has a noise setting"),
            (["--at", "2", "--models", "lanczos", "--interp", "dain"], "unknown interpolator 'dain'"),
            (["--at", "two"], "'two' in --at is not a time"),
            (["--at", "2,25"], "--at 25.000 s is beyond the film's end"),
            (["--at", "2", "--scale", "2", "--crop", "100x100+400+0"], "--crop 100x100+400+0 reaches outside the restored picture (428x320"),
        ]
        for (args, message) in cases {
            let result = try compare(args + ["-o", "bad.png"], timeout: 60)
            XCTAssertEqual(result.status, 64, "\(args): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(message), "\(args): \(result.stderr)")
        }
        let jpeg = try compare(["--at", "2", "-o", "sheet.jpg"], timeout: 60)
        XCTAssertEqual(jpeg.status, 64, jpeg.stderr)
        XCTAssertTrue(jpeg.stderr.contains("ending in .png"), jpeg.stderr)
        XCTAssertEqual(Fixtures.tree(dir), [], "nothing written")

        let mine = Data("my sheet".utf8)
        try mine.write(to: dir.appendingPathComponent("mine.png"))
        let refused = try compare(["--at", "2", "--models", "lanczos", "--scale", "1", "-o", "mine.png"], timeout: 60)
        XCTAssertEqual(refused.status, 64, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("exists already; pass --overwrite"), refused.stderr)
        XCTAssertEqual(FileManager.default.contents(atPath: dir.appendingPathComponent("mine.png").path), mine)
        let replaced = try compare(["--at", "2", "--models", "lanczos", "--scale", "1", "-o", "mine.png", "--overwrite"], timeout: 60)
        XCTAssertEqual(replaced.status, 0, replaced.stderr)
        XCTAssertEqual(try decode("mine.png").width, 214 + 16)
    }
}
