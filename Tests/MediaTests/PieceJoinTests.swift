import Media
import Shared
import TestSupport
import XCTest

/// Issue 16, item 3: a film joined from pieces encoded separately (workers' interiors, the head node's seams) is the
/// pieces' own bitstreams, decodes without an error, and keeps every frame of every piece.
final class PieceJoinTests: XCTestCase {
    /// The first `count` frames of a real clip (4:2:0 H.264 with B-frames), as the encoder's input format.
    private func frames(_ count: Int) throws -> (pictures: [VideoPicture], rate: Rational) {
        let reader = try ConstantRateReader(path: try Fixtures.requireFootage("video/bikes.mp4"))
        var pictures: [VideoPicture] = []
        while pictures.count < count, let frame = try reader.next() { pictures.append(try frame.picture.relabeled(as: "yuv420p")) }
        return (pictures, reader.rate)
    }

    private func piece(_ pictures: ArraySlice<VideoPicture>, at path: String, encoding: VideoEncoding, rate: Rational,
                       lossless: [VideoPicture] = []) throws -> EncodedPiece {
        let size = PixelSize(width: pictures.first!.width, height: pictures.first!.height)
        let writer = try SegmentResultWriter(path: path, losslessSize: size, losslessPixelFormat: "yuv420p", encoding: encoding, canvas: size, rate: rate)
        for (i, picture) in lossless.enumerated() { try writer.writeLossless(picture, index: Int64(i)) }
        for (i, picture) in pictures.enumerated() { try writer.writeEncoded(picture, index: Int64(lossless.count + i)) }
        try writer.finish()
        return try EncodedPiece(path: path)
    }

    private func hashes(_ path: String, stream: Int? = nil) throws -> [String] {
        let input = try MediaInput(path: path)
        let decoder = try VideoDecoder(input: input, stream: stream.map { input.info.streams[$0] } ?? input.primaryVideoStream(), threads: 1)
        var result: [String] = []
        while let frame = try decoder.next() { result.append(FrameHash.combined([try FrameHash(frame.picture)])) }
        return result
    }

    func testPiecesJoinIntoOneStreamThatKeepsEveryFrame() throws {
        let (pictures, rate) = try frames(75)
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let encoding = VideoEncoding(codec: .h264, crf: 20, preset: "medium", pixelFormat: "yuv420p")
        // Uneven pieces, one of a single frame (a seam run can be that short), as workers and the head node make them.
        let cuts = [0, 31, 32, 40, 75]
        var pieces: [EncodedPiece] = []
        for (k, (a, b)) in zip(cuts, cuts.dropFirst()).enumerated() {
            pieces.append(try piece(pictures[a..<b], at: dir.appendingPathComponent("piece\(k).mkv").path, encoding: encoding, rate: rate))
        }
        XCTAssertEqual(pieces.map(\.frameCount), [31, 1, 8, 35])
        let size = PixelSize(width: pictures[0].width, height: pictures[0].height)
        let film = dir.appendingPathComponent("film.mp4").path
        let writer = try MediaWriter(path: film, video: .init(size: size, rate: rate, encoding: encoding, color: pictures[0].color), joining: pieces[0])
        for p in pieces { try writer.append(p) }
        try writer.finish()
        XCTAssertEqual(writer.frameCount, 75)

        // FFmpeg's own decoder, stopping at the first error, reads every frame; and the frames are the pieces' frames.
        XCTAssertEqual(try Fixtures.run("ffmpeg", ["-v", "error", "-xerror", "-i", film, "-f", "null", "-"]).trimmingCharacters(in: .whitespacesAndNewlines), "")
        XCTAssertEqual(try Fixtures.probe(film, stream: "v:0")["nb_read_frames"], "75")
        var expected: [String] = []
        for k in pieces.indices { expected += try hashes(dir.appendingPathComponent("piece\(k).mkv").path, stream: SegmentResultWriter.encodedStream) }
        XCTAssertEqual(expected.count, 75)
        XCTAssertEqual(try hashes(film), expected, "joining changed a frame")
        // Pieces made the same way are the same bytes (a retried segment joins identically).
        let again = try piece(pictures[40..<75], at: dir.appendingPathComponent("again.mkv").path, encoding: encoding, rate: rate)
        XCTAssertEqual(try hashes(again.path, stream: SegmentResultWriter.encodedStream), try hashes(pieces[3].path, stream: SegmentResultWriter.encodedStream))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: again.path)), try Data(contentsOf: URL(fileURLWithPath: pieces[3].path)))
    }

    func testAPieceEncodedWithOtherSettingsIsRefused() throws {
        let (pictures, rate) = try frames(16)
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let encoding = VideoEncoding(codec: .h264, crf: 18, preset: "medium", pixelFormat: "yuv420p")
        let first = try piece(pictures[0..<8], at: dir.appendingPathComponent("a.mkv").path, encoding: encoding, rate: rate)
        let other = try piece(pictures[8..<16], at: dir.appendingPathComponent("b.mkv").path,
                              encoding: VideoEncoding(codec: .h264, crf: 18, preset: "ultrafast", pixelFormat: "yuv420p"), rate: rate)
        let size = PixelSize(width: pictures[0].width, height: pictures[0].height)
        let writer = try MediaWriter(path: dir.appendingPathComponent("film.mp4").path,
                                     video: .init(size: size, rate: rate, encoding: encoding, color: pictures[0].color), joining: first)
        try writer.append(first)
        XCTAssertThrowsError(try writer.append(other)) { XCTAssertTrue("\($0)".contains("other settings"), "\($0)") }
    }

    /// The result file's other stream: the frames for seams, lossless, beside the encoded piece.
    func testTheSeamFramesComeBackLosslessBesideThePiece() throws {
        let (pictures, rate) = try frames(20)
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("result.mkv").path
        let encoding = VideoEncoding(codec: .ffv1, pixelFormat: "yuv420p")
        let p = try piece(pictures[4..<16], at: path, encoding: encoding, rate: rate, lossless: Array(pictures[0..<4]))
        XCTAssertEqual(p.frameCount, 12)
        let original = try pictures.map { FrameHash.combined([try FrameHash($0)]) }
        XCTAssertEqual(try hashes(path, stream: SegmentResultWriter.losslessStream), Array(original[0..<4]))
        XCTAssertEqual(try hashes(path, stream: SegmentResultWriter.encodedStream), Array(original[4..<16]), "FFV1 pieces are lossless")
    }
}
