import Foundation
import TestSupport
import XCTest

/// Issue 19, item 4: the start-of-job estimate against the time the same run then took, through the real executable on
/// a real film (the 1906 one): super-resolution at ×4, `--scale 2` with a ×4-only model (runs ×4, then shrinks), and a
/// retime with RIFE. Both figures come from one run under one load — the estimate is timed on a frame of the film just
/// before the work — so a busy machine slows both alike. The bound is generous (3× either way; the issue-19 report
/// measured 0.6–1.9× on a shared 2-core machine at load 6–19): it fails on a model of cost that is wrong, not on the
/// load's swings. Before the fix (the catalogue's speed of one core) the same kind of cases were estimated at
/// 0.02–0.03× the time they took.
final class JobCostTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws { dir = try Fixtures.temporaryDirectory("job-cost") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// The JSON records' UTC time in seconds.
    private static func seconds(_ record: [String: Any]) throws -> Double {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return try XCTUnwrap(formatter.date(from: try XCTUnwrap(record["time"] as? String))).timeIntervalSince1970
    }

    /// Runs a restore with JSON logs; returns the estimate (seconds, from the start-of-job line) and the time from that
    /// line to the film being written.
    private func estimateAndActual(_ args: [String], output: String) throws -> (estimate: Double, actual: Double, line: String) {
        let film = try Fixtures.requireFootage("oldfilm/Shepard_Calais_1906_FrenchGP.160p.ogv")
        let result = try Fixtures.runProduct("lumiere-coordinator", ["restore", film, "-o", output, "--preset", "ultrafast", "--status", "log",
                                                                     "--log-format", "json"] + args, in: dir, timeout: 600)
        XCTAssertEqual(result.status, 0, result.stderr)
        let records = result.stderr.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let message: ([String: Any]) -> String = { $0["message"] as? String ?? "" }
        let estimate = try XCTUnwrap(records.first { message($0).hasPrefix("estimate before starting: ") }, result.stderr)
        let wrote = try XCTUnwrap(records.first { message($0).hasPrefix("wrote \(output)") }, result.stderr)
        let line = message(estimate)
        let match = try XCTUnwrap(line.range(of: #"\(([0-9.]+) s\); the progress"#, options: .regularExpression), line)
        let figure = line[match].dropFirst().prefix { $0 != " " }
        return (try XCTUnwrap(Double(figure), line), try Self.seconds(wrote) - Self.seconds(estimate), line)
    }

    func testTheStartOfJobEstimateIsNearTheTimeTheJobTakes() throws {
        let cases: [(String, [String])] = [
            ("sr4.mp4", ["--start", "2", "--frames", "16", "--model", "realesr-animevideov3", "--scale", "4"]),
            ("scale2.mp4", ["--start", "8", "--frames", "16", "--model", "realesr-general-wdn", "--scale", "2"]),
            ("rife.mp4", ["--start", "14", "--frames", "8", "--model", "realesr-animevideov3", "--scale", "2", "--fps", "30", "--interp", "rife-v4.25"]),
        ]
        for (output, args) in cases {
            let (estimate, actual, line) = try estimateAndActual(args, output: output)
            print("JobCostTests \(output): estimated \(String(format: "%.1f", estimate)) s, took \(String(format: "%.1f", actual)) s (\(line))")
            XCTAssertGreaterThan(actual, 0, output)
            XCTAssertLessThan(estimate / actual, 3, "\(output): estimated \(estimate) s, took \(actual) s: \(line)")
            XCTAssertGreaterThan(estimate / actual, 1.0 / 3, "\(output): estimated \(estimate) s, took \(actual) s: \(line)")
        }
    }
}
