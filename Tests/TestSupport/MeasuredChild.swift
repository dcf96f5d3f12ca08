import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Peak memory of one piece of work, measured in a fresh process: the test binary runs one of its own tests again
/// in a child (with `LUMIERE_MEASURED_CHILD=1`), which reports its own high-water mark (`VmHWM` of its process image)
/// as it exits. A high-water mark read inside the test process would include whatever earlier tests allocated (a UHD
/// decode, a model) and so could not see a new allocation below it (issue 14, item 5). Not `wait4`'s `ru_maxrss`:
/// Linux folds the pre-exec memory into it, and `posix_spawn` runs the child on the parent's memory until exec, so
/// the child inherits the parent's peak (3.1 GiB in a full suite run, found in CI).
public enum MeasuredChild {
    /// True inside the child: the test does its work there and returns. The first call there arranges the report.
    public static var isChild: Bool {
        guard ProcessInfo.processInfo.environment["LUMIERE_MEASURED_CHILD"] == "1" else { return false }
        _ = reporter
        return true
    }

    static let marker = "LUMIERE_MEASURED_CHILD_VMHWM_KIB="

    /// At exit, prints the process's own peak resident size (KiB) for the parent.
    private static let reporter: Void = {
        atexit {
            let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
            let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
            let kib = line.split(separator: " ").compactMap { Int($0) }.first ?? -1
            print("\(MeasuredChild.marker)\(kib)")
            fflush(stdout)
        }
    }()

    public struct Result {
        public var status: Int32
        /// Peak resident set of the child's own process image, KiB (-1 when it did not report one).
        public var peakKiB: Int
        public var output: String
    }

    /// Runs `test` ("Module.Class/method") of this test binary in a child process and waits for it.
    public static func run(test: String) throws -> Result {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("lumiere-child-\(getpid())-\(UUID().uuidString.prefix(6)).log").path
        defer { unlink(log) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var environment = ProcessInfo.processInfo.environment
        environment["LUMIERE_MEASURED_CHILD"] = "1"
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(binary), strdup(test), nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, binary, &actions, nil, argv, envp)
        guard spawned == 0 else { throw FixtureError.toolFailed("could not start \(binary): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            guard errno == EINTR else { throw FixtureError.toolFailed("wait4: \(String(cString: strerror(errno)))") }
        }
        let exited = (status & 0x7f) == 0
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        // The child's own report; without it (it crashed before exit) the measurement is missing, which fails the caller.
        let reported = output.split(separator: "\n").last { $0.hasPrefix(marker) }.flatMap { Int($0.dropFirst(marker.count)) }
        return Result(status: exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), peakKiB: reported ?? -1, output: output)
    }
}

import XCTest

nonisolated(unsafe) private var baselineKiB: Int?

extension MeasuredChild {
    /// Call first in a test whose work must stay under a memory limit. In the test process it runs the same test
    /// twice more in children — once doing nothing (the test binary's own footprint) and once doing the work — and
    /// checks that the work passed and added less than `limitKiB` to the peak; it returns true (the caller returns).
    /// In the child doing the work it returns false: the caller goes on and does the work (its assertions decide the
    /// child's exit status).
    public static func measure(_ test: XCTestCase, module: String, function: String = #function, limitKiB: Int,
                               file: StaticString = #filePath, line: UInt = #line) throws -> Bool {
        if isChild { return ProcessInfo.processInfo.environment["LUMIERE_MEASURED_BASELINE"] == "1" }
        let name = "\(module).\(String(describing: type(of: test)))/\(function.replacingOccurrences(of: "()", with: ""))"
        if baselineKiB == nil {
            setenv("LUMIERE_MEASURED_BASELINE", "1", 1)
            defer { unsetenv("LUMIERE_MEASURED_BASELINE") }
            let idle = try run(test: name)
            XCTAssertEqual(idle.status, 0, "baseline child: \(idle.output.suffix(1500))", file: file, line: line)
            XCTAssertGreaterThan(idle.peakKiB, 0, "the baseline child reported no peak: \(idle.output.suffix(1500))", file: file, line: line)
            baselineKiB = idle.peakKiB
        }
        let result = try run(test: name)
        XCTAssertEqual(result.status, 0, "\(name) failed in its child process:\n\(result.output.suffix(3000))", file: file, line: line)
        XCTAssertTrue(result.output.contains("Executed 1 test"), "the child did not run \(name):\n\(result.output.suffix(1500))", file: file, line: line)
        XCTAssertGreaterThan(result.peakKiB, 0, "\(name) reported no peak:\n\(result.output.suffix(1500))", file: file, line: line)
        let added = result.peakKiB - (baselineKiB ?? 0)
        print("\(name): peak RSS \(result.peakKiB / 1024) MiB in its own process (\(added / 1024) MiB above an idle test process; limit \(limitKiB / 1024) MiB)")
        XCTAssertLessThan(added, limitKiB, "\(name) took \(added / 1024) MiB or more above an idle test process", file: file, line: line)
        return true
    }
}
