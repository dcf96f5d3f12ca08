import Foundation
import Media
import Shared
import TestSupport
import XCTest

/// Issue 16 item 1: cuts written batch by batch, as shots close, by one forward reader (`SegmentInputCutWriter`) are the
/// same files, byte for byte, as the one-pass writer (`SegmentInputCut.write`, proven frame-exact by
/// SegmentInputCutTests) makes for the same targets — including cuts that start before the packets already read
/// (served from the packets kept) and one that goes back to the film's start (read again).
final class SegmentInputCutWriterTests: XCTestCase {
    func testBatchesMakeTheOnePassFilesByteForByte() throws {
        let path = try Fixtures.requireFootage("video/bikes.mp4")
        let dir = try Fixtures.temporaryDirectory("cut-writer")
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = MediaSource(path: path)
        let reader = try ConstantRateReader(path: path)
        let rate = reader.rate, start = reader.startTime
        let index = try PacketIndex.scan(source: source)
        XCTAssertNil(index.refusal)
        // bikes' shots (cuts at 30, 76, 137, 187, 242), the long ones split in two with 8 frames of overlap.
        let shots: [[Range<Int>]] = [[0..<30], [30..<57, 49..<76], [76..<110, 102..<137], [137..<187], [187..<219, 211..<242], [242..<250]]
        func targets(_ tag: String) -> [[SegmentInputCut.Target]] {
            shots.enumerated().map { s, ranges in
                ranges.enumerated().map { k, frames in
                    SegmentInputCut.Target(file: dir.appendingPathComponent("\(tag)-\(s)-\(k).nut"), index: index,
                                           packets: index.packets(for: frames, rate: rate, start: start),
                                           header: .init(rate: rate, start: start, frames: frames, fingerprint: "f\(s)-\(k)"))
                }
            }
        }
        let whole = targets("whole"), batched = targets("batch")
        try SegmentInputCut.write(source: source, index: index, targets: whole.flatMap { $0 })
        let writer = try SegmentInputCutWriter(source: source, index: index)
        // One batch per segment, the hardest order: a split shot's second segment starts 8 frames before the first ends.
        var behind = 0, previousEnd = 0
        for target in batched.flatMap({ $0 }) {
            if target.packets.lowerBound < previousEnd { behind += 1 }
            previousEnd = target.packets.upperBound
            try writer.write([target])
        }
        XCTAssertGreaterThanOrEqual(behind, 3, "cuts that start before the packets already read")
        XCTAssertEqual(writer.reopened, 0, "served from the packets kept")
        // Back to the start: the first shot again is read from the film's start.
        let again = SegmentInputCut.Target(file: dir.appendingPathComponent("again.nut"), index: index, packets: whole[0][0].packets, header: whole[0][0].header)
        try writer.write([again])
        XCTAssertEqual(writer.reopened, 1)
        for (a, b) in zip(whole.flatMap { $0 }, batched.flatMap { $0 }) {
            XCTAssertEqual(try Data(contentsOf: a.file), try Data(contentsOf: b.file), b.file.lastPathComponent)
        }
        XCTAssertEqual(try Data(contentsOf: whole[0][0].file), try Data(contentsOf: again.file))
    }

    /// The header's entries are stored in one fixed order. They came from a Dictionary, whose iteration order differs
    /// between instances and processes, so the same cut could be other bytes (same size) — in a resumed job, or from
    /// the batch writer against the one-pass writer.
    func testTheHeaderIsWrittenInOneOrder() throws {
        let path = try Fixtures.requireFootage("video/bikes.mp4")
        let dir = try Fixtures.temporaryDirectory("cut-header")
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = MediaSource(path: path)
        let reader = try ConstantRateReader(path: path)
        let index = try PacketIndex.scan(source: source)
        let targets = [30..<57, 49..<76, 137..<187].enumerated().map { k, frames in
            SegmentInputCut.Target(file: dir.appendingPathComponent("\(k).nut"), index: index,
                                   packets: index.packets(for: frames, rate: reader.rate, start: reader.startTime),
                                   header: .init(rate: reader.rate, start: reader.startTime, frames: frames, fingerprint: "f\(k)"))
        }
        try SegmentInputCut.write(source: source, index: index, targets: targets)
        for target in targets {
            XCTAssertNotNil(target.header.keyframeTime, "every entry present")
            let keys = try Fixtures.run("ffprobe", ["-v", "error", "-show_entries", "format_tags", "-of", "default=nw=1", target.file.path])
                .split(separator: "\n").compactMap { $0.split(separator: "=").first.map(String.init) }
            XCTAssertEqual(keys, ["TAG:lumiere-cut", "TAG:lumiere-rate", "TAG:lumiere-start", "TAG:lumiere-frames",
                                  "TAG:lumiere-fingerprint", "TAG:lumiere-keyframe"], target.file.lastPathComponent)
        }
    }
}
