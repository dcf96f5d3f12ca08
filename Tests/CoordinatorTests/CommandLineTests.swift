import Foundation
import TestSupport
import XCTest

/// Issue 19, item 3 ("a CLI that behaves"), through the real executables: --version names the commit, every option
/// with a fixed set of values refuses others at parse time with the list (exit 64), an existing output is refused
/// unless --overwrite, --log-format json writes one JSON object per line, and the completion scripts and man page
/// are generated from the help.
final class CommandLineTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = try Fixtures.temporaryDirectory("command-line")
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// A 0.4 s 64x48 clip in the test's folder (the options tests' film).
    private func makeFilm() throws {
        let source = try Fixtures.requireFootage("video/carphone_pristine.mp4")
        try Fixtures.run("ffmpeg", ["-v", "error", "-i", source, "-t", "0.4", "-vf", "scale=64:48", "-c:v", "libx264", "-preset", "ultrafast",
                                    dir.appendingPathComponent("film.mp4").path])
    }

    private func coordinator(_ args: [String], timeout: Double = 120, stdout: Bool = false) throws -> Fixtures.CommandResult {
        try Fixtures.runProduct("lumiere-coordinator", args, in: dir, timeout: timeout, captureStdout: stdout)
    }

    private func bytes(_ name: String) -> Data? { FileManager.default.contents(atPath: dir.appendingPathComponent(name).path) }

    // MARK: --version

    /// Both executables print the version and the commit the build came from: `git rev-parse HEAD` of this checkout
    /// (the GitCommit build plugin reads it at build time), or "unknown commit" for a build outside git.
    func testVersionNamesTheCommitOfTheCheckout() throws {
        let root = Fixtures.repositoryRoot
        var expected = "unknown commit"
        if FileManager.default.fileExists(atPath: root.appendingPathComponent(".git").path) {
            expected = "commit " + (try Fixtures.run("git", ["-C", root.path, "rev-parse", "HEAD"])).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        for product in ["lumiere-coordinator", "lumiere-worker"] {
            let result = try Fixtures.runProduct(product, ["--version"], in: dir, timeout: 30, captureStdout: true)
            XCTAssertEqual(result.status, 0, "\(product): \(result.stderr)")
            let line = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            XCTAssertTrue(line.range(of: #"^\d+\.\d+\.\d+ \("#, options: .regularExpression) != nil, "\(product) prints a version first: \(line)")
            XCTAssertTrue(line.contains(expected), "\(product) --version says \(line); the checkout is at \(expected) (rebuild if HEAD moved since the build)")
        }
    }

    // MARK: fixed sets of values

    /// Each option whose values are a fixed set refuses another value while parsing: exit 64 (EX_USAGE), the bad
    /// value and every allowed one named, nothing written, nothing read (the film does not even exist here).
    func testFixedSetOptionsRefuseOtherValuesWithTheList() throws {
        let restore = ["restore", "missing.mp4", "-o", "out.mp4"]
        let cases: [([String], String, [String])] = [
            (["--codec", "png"], "png", ["h264", "ffv1"]),
            (["--preset", "ludicrous"], "ludicrous", ["ultrafast", "medium", "veryslow", "placebo"]),
            (["--interlaced", "weave"], "weave", ["auto", "deinterlace", "keep"]),
            (["--fps", "60", "--order", "fastest"], "fastest", ["auto", "interp-first", "sr-first"]),
            (["--fps", "60", "--interp", "dain"], "dain", ["blend", "rife-v4.25"]),
            (["--status", "loud"], "loud", ["auto", "live", "log", "off"]),
            (["--log-format", "xml"], "xml", ["text", "json"]),
            (["--log-level", "verbose"], "verbose", ["trace", "warning", "critical"]),
            (["--device", "cuda:0"], "cuda:0", ["auto", "cpu", "gpu", "gpu:N"]),
            (["--device", "gpu:-1"], "gpu:-1", ["auto", "cpu", "gpu", "gpu:N"]),
            (["--precision", "fp8"], "fp8", ["fp32", "fp16"]),
            (["--precision", "fp16Storage"], "fp16Storage", ["fp32", "fp16"]),
        ]
        for (args, bad, allowed) in cases {
            let result = try coordinator(restore + args, timeout: 30)
            XCTAssertEqual(result.status, 64, "\(args): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("'\(bad)'"), "\(args): names the value: \(result.stderr)")
            // ArgumentParser lists a few values inline ('a', 'b' or 'c'), longer lists one per line ("  - a").
            for value in allowed {
                XCTAssertTrue(result.stderr.contains("'\(value)'") || result.stderr.contains("  - \(value)\n"), "\(args): lists \(value): \(result.stderr)")
            }
        }
        let worker = try Fixtures.runProduct("lumiere-worker", ["--connect", "tcp://127.0.0.1:9", "--log-format", "xml"], in: dir, timeout: 30)
        XCTAssertEqual(worker.status, 64, worker.stderr)
        XCTAssertTrue(worker.stderr.contains("'text'") && worker.stderr.contains("'json'"), worker.stderr)
        let device = try Fixtures.runProduct("lumiere-worker", ["--connect", "tcp://127.0.0.1:9", "--device", "gpu0"], in: dir, timeout: 30)
        XCTAssertEqual(device.status, 64, device.stderr)
        XCTAssertTrue(device.stderr.contains("'gpu0'") && device.stderr.contains("'gpu:N'"), device.stderr)
        let precision = try Fixtures.runProduct("lumiere-worker", ["--connect", "tcp://127.0.0.1:9", "--precision", "half"], in: dir, timeout: 30)
        XCTAssertEqual(precision.status, 64, precision.stderr)
        XCTAssertTrue(precision.stderr.contains("'half'") && precision.stderr.contains("'fp32'") && precision.stderr.contains("'fp16'"), precision.stderr)
        XCTAssertEqual(Fixtures.tree(dir), [], "nothing written")
    }

    // MARK: --overwrite

    /// An existing output is the user's file: refused before any work with a line that says what to pass (exit 64),
    /// byte for byte intact — also with --no-overwrite, through the farm and in-process, and for `shots -o`. With
    /// --overwrite it is replaced by the restored film. stdin is /dev/null here and the run ends at once: nothing
    /// waits for an answer.
    func testExistingOutputIsRefusedUnlessOverwrite() throws {
        try makeFilm()
        let mine = Data("my only copy of the 1910 restoration".utf8)
        try mine.write(to: dir.appendingPathComponent("out.mp4"))
        let before = Fixtures.tree(dir)
        let restore = ["restore", "film.mp4", "-o", "out.mp4", "--model", "lanczos", "--preset", "ultrafast", "--quiet"]
        for extra in [[], ["--no-overwrite"], ["--in-process"]] {
            let started = Date()
            let result = try coordinator(restore + extra, timeout: 60)
            XCTAssertEqual(result.status, 64, "\(extra): \(result.stderr)")
            XCTAssertTrue(result.stderr.hasPrefix("error: The output ") && result.stderr.contains("exists already; pass --overwrite"), result.stderr)
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "one line: \(result.stderr)")
            XCTAssertLessThan(Date().timeIntervalSince(started), 10, "refused before any work")
            XCTAssertEqual(bytes("out.mp4"), mine, "\(extra): the user's file is untouched")
            XCTAssertEqual(Fixtures.tree(dir), before, "\(extra): nothing else written (no job directory)")
        }
        // A dangling symbolic link is something of the user's too.
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("link.mp4").path, withDestinationPath: "nowhere.mp4")
        let link = try coordinator(["restore", "film.mp4", "-o", "link.mp4", "--model", "lanczos", "--quiet"], timeout: 60)
        XCTAssertEqual(link.status, 64, link.stderr)

        let replaced = try coordinator(restore + ["--overwrite"])
        XCTAssertEqual(replaced.status, 0, replaced.stderr)
        XCTAssertNotEqual(bytes("out.mp4"), mine)
        XCTAssertEqual(try Fixtures.probe(dir.appendingPathComponent("out.mp4").path, stream: "v:0")["width"], "128", "the restored film replaced it")

        // `shots -o`: the same rule.
        try Data("my notes".utf8).write(to: dir.appendingPathComponent("shots.json"))
        let shots = try coordinator(["shots", "film.mp4", "--json", "-o", "shots.json"], timeout: 60)
        XCTAssertEqual(shots.status, 64, shots.stderr)
        XCTAssertTrue(shots.stderr.contains("--overwrite"), shots.stderr)
        XCTAssertEqual(bytes("shots.json"), Data("my notes".utf8))
        let shotsReplaced = try coordinator(["shots", "film.mp4", "--json", "-o", "shots.json", "--overwrite"], timeout: 60)
        XCTAssertEqual(shotsReplaced.status, 0, shotsReplaced.stderr)
        XCTAssertTrue(String(decoding: bytes("shots.json") ?? Data(), as: UTF8.self).contains("\"boundaries\""))
    }

    // MARK: what a choice costs (item 4)

    /// `--scale 2` with a ×4-only model: before the work, a note says it runs ×4 and shrinks (and which models have
    /// a ×2), and an estimate of the whole job's time; `--scale 4` has the estimate but no such note, and --quiet
    /// neither. The film is still made at ×2.
    func testScaleBelowTheModelsScaleIsSaidWithAnEstimate() throws {
        try makeFilm()
        let base = ["restore", "film.mp4", "--model", "realesr-general-wdn", "--preset", "ultrafast", "--status", "off", "--tile", "0"]
        let two = try coordinator(base + ["-o", "two.mp4", "--scale", "2"])
        XCTAssertEqual(two.status, 0, two.stderr)
        XCTAssertTrue(two.stderr.contains("note: realesr-general-wdn runs at ×4 (64x48 → 256x192) and the result is shrunk to 128x96: the time is that of ×4"), two.stderr)
        XCTAssertTrue(two.stderr.contains("(realesr-animevideov3, waifu2x-photo can run at a smaller scale)"), two.stderr)
        let estimate = try XCTUnwrap(two.stderr.split(separator: "\n").first { $0.hasPrefix("note: estimate before starting: ") }, two.stderr)
        // Timed on the film's first frame at ×4 (the whole 64x48 frame), priced for the local workers.
        XCTAssertTrue(estimate.range(of: #"s per source frame for one worker of \d+ thread\(s\) \(super-resolution [0-9.e-]+ s; timed on frame 0, the whole 64x48 frame\), 1\d frames on \d+ worker\(s\): about \d+ s \([0-9.]+ s\)"#,
                                      options: .regularExpression) != nil, String(estimate))
        // Said before the work: ahead of the progress and the summary.
        let noteAt = try XCTUnwrap(two.stderr.range(of: "note: estimate"))
        let wroteAt = try XCTUnwrap(two.stderr.range(of: "wrote two.mp4"))
        XCTAssertLessThan(noteAt.lowerBound, wroteAt.lowerBound)
        XCTAssertEqual(try Fixtures.probe(dir.appendingPathComponent("two.mp4").path, stream: "v:0")["width"], "128")

        let four = try coordinator(base + ["-o", "four.mp4", "--scale", "4"])
        XCTAssertEqual(four.status, 0, four.stderr)
        XCTAssertFalse(four.stderr.contains("runs at ×4"), four.stderr)
        XCTAssertTrue(four.stderr.contains("note: estimate before starting: "), four.stderr)
        // The help says it too, before anything runs.
        let help = try coordinator(["restore", "--help"], stdout: true)
        XCTAssertEqual(help.status, 0, help.stderr)
        let words = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        XCTAssertTrue(words.contains("(--scale 2 with a ×4 model) runs ×4 and shrinks the result, so it takes the time of ×4"), words)
        XCTAssertTrue(words.contains("an estimate of the whole job's time (one frame of the film restored with these settings and timed on this machine)"), words)
        let quiet = try coordinator(base + ["-o", "quiet.mp4", "--scale", "2", "--quiet"])
        XCTAssertEqual(quiet.status, 0, quiet.stderr)
        XCTAssertFalse(quiet.stderr.contains("note:"), quiet.stderr)
    }

    // MARK: --log-format json

    /// With --log-format json every line on stderr is one JSON object with time (UTC, ISO 8601, ms), level, label and
    /// message — the logger's lines, the warnings and the final line alike — and the worker's error too.
    func testJSONLogFormatWritesOneObjectPerLine() throws {
        try makeFilm()
        let result = try coordinator(["restore", "film.mp4", "-o", "out.mp4", "--model", "lanczos", "--preset", "ultrafast",
                                      "--threads", "100000", "--log-format", "json", "--log-level", "info"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let records = try jsonLines(result.stderr)
        XCTAssertGreaterThan(records.count, 2, result.stderr)
        XCTAssertTrue(records.contains { $0["label"] as? String == "lumiere-coordinator" && $0["level"] as? String == "info" }, result.stderr)
        XCTAssertTrue(records.contains { ($0["message"] as? String)?.hasPrefix("--threads 100000 lowered to") == true }, "the note is a record: \(result.stderr)")
        XCTAssertTrue(records.contains { ($0["message"] as? String)?.hasPrefix("wrote out.mp4") == true }, "the summary is a record: \(result.stderr)")

        // A failure is a record too, at level error, as are the worker's.
        let failed = try coordinator(["restore", "film.mp4", "-o", "out.mp4", "--model", "lanczos", "--log-format", "json", "--tile", "5"])
        XCTAssertEqual(failed.status, 1, failed.stderr)
        XCTAssertTrue(try jsonLines(failed.stderr).contains { $0["level"] as? String == "error" && ($0["message"] as? String)?.contains("--tile") == true })
        let worker = try Fixtures.runProduct("lumiere-worker", ["--connect", "tcp://127.0.0.1:9", "--models-dir", dir.appendingPathComponent("no-such").path,
                                                                "--log-format", "json"], in: dir, timeout: 30)
        XCTAssertEqual(worker.status, 2, worker.stderr)
        let workerRecords = try jsonLines(worker.stderr)
        XCTAssertEqual(workerRecords.first?["label"] as? String, "lumiere-worker", worker.stderr)
        XCTAssertEqual(workerRecords.first?["level"] as? String, "error", worker.stderr)
    }

    /// Each line parsed as a JSON object with the four keys; a line that is not one fails the test, naming it.
    private func jsonLines(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                XCTFail("not a JSON object: \(line)")
                return [:]
            }
            for key in ["time", "level", "label", "message"] { XCTAssertNotNil(object[key], "\(key) missing: \(line)") }
            let time = try XCTUnwrap(object["time"] as? String)
            XCTAssertNotNil(time.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression), time)
            if let metadata = object["metadata"] { XCTAssertTrue(metadata is [String: Any], line.description) }
            return object
        }
    }

    // MARK: completion scripts and man page

    /// bash, zsh and fish completion scripts for both executables: generated from the help, syntactically valid for
    /// the shells that are installed (bash always), and offering the enums' values and the model names.
    func testCompletionScriptsListTheChoices() throws {
        for product in ["lumiere-coordinator", "lumiere-worker"] {
            for shell in ["bash", "zsh", "fish"] {
                let result = try Fixtures.runProduct(product, ["--generate-completion-script", shell], in: dir, timeout: 30, captureStdout: true)
                XCTAssertEqual(result.status, 0, "\(product) \(shell): \(result.stderr)")
                // Option names without their dashes: fish's script writes `-l 'log-format'`.
                XCTAssertTrue(result.stdout.contains("log-format") && result.stdout.contains("json"), "\(product) \(shell)")
                if product == "lumiere-coordinator" {
                    for value in ["veryslow", "interp-first", "deinterlace", "realesr-general-wdn", "rife-v4.25", "no-overwrite"] {
                        XCTAssertTrue(result.stdout.contains(value), "\(shell) completion offers \(value)")
                    }
                }
                let script = dir.appendingPathComponent("\(product).\(shell)")
                try Data(result.stdout.utf8).write(to: script)
                let checker = shell == "fish" ? ["fish", "--no-execute"] : [shell, "-n"]
                if (try? Fixtures.run("sh", ["-c", "command -v \(shell)"])) != nil {
                    XCTAssertNoThrow(try Fixtures.run(checker[0], Array(checker.dropFirst()) + [script.path]), "\(product) \(shell) script parses")
                }
            }
        }
    }

    /// The man page comes from swift-argument-parser's generate-manual plugin (`swift package plugin generate-manual`,
    /// which scripts/setup.sh runs). Running the plugin here would start a second SwiftPM on the build folder this
    /// test runs from, so the test runs the plugin's tool, as the plugin does, on the built executables and renders
    /// the page with groff: it must name the commands, the options and the exit status of a refused output. Skips (fails in CI) when
    /// the tool has not been built yet — setup.sh builds it.
    func testManPageIsGeneratedFromTheHelp() throws {
        // SwiftPM builds a plugin's tool for the host, in debug, beside the products: .build/<triple>/debug.
        let triple = Fixtures.productsDirectory.deletingLastPathComponent()
        let tool = ["debug", "release"].map { triple.appendingPathComponent("\($0)/generate-manual-tool") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
        try Fixtures.require(tool != nil, "generate-manual is not built; run `swift package plugin generate-manual` (scripts/setup.sh does)")
        for product in ["lumiere-coordinator", "lumiere-worker"] {
            let out = dir.appendingPathComponent(product)
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            try Fixtures.run(tool!.path, [try Fixtures.product(product).path, "--output-directory", out.path])
            let page = out.appendingPathComponent("\(product).1")
            let source = try String(contentsOf: page, encoding: .utf8)
            XCTAssertTrue(source.contains(".Dt ") && source.contains(".Sh "), "mdoc source")
            // ASCII, overstrikes removed, long lines (no wrapping or hyphenation inside a phrase): the text as `man`
            // shows it, searchable (-Tutf8 would print dashes as U+2010).
            let text = try Fixtures.run("sh", ["-c", "groff -mdoc -Tascii -rLL=400n '\(page.path)' 2>/dev/null | sed 's/.\\x08//g'"])
            XCTAssertTrue(text.contains("--log-format"), text)
            if product == "lumiere-coordinator" {
                // (generate-manual leaves out the value lists that --help shows; completion has them.)
                for words in ["restore", "--overwrite", "shots", "--preset", "exit status 64"] { XCTAssertTrue(text.contains(words), "man page shows \(words)") }
            }
        }
    }
}
