import Coordinator
import Foundation
import Media
import Shared
import TestSupport
import XCTest

/// The coordinator's web page in a real browser (Debian's `chromium`, headless): what a person would see while a real
/// `restore` runs — the job's row, the workers, a chart that moves — and that names from the network stay text.
final class WebPageBrowserTests: XCTestCase {
    func testLivePageShowsTheJobWorkersAndAMovingChartDuringARealRestore() throws {
        let browser = try HeadlessChromium.require()
        let dir = try Fixtures.temporaryDirectory("web-live")
        defer { try? FileManager.default.removeItem(at: dir) }
        // The default model (realesr-general-wdn) on 192 frames of 64x48 in 24 segments of 12 frames: results every few
        // seconds, so the chart moves between page loads, and enough of them that the job outlives three browser runs
        // on an idle machine too. Measured here, 2 cores shared with other builds (load 14): 6 s of this clip took 58 s
        // of farm at 3.6 fps, each chromium run 3.5-5.5 s.
        // A keyframe every 12 frames: the segments are cut from the source's packets while it is analysed (with x264's
        // default, one keyframe in this clip, the run began with a farm phase of no segments, then took the classic passes).
        try Fixtures.syntheticClip(at: dir.appendingPathComponent("reel-7.mp4").path, seconds: 8, size: "64x48", rate: "24",
                                   videoCodec: ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "12"])
        let log = LatestText()
        let restore = BackgroundProduct("lumiere-coordinator", ["restore", "reel-7.mp4", "-o", "reel-7-restored.mp4", "--workers", "2",
                                                                "--segment-seconds", "0.5", "--metrics-port", "0", "--status", "log"],
                                        in: dir, timeout: 600) { log.set($0) }
        defer { Self.end(restore) }
        let port = try Self.waitFor(#"monitoring: http://127\.0\.0\.1:([0-9]+)/"#, in: log, of: restore, timeout: 180)
        let url = "http://127.0.0.1:\(port)/"
        let endpoint = try StatusClient.Endpoint(parsing: "127.0.0.1:\(port)")

        // Once a result is in, the page has a job with progress, workers and a chart to draw.
        let firstProgress = try waitForFarm(endpoint, restore, log, timeout: 180) { $0.jobs.first.map { $0.framesDone > 0 } ?? false }
        let first = try PageView(browser.dumpDOM(url))
        XCTAssertEqual(first.connection, "live", first.dom)
        XCTAssertTrue(first.jobRow.contains("reel-7.mp4"), "the job's row names the film: \(first.jobRow)")
        XCTAssertTrue(first.jobRow.contains("reel-7-restored.mp4"), first.jobRow)
        XCTAssertTrue(first.jobRow.contains("realesr-general-wdn"), "the model: \(first.jobRow)")
        XCTAssertGreaterThanOrEqual(first.framesDone, firstProgress.jobs[0].framesDone)
        XCTAssertGreaterThanOrEqual(first.workerRows.count, 1, first.dom)
        XCTAssertTrue(first.workerRows.allSatisfy { $0.contains("cpu") }, "the device column: \(first.workerRows)")
        XCTAssertGreaterThanOrEqual(first.chartPoints.count, 2, "a line, not a dot: \(first.chartPoints)")

        // More frames done on the server, then the page again: it shows them, and the chart moved.
        _ = try waitForFarm(endpoint, restore, log, timeout: 120) { $0.jobs[0].framesDone > first.framesDone }
        let second = try PageView(browser.dumpDOM(url))
        XCTAssertGreaterThan(second.framesDone, first.framesDone, "frames done grew on the page")
        XCTAssertNotEqual(second.chartPoints, first.chartPoints, "the chart moved")
        XCTAssertGreaterThan(second.chartPoints.count, first.chartPoints.count, "the chart grew to the right")

        let screenshot = ProcessInfo.processInfo.environment["WEB_SCREENSHOT_OUT"]
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("lumiere-web-live-\(UUID().uuidString.prefix(8)).png").path
        try browser.screenshot(url, to: screenshot)
        print("web page screenshot (test artefact): \(screenshot)")
        XCTAssertEqual(try MediaInput(path: screenshot).primaryVideoStream().size, PixelSize(width: 1280, height: 900))

        let result = try restore.wait()
        XCTAssertEqual(result.status, 0, result.stderr)
    }

    func testNamesFromTheNetworkStayText() throws {
        let browser = try HeadlessChromium.require()
        let hostile = #"<img src=x onerror="document.title='owned'">"#
        let job = JobInfo(id: "j", film: "/films/<b>bold.mkv", output: "out.mp4", model: "lanczos", device: "cpu", phase: "farm")
        let snapshot = FarmSnapshot(elapsedSeconds: 12, finished: false, framesTotal: 100, framesDone: 40, framesInFlight: 0, outputFPS: 4,
                                    averageFPS: 3.3, etaSeconds: 15, segments: SegmentCounts(total: 4, pending: 1, running: 1, done: 2),
                                    retries: 0, speculativeCopies: 0, bytesSent: 0, bytesReceived: 0,
                                    workers: [WorkerSnapshot(name: hostile, host: "<i>host</i>", threads: 1, device: "cpu", state: .processing, segment: 3)])
        var history = ThroughputHistory()
        for t in 0...48 { history.record(time: Double(t) / 4, frames: Int64(t) * 10 / 12) }
        let server = try StatusServer(port: 0, snapshot: { snapshot }, web: { WebStatus(snapshot: snapshot, history: history, jobs: JobList(running: [job])) })
        let port = try server.start()
        defer { server.stop() }
        let page = try PageView(browser.dumpDOM("http://127.0.0.1:\(port)/"))
        XCTAssertEqual(page.connection, "live", page.dom)
        XCTAssertTrue(page.jobRow.contains(">&lt;b&gt;bold.mkv<"), page.jobRow)
        XCTAssertEqual(page.workerRows.count, 1)
        XCTAssertTrue(page.workerRows[0].contains("&lt;img src=x onerror="), page.workerRows[0])
        XCTAssertTrue(page.workerRows[0].contains("&lt;i&gt;host&lt;/i&gt;"), page.workerRows[0])
        // Outside attribute values (a `title` holds the whole path; how it is escaped there is the serializer's business).
        let markup = page.dom.replacingOccurrences(of: #""[^"]*""#, with: "\"\"", options: .regularExpression)
        for tag in ["<img", "<b>", "<i>"] { XCTAssertFalse(markup.contains(tag), "\(tag) became markup: \(page.dom)") }
        XCTAssertTrue(page.dom.contains("<title>Lumière farm</title>"), "no script ran from a name")
        XCTAssertEqual(page.framesDone, 40)
        XCTAssertGreaterThanOrEqual(page.chartPoints.count, 2)
    }

    /// Polls `/farm.json` until `condition` holds; a restore that exits first or a timeout fails with what it printed.
    private func waitForFarm(_ endpoint: StatusClient.Endpoint, _ restore: BackgroundProduct, _ log: LatestText, timeout: Double,
                             until condition: (WebStatus) -> Bool) throws -> WebStatus {
        let deadline = Date().addingTimeInterval(timeout)
        var last: WebStatus?
        while Date() < deadline {
            if let status = try? JSONDecoder().decode(WebStatus.self, from: StatusClient.get(endpoint, path: "/farm.json", timeout: 5)) {
                if condition(status) { return status }
                last = status
            }
            guard !restore.hasEnded else { throw BrowserTestError("restore ended before the page could be checked: \(log.text.suffix(2000))") }
            Thread.sleep(forTimeInterval: 0.25)
        }
        throw BrowserTestError("the farm did not get there within \(Int(timeout)) s; last /farm.json: \(String(describing: last)); restore: \(log.text.suffix(1500))")
    }

    /// The first capture group of `pattern` once the product's stderr shows it.
    private static func waitFor(_ pattern: String, in log: LatestText, of product: BackgroundProduct, timeout: Double) throws -> String {
        let regex = try NSRegularExpression(pattern: pattern)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let all = log.text
            if let match = regex.firstMatch(in: all, range: NSRange(all.startIndex..., in: all)), let range = Range(match.range(at: 1), in: all) {
                return String(all[range])
            }
            if product.hasEnded { throw BrowserTestError("the product exited before printing /\(pattern)/: \(all.suffix(2000))") }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw BrowserTestError("no /\(pattern)/ on stderr within \(Int(timeout)) s: \(log.text.suffix(2000))")
    }

    /// Ends a restore the test left early (a failed check), so none outlives the test: SIGTERM first (it stops its
    /// local workers), SIGKILL if it is still there 20 s later.
    private static func end(_ product: BackgroundProduct) {
        guard !product.hasEnded else { return }
        product.send(SIGTERM)
        let deadline = Date().addingTimeInterval(20)
        while !product.hasEnded && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        product.send(SIGKILL)
        _ = try? product.wait()
    }
}

/// What the page showed, read from the DOM chromium serialized after the script ran.
struct PageView {
    let dom: String
    let jobRow: String
    let framesDone: Int64
    let workerRows: [String]
    let chartPoints: [String]
    let connection: String

    init(_ dom: String) throws {
        self.dom = dom
        func matches(_ pattern: String) -> [[String]] {
            let regex = try! NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators])
            return regex.matches(in: dom, range: NSRange(dom.startIndex..., in: dom)).map { match in
                (0..<match.numberOfRanges).map { Range(match.range(at: $0), in: dom).map { String(dom[$0]) } ?? "" }
            }
        }
        guard let job = matches(#"<tr class="job" data-frames-done="([0-9]+)">(.*?)</tr>"#).first else {
            throw BrowserTestError("no job row on the page: \(dom.prefix(4000))")
        }
        jobRow = job[2]
        framesDone = Int64(job[1]) ?? -1
        workerRows = matches(#"<tr class="worker">(.*?)</tr>"#).map { $0[1] }
        chartPoints = (matches(#"<polyline id="chart-line" points="([^"]*)""#).first?[1] ?? "").split(separator: " ").map(String.init)
        connection = matches(#"<span id="conn"[^>]*>([^<]*)</span>"#).first?[1] ?? ""
    }
}

struct BrowserTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Debian's `chromium`, headless. Start-up takes seconds on a loaded machine: every run has a generous limit and
/// fails with what chromium printed when it passes it, never hangs.
struct HeadlessChromium {
    let binary: String
    static let timeout = 150.0

    /// The browser, or a skip (a failure in CI: scripts/setup.sh installs it).
    static func require() throws -> HeadlessChromium {
        let binary = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
        try Fixtures.require(binary != nil, "needs Debian's chromium for the browser test (apt-get install chromium; scripts/setup.sh does)")
        return HeadlessChromium(binary: binary!)
    }

    /// The DOM after the page's script ran: `budget` ms of virtual time let it fetch `/farm.json` and draw.
    func dumpDOM(_ url: String, budget: Int = 4000) throws -> String {
        try run(["--virtual-time-budget=\(budget)", "--dump-dom", url])
    }

    func screenshot(_ url: String, to path: String, budget: Int = 4000) throws {
        try? FileManager.default.removeItem(atPath: path)
        _ = try run(["--virtual-time-budget=\(budget)", "--window-size=1280,900", "--hide-scrollbars", "--screenshot=\(path)", url])
        guard FileManager.default.fileExists(atPath: path) else { throw BrowserTestError("chromium wrote no screenshot at \(path)") }
    }

    private func run(_ arguments: [String]) throws -> String {
        let profile = try Fixtures.temporaryDirectory("chromium-profile")
        defer { try? FileManager.default.removeItem(at: profile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        // A profile of its own: no clash with another test's chromium, nothing left in $HOME.
        process.arguments = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                             "--disable-background-networking", "--disable-dev-shm-usage", "--user-data-dir=\(profile.path)"] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let stdout = ChromiumOutput(), stderr = ChromiumOutput()
        out.fileHandleForReading.readabilityHandler = { stdout.append($0.availableData) }
        err.fileHandleForReading.readabilityHandler = { stderr.append($0.availableData) }
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        let started = Date()
        try process.run()
        if exited.wait(timeout: .now() + HeadlessChromium.timeout) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw BrowserTestError("chromium \(arguments.joined(separator: " ")) did not finish within \(Int(HeadlessChromium.timeout)) s; stderr: \(stderr.text.suffix(1500))")
        }
        out.fileHandleForReading.readabilityHandler = nil
        err.fileHandleForReading.readabilityHandler = nil
        stdout.append(out.fileHandleForReading.readDataToEndOfFile())
        guard process.terminationStatus == 0 else {
            throw BrowserTestError("chromium \(arguments.joined(separator: " ")) exited \(process.terminationStatus); stderr: \(stderr.text.suffix(1500))")
        }
        print("chromium \(arguments.last ?? "") took \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        return stdout.text
    }
}

/// Bytes appended from a reader thread.
final class ChromiumOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func append(_ more: Data) { lock.withLock { data.append(more) } }
    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}

/// What a product printed on stderr so far (BackgroundProduct hands over all of it each time more arrives).
final class LatestText: @unchecked Sendable {
    private let lock = NSLock()
    private var value = ""
    func set(_ text: String) { lock.withLock { value = text } }
    var text: String { lock.withLock { value } }
}
