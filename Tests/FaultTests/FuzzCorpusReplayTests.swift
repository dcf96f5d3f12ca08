import Foundation
import Shared
import TestSupport
import XCTest

/// The deterministic half of the decoder fuzzing (issue 8): every input in Fuzz/corpus — the seeds plus what
/// libFuzzer found interesting (`faults/fuzz.sh` merges it) — is replayed under the fuzz target's contract.
final class FuzzCorpusReplayTests: XCTestCase {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus")

    func testEveryCorpusInputDecodesOrIsRejectedWithATypedError() throws {
        let files = try FileManager.default.contentsOfDirectory(at: Self.corpus, includingPropertiesForKeys: nil)
        XCTAssertGreaterThanOrEqual(files.count, 12, "the corpus holds at least one seed per message kind")
        var kinds = Set<FarmMessage.Kind>(), rejected = 0
        for file in files {
            let bytes = Array(try Data(contentsOf: file))
            do {
                let message = try MessageCodec.decode(bytes)
                let again = MessageCodec.encode(message)
                XCTAssertLessThanOrEqual(again.count, FarmProtocol.maxMessageBytes, file.lastPathComponent)
                XCTAssertEqual(try MessageCodec.decode(again), message, "\(file.lastPathComponent) survives encode/decode")
                kinds.insert(message.kind)
            } catch is ProtocolError {
                rejected += 1
            } catch {
                XCTFail("\(file.lastPathComponent): untyped error \(error)")
            }
        }
        XCTAssertEqual(kinds, Set(FarmMessage.Kind.allCases), "every message kind is reached by some corpus input")
        XCTAssertGreaterThan(rejected, 0, "the corpus also holds inputs the decoder must refuse")
    }

    /// Length prefixes announcing gigabytes must be refused from the prefix alone; measured as the peak memory of
    /// a child process doing only this staying far below what the announced sizes would take.
    func testAnnouncedHugeLengthsAreRefusedWithoutAllocating() throws {
        if try MeasuredChild.measure(self, module: "FaultTests", limitKiB: 64 << 10) { return }
        let v = FarmProtocol.version
        var hostile: [[UInt8]] = []
        for kind: UInt8 in 1...12 {
            hostile.append([0x4C, 0x46, v, kind] + [UInt8](repeating: 0xFF, count: 64))
            hostile.append([0x4C, 0x46, v, kind] + [UInt8](repeating: 0x7F, count: 64))
        }
        for _ in 0..<200 {
            for bytes in hostile {
                XCTAssertThrowsError(try MessageCodec.decode(bytes)) { XCTAssertTrue($0 is ProtocolError, "\($0)") }
            }
        }
    }
}
