import Coordinator
import XCTest

/// The live view as pure functions: snapshot in, lines out.
final class LiveViewTests: XCTestCase {
    static func sampleSnapshot(finished: Bool = false) -> FarmSnapshot {
        let workers = [
            WorkerSnapshot(name: "gpu-node-1", host: "10.0.0.11", threads: 8, device: "gpu:0 NVIDIA H100 80GB HBM3 (discrete)", state: .processing, segment: 7, segmentFramesDone: 45,
                           segmentFramesTotal: 120, framesProcessed: 700, segmentsCompleted: 5, fpsLastMinute: 3.25, failures: 0),
            WorkerSnapshot(name: "gpu-node-2", host: "10.0.0.12", threads: 8, device: "cpu", state: .idle, framesProcessed: 500,
                           segmentsCompleted: 4, fpsLastMinute: 2.5, failures: 2),
        ]
        return FarmSnapshot(elapsedSeconds: 100, finished: finished, framesTotal: 2880, framesDone: 1200, framesInFlight: 45,
                            outputFPS: 14, averageFPS: 12, etaSeconds: 120, segments: SegmentCounts(total: 24, pending: 12, running: 2, done: 10),
                            retries: 1, speculativeCopies: 0, bytesSent: 1_000_000, bytesReceived: 2_000_000, workers: workers)
    }

    func testProgressBarFillsInProportionWithEighths() {
        XCTAssertEqual(LiveView.progressBar(fraction: 0, width: 4), "[░░░░]")
        XCTAssertEqual(LiveView.progressBar(fraction: 1, width: 4), "[████]")
        XCTAssertEqual(LiveView.progressBar(fraction: 0.5, width: 4), "[██░░]")
        XCTAssertEqual(LiveView.progressBar(fraction: 0.5 + 1.0 / 8, width: 4), "[██▌░]", "half a cell")
        XCTAssertEqual(LiveView.progressBar(fraction: 0.5 + 1.0 / 16, width: 4), "[██▎░]", "a quarter cell")
        XCTAssertEqual(LiveView.progressBar(fraction: 7, width: 3), "[███]", "clamped")
        for f in stride(from: 0.0, through: 1.0, by: 0.01) {
            XCTAssertEqual(LiveView.progressBar(fraction: f, width: 24).count, 26, "constant width at \(f)")
        }
    }

    func testLinesShowProgressFpsEtaAndOneRowPerWorker() {
        let lines = LiveView.lines(Self.sampleSnapshot(), label: "restore", width: 200)
        XCTAssertEqual(lines.count, 4, "progress line, header, 2 workers: \(lines)")
        XCTAssertTrue(lines[0].hasPrefix("restore ["), lines[0])
        XCTAssertTrue(lines[0].contains("1200/2880 frames (41.7%)"), lines[0])
        XCTAssertTrue(lines[0].contains("14.0 fps"), lines[0])
        XCTAssertTrue(lines[0].contains("ETA 2:00"), lines[0])
        XCTAssertTrue(lines[0].contains("10/24 done, 2 running, 12 queued, 1 retried"), lines[0])
        // Segments queued at a worker behind the one it renders (lease-ahead) are said apart from those running.
        var ahead = Self.sampleSnapshot()
        ahead.segments = SegmentCounts(total: 24, pending: 10, running: 2, ahead: 2, done: 10)
        XCTAssertTrue(LiveView.lines(ahead, label: "restore", width: 200)[0].contains("10/24 done, 2 running, 2 next at workers, 10 queued"))
        XCTAssertEqual(lines[1].split(separator: " ", omittingEmptySubsequences: true).map(String.init),
                       ["worker", "host", "device", "state", "segment", "frames", "fps(1m)", "failures"])
        // The device as registered, a long name clipped to 24 characters (the log lines have it whole).
        XCTAssertEqual(lines[2].split(separator: " ").map(String.init),
                       ["gpu-node-1", "10.0.0.11", "gpu:0", "NVIDIA", "H100", "80GB", "…", "processing", "#7", "45/120", "3.2", "0"])
        XCTAssertEqual(lines[3].split(separator: " ").map(String.init), ["gpu-node-2", "10.0.0.12", "cpu", "idle", "-", "-", "2.5", "2"])
        // Columns line up: "state" starts at the same offset in every row.
        let offsets = lines[1...].map { line in line.range(of: line.contains("state") ? "state" : (line.contains("idle") ? "idle" : "processing"))!.lowerBound.utf16Offset(in: line) }
        XCTAssertEqual(Set(offsets).count, 1, "\(lines)")
    }

    func testLinesNeverExceedTheTerminalWidth() {
        for width in [30, 60, 80] {
            for line in LiveView.lines(Self.sampleSnapshot(), width: width) { XCTAssertLessThanOrEqual(line.count, width, line) }
        }
    }

    func testFinishedJobShowsDurationInsteadOfEtaAndEmptyFarmSaysSo() {
        XCTAssertTrue(LiveView.lines(Self.sampleSnapshot(finished: true))[0].contains("took 1:40"))
        let empty = LiveView.lines(FarmSnapshot.idle)
        XCTAssertEqual(empty.count, 2)
        XCTAssertTrue(empty[1].contains("no workers"))
        XCTAssertTrue(empty[0].contains("ETA --:--"), empty[0])
    }

    func testLogLinesAreSelfContainedPerWorker() {
        let lines = LiveView.logLines(Self.sampleSnapshot(), label: "restore")
        XCTAssertEqual(lines.count, 3)
        XCTAssertTrue(lines[0].hasPrefix("restore: 1200/2880 frames"), lines[0])
        XCTAssertEqual(lines[1], "restore: worker gpu-node-1@10.0.0.11 on gpu:0 NVIDIA H100 80GB HBM3 (discrete) processing segment 7 45/120 3.2 fps (1 min), 0 failures")
        XCTAssertEqual(lines[2], "restore: worker gpu-node-2@10.0.0.12 on cpu idle 2.5 fps (1 min), 2 failures")
        XCTAssertFalse(lines.joined().contains("\u{1B}"), "no terminal escapes in log form")
    }

    func testRedrawMovesUpOverThePreviousDrawingAndClearsLeftovers() {
        XCTAssertEqual(LiveView.redraw(["a", "b"], previous: 0), "\u{1B}[2Ka\n\u{1B}[2Kb\n")
        XCTAssertEqual(LiveView.redraw(["a", "b"], previous: 2), "\u{1B}[2F\u{1B}[2Ka\n\u{1B}[2Kb\n")
        XCTAssertEqual(LiveView.redraw(["a"], previous: 3), "\u{1B}[3F\u{1B}[2Ka\n\u{1B}[2K\n\u{1B}[2K\n\u{1B}[2F")
    }

    func testModeAutoResolvesToLiveOnATerminalAndLogOtherwise() {
        XCTAssertEqual(LiveViewMode.auto.resolved(isTerminal: true), .live)
        XCTAssertEqual(LiveViewMode.auto.resolved(isTerminal: false), .log)
        XCTAssertEqual(LiveViewMode.off.resolved(isTerminal: true), .off)
    }

    func testPrinterInLogModeWritesPlainLinesAndAFinalState() {
        let output = Collected()
        let printer = LiveViewPrinter(mode: .log, label: "job", interval: 0.05, write: { output.append($0) }) { Self.sampleSnapshot() }
        printer.start()
        Thread.sleep(forTimeInterval: 0.3)
        printer.stop()
        let lines = output.text.split(separator: "\n")
        XCTAssertGreaterThanOrEqual(lines.count, 6, "at least two rounds of 3 lines: \(lines)")
        XCTAssertTrue(lines.allSatisfy { $0.contains(" job: ") }, "\(lines)")
        XCTAssertFalse(output.text.contains("\u{1B}"))
    }

    func testPrinterInLiveModeRedrawsInPlace() {
        let output = Collected()
        let printer = LiveViewPrinter(mode: .live, label: "job", interval: 0.05, write: { output.append($0) }) { Self.sampleSnapshot() }
        printer.start()
        Thread.sleep(forTimeInterval: 0.3)
        printer.stop()
        let text = output.text
        XCTAssertTrue(text.hasPrefix("\u{1B}[2Kjob ["), "first drawing starts at the cursor: \(text.prefix(40))")
        XCTAssertTrue(text.contains("\u{1B}[4F"), "later drawings move up over the 4 lines drawn before")
        XCTAssertFalse(text.contains("\r"))
    }
}

final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var parts: [String] = []
    func append(_ s: String) { lock.withLock { parts.append(s) } }
    var text: String { lock.withLock { parts.joined() } }
}
