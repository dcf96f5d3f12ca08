import Foundation
import Inference
import TestSupport
import XCTest

/// Model files crafted to hurt: absurd layer sizes and counts, garbled text, truncated weights. Each must
/// fail to load with a typed error that names the problem — never a crash or a giant allocation.
final class HostileModelTests: XCTestCase {
    private static let models: URL? = {
        let env = ProcessInfo.processInfo.environment["LUMIERE_MODELS"].map { URL(fileURLWithPath: $0) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return [env, root.appendingPathComponent("models")]
            .compactMap { $0 }.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("realesr-animevideov3").path) }
    }()

    private func original() throws -> (param: String, weights: [UInt8]) {
        let dir = try XCTUnwrap(Self.models, "needs the models folder (models/ in the repository, or LUMIERE_MODELS)")
            .appendingPathComponent("realesr-animevideov3")
        return (try String(contentsOf: dir.appendingPathComponent("realesr-animevideov3-x2.param"), encoding: .utf8),
                Array(try Data(contentsOf: dir.appendingPathComponent("realesr-animevideov3-x2.bin"))))
    }

    private func assertRefused(_ param: String, _ weights: [UInt8], _ what: String, line: UInt = #line) {
        do {
            _ = try Net(paramText: param, weights: weights)
            XCTFail("\(what): loaded", line: line)
        } catch let error as InferenceError {
            let text = "\(error)"
            XCTAssertFalse(text.isEmpty, line: line)
            XCTAssertFalse(text.contains("\n"), "\(what): one line: \(text)", line: line)
        } catch {
            XCTFail("\(what): untyped error \(error)", line: line)
        }
    }

    /// Each test runs its refusals in a child process of its own and fails when they add 512 MiB to its peak.
    private func measured(function: String = #function) throws -> Bool {
        try MeasuredChild.measure(self, module: "FaultTests", function: function, limitKiB: 512 << 10)
    }

    func testAbsurdChannelCountIsRefused() throws {
        if try measured() { return }
        let (param, weights) = try original()
        let absurd = param.replacingOccurrences(of: "0=64 1=3 4=1 5=1 6=1728", with: "0=2000000000 1=3 4=1 5=1 6=2147483647")
        XCTAssertNotEqual(absurd, param)
        assertRefused(absurd, weights, "2e9 output channels")
    }

    func testAbsurdLayerAndBlobCountsAreRefused() throws {
        if try measured() { return }
        let (param, weights) = try original()
        var lines = param.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines[1] = "2000000000 2000000000"
        assertRefused(lines.joined(separator: "\n"), weights, "2e9 layers")
        lines[1] = "-5 -7"
        assertRefused(lines.joined(separator: "\n"), weights, "negative counts")
    }

    func testGarbledParamIsRefused() throws {
        if try measured() { return }
        let (param, weights) = try original()
        var bytes = Array(param.utf8)
        // Deterministic damage: every 37th byte overwritten.
        for index in stride(from: 40, to: bytes.count, by: 37) { bytes[index] = UInt8(truncatingIfNeeded: index &* 131) }
        assertRefused(String(decoding: bytes, as: UTF8.self), weights, "garbled text")
        assertRefused("", weights, "empty param")
        assertRefused("7767517\n", weights, "header only")
    }

    func testTruncatedWeightsAreRefused() throws {
        if try measured() { return }
        let (param, weights) = try original()
        for keep in [0, 4, 100_000, weights.count - 1] {
            assertRefused(param, Array(weights.prefix(keep)), "weights cut to \(keep) bytes")
        }
    }
}
