import Shared
import XCTest

final class ProtocolCodecTests: XCTestCase {
    static let lease = LeaseRef(segment: 42, attempt: 2)
    static let payload = PayloadDescription(byteCount: 1_000_000, checksum: 0xDEAD_BEEF_0123_4567)
    /// 240 frames at 15 fps retimed to 24: outputs 160..<544 for input frames 100..<340.
    static let work = SegmentWork(recipe: RenderRecipe(processor: "realesr-general-wdn", modelScale: 4, contentWidth: 856, contentHeight: 640,
                                                       retime: RetimeRecipe(inputRate: Rational(15), outputRate: Rational(24))),
                                  timing: SegmentTiming(firstInputFrame: 100, outputFrames: 160..<544))

    /// One example of every message kind, with non-trivial field values.
    static let examples: [FarmMessage] = [
        .register(WorkerCapabilities(workerName: "render-07", host: "render-07.lab", threads: 32,
                                     models: ["realesr-general-x4v3", "rife-v4.6"], freeMemoryBytes: 64 << 30,
                                     device: "gpu:0 NVIDIA H100 80GB HBM3 (discrete)", segmentsAhead: 1)),
        .welcome(heartbeatIntervalMs: 1000),
        .reject(reason: "blocklisted"),
        .assign(SegmentAssignment(lease: lease, inputFrameCount: 240, work: work, input: payload)),
        .assign(SegmentAssignment(lease: lease, inputFrameCount: 3, work: SegmentWork(), input: payload)),
        .credit(lease, chunks: 16),
        .chunk(lease, offset: 262_144, bytes: (0..<1000).map { UInt8($0 % 251) }),
        .progress(lease, framesDone: 10, framesTotal: 240),
        .result(lease, SegmentResultInfo(frameCount: 480, frameWidth: 3840, frameHeight: 2160, output: payload)),
        .failure(lease, message: "model file truncated: étoile ✓"),
        .cancel(lease, reason: "lease expired"),
        .heartbeat,
        .goodbye(reason: "shutting down"),
    ]

    func testEveryMessageKindRoundTrips() throws {
        XCTAssertEqual(Set(Self.examples.map(\.kind)), Set(FarmMessage.Kind.allCases), "an example per kind")
        for message in Self.examples {
            let bytes = MessageCodec.encode(message)
            XCTAssertEqual(Array(bytes.prefix(4)), [0x4C, 0x46, FarmProtocol.version, message.kind.rawValue])
            XCTAssertEqual(try MessageCodec.decode(bytes), message)
        }
    }

    /// The largest recipe a worker accepts travels in an assignment: the wire's limit for the recipe is the recipe's
    /// own (protocol 1 carried it in a 1 KiB string setting against the recipe's 4 KiB, so a long recipe was refused
    /// by every worker).
    func testTheLargestValidRecipeTravelsInAnAssignment() throws {
        var recipe = RenderRecipe(processor: "lanczos", contentWidth: 640, contentHeight: 480)
        let base = recipe.json().count
        recipe.deinterlaced = "bwdif=mode=send_frame:parity=auto:deint=all" + String(repeating: " ", count: RenderRecipe.maxEncodedBytes - base - 80)
        XCTAssertGreaterThan(recipe.json().count, 3 * 1024)
        XCTAssertLessThanOrEqual(recipe.json().count, RenderRecipe.maxEncodedBytes)
        let message = FarmMessage.assign(SegmentAssignment(lease: Self.lease, inputFrameCount: 24, work: SegmentWork(recipe: recipe), input: Self.payload))
        XCTAssertEqual(try MessageCodec.decode(MessageCodec.encode(message)), message)
        // One byte over the limit is refused by the wire and by the recipe alike.
        recipe.deinterlaced! += String(repeating: " ", count: RenderRecipe.maxEncodedBytes - recipe.json().count + 1)
        XCTAssertEqual(recipe.json().count, RenderRecipe.maxEncodedBytes + 1)
        let tooLong = FarmMessage.assign(SegmentAssignment(lease: Self.lease, inputFrameCount: 24, work: SegmentWork(recipe: recipe), input: Self.payload))
        XCTAssertThrowsError(try MessageCodec.decode(MessageCodec.encode(tooLong))) { XCTAssertTrue($0 is ProtocolError, "\($0)") }
        XCTAssertThrowsError(try RenderRecipe(json: recipe.json()))
    }

    /// Recipe and timing are checked against each other and the segment while decoding: a worker never sees a timing
    /// without retiming, a retimed segment without timing, outputs outside its input, or an invalid recipe.
    func testInconsistentWorkIsRefusedByTheDecoder() throws {
        func decodes(_ work: SegmentWork, frames: UInt32 = 240) -> Bool {
            (try? MessageCodec.decode(MessageCodec.encode(.assign(SegmentAssignment(lease: Self.lease, inputFrameCount: frames, work: work,
                                                                                   input: Self.payload))))) != nil
        }
        XCTAssertTrue(decodes(Self.work))
        var noTiming = Self.work; noTiming.timing = nil
        XCTAssertFalse(decodes(noTiming), "a retimed segment without its timing")
        var noRetime = Self.work; noRetime.recipe?.retime = nil
        XCTAssertFalse(decodes(noRetime), "a timing without retiming")
        XCTAssertFalse(decodes(Self.work, frames: 10), "384 outputs cannot come from 10 input frames")
        var outside = Self.work; outside.timing = SegmentTiming(firstInputFrame: 100, outputFrames: 0..<384)
        XCTAssertFalse(decodes(outside), "outputs before the segment's input")
        var badRecipe = Self.work; badRecipe.recipe?.contentWidth = 1
        XCTAssertFalse(decodes(badRecipe), "a 1-pixel-wide picture")
        // Unknown flag bits are refused, not ignored.
        var bytes = MessageCodec.encode(.assign(SegmentAssignment(lease: Self.lease, inputFrameCount: 3, work: SegmentWork(), input: Self.payload)))
        let flags = 4 + 12 + 4
        XCTAssertEqual(bytes[flags], 0)
        bytes[flags] = 8
        XCTAssertThrowsError(try MessageCodec.decode(bytes))
    }

    /// Protocol 3: the interior a worker encodes travels with the delivery encoding, inside the segment's output frames.
    func testTheInteriorTravelsOnlyWithADeliveryAndInsideTheSegment() throws {
        var recipe = RenderRecipe(processor: "lanczos", contentWidth: 704, contentHeight: 576)
        recipe.delivery = RenderRecipe.Delivery(codec: "h264", crf: 18, preset: "medium", pixelFormat: "yuv420p",
                                                canvasWidth: 1024, canvasHeight: 576, offsetX: 160, offsetY: 0)
        func decoded(_ work: SegmentWork, frames: UInt32 = 240) -> SegmentWork? {
            guard case .assign(let a)? = try? MessageCodec.decode(MessageCodec.encode(.assign(SegmentAssignment(lease: Self.lease, inputFrameCount: frames,
                                                                                                            work: work, input: Self.payload)))) else { return nil }
            return a.work
        }
        let work = SegmentWork(recipe: recipe, interior: 8..<232)
        XCTAssertEqual(decoded(work), work)
        XCTAssertEqual(decoded(work)?.recipe?.delivery?.offsetX, 160)
        XCTAssertNil(decoded(work, frames: 200), "an interior past the segment's 200 frames")
        var noDelivery = work; noDelivery.recipe?.delivery = nil
        XCTAssertNil(decoded(noDelivery), "an interior to encode in no particular encoding")
        var offCanvas = work; offCanvas.recipe?.delivery?.offsetX = 400
        XCTAssertNil(decoded(offCanvas), "a picture placed past the canvas's edge")
        var badCodec = work; badCodec.recipe?.delivery?.codec = "png"
        XCTAssertNil(decoded(badCodec), "a codec whose pieces cannot be joined")
        XCTAssertNotNil(decoded(SegmentWork(recipe: recipe)), "a delivery without an interior: all frames lossless")
    }

    /// Film restoration: the stages travel in the recipe (strengths bounded), the context frames as work bit 8, counted
    /// outside the segment's own frames (the interior and the timing count without them).
    func testFilmStagesAndContextTravelBoundedAndCountOutsideTheSegment() throws {
        var recipe = RenderRecipe(processor: "lanczos", contentWidth: 428, contentHeight: 320)
        recipe.film = RenderRecipe.FilmRestoration(deflicker: 1, dust: 2.5, stabilise: 0.5)
        recipe.delivery = RenderRecipe.Delivery(codec: "ffv1", crf: 0, preset: "medium", pixelFormat: "yuv420p",
                                                canvasWidth: 428, canvasHeight: 320, offsetX: 0, offsetY: 0)
        func decoded(_ work: SegmentWork, frames: UInt32 = 118) -> SegmentWork? {
            guard case .assign(let a)? = try? MessageCodec.decode(MessageCodec.encode(.assign(SegmentAssignment(lease: Self.lease, inputFrameCount: frames,
                                                                                                            work: work, input: Self.payload)))) else { return nil }
            return a.work
        }
        // 39 + 39 context frames around 40 of the segment's own: the interior lies within those 40.
        let work = SegmentWork(recipe: recipe, interior: 4..<36, context: SegmentContext(before: 39, after: 39))
        XCTAssertEqual(decoded(work), work)
        XCTAssertEqual(work.outputFrameCount(inputFrameCount: 118), 40)
        var pastOwn = work; pastOwn.interior = 4..<41
        XCTAssertNil(decoded(pastOwn), "an interior past the segment's own 40 frames (the context makes no output)")
        var allContext = work; allContext.context = SegmentContext(before: 59, after: 59)
        XCTAssertNil(decoded(allContext), "context that leaves no frame of the segment")
        var noStages = work; noStages.recipe?.film = nil
        XCTAssertNil(decoded(noStages), "context frames with no stage to read them")
        for bad in [RenderRecipe.FilmRestoration(deflicker: 1.5), .init(dust: 0), .init(stabilise: -1), .init(dust: .nan), .init()] {
            var strong = work; strong.recipe?.film = bad
            XCTAssertNil(decoded(strong), "film stages \(bad)")
        }
        // A worker that knows no context bit refuses the assignment rather than ignoring the stages.
        var bytes = MessageCodec.encode(.assign(SegmentAssignment(lease: Self.lease, inputFrameCount: 118, work: work, input: Self.payload)))
        let flags = 4 + 8 + 4 + 4 // header, lease, inputFrameCount
        XCTAssertEqual(bytes[flags], 1 | 4 | 8)
        bytes[flags] |= 16
        XCTAssertThrowsError(try MessageCodec.decode(bytes))
        // Retimed: the timing counts the segment's own frames, so it must fit the file less its context.
        var retimed = RenderRecipe(processor: "lanczos", contentWidth: 428, contentHeight: 320, retime: RetimeRecipe(inputRate: Rational(15), outputRate: Rational(24)))
        retimed.film = RenderRecipe.FilmRestoration(stabilise: 1)
        let timed = SegmentWork(recipe: retimed, timing: SegmentTiming(firstInputFrame: 100, outputFrames: 160..<223), context: SegmentContext(before: 30, after: 30))
        XCTAssertEqual(decoded(timed, frames: 100), timed)
    }

    /// `reject` reads the same in every version, so peers of different versions can always tell each other why.
    func testARejectOfAnotherVersionIsReadable() throws {
        let ours = MessageCodec.encode(.reject(reason: "blocklisted"))
        let theirs = MessageCodec.encodeReject("blocklisted", version: FarmProtocol.version &+ 1)
        XCTAssertEqual(theirs[2], FarmProtocol.version &+ 1)
        XCTAssertEqual(Array(theirs[3...]), Array(ours[3...]), "only the version byte differs")
        XCTAssertEqual(try MessageCodec.decode(theirs), .reject(reason: "blocklisted"))
        // Every other message of another version is refused with the versions named.
        var heartbeat = MessageCodec.encode(.heartbeat)
        heartbeat[2] = FarmProtocol.version &+ 1
        XCTAssertThrowsError(try MessageCodec.decode(heartbeat)) {
            XCTAssertEqual($0 as? ProtocolError, .unsupportedVersion(got: FarmProtocol.version &+ 1, supported: FarmProtocol.version))
        }
    }

    func testLargestChunkFitsTheMessageLimit() throws {
        let chunk = FarmMessage.chunk(Self.lease, offset: 0, bytes: [UInt8](repeating: 7, count: FarmProtocol.maxChunkBytes))
        let bytes = MessageCodec.encode(chunk)
        XCTAssertLessThanOrEqual(bytes.count, FarmProtocol.maxMessageBytes)
        XCTAssertEqual(try MessageCodec.decode(bytes), chunk)
    }

    func testLongFreeTextIsClippedNotRejected() throws {
        let long = String(repeating: "é", count: 10_000)
        guard case .failure(_, let text) = try MessageCodec.decode(MessageCodec.encode(.failure(Self.lease, message: long))) else {
            return XCTFail("wrong kind")
        }
        XCTAssertLessThanOrEqual(text.utf8.count, FarmProtocol.maxTextBytes)
        XCTAssertTrue(text.hasSuffix("..."))
    }

    private func assertRejected(_ bytes: [UInt8], _ expected: ProtocolError, _ note: String, line: UInt = #line) {
        XCTAssertThrowsError(try MessageCodec.decode(bytes), note, line: line) { error in
            XCTAssertEqual(error as? ProtocolError, expected, note, line: line)
        }
    }

    /// The deterministic corpus of bad messages: each is rejected with the specific typed error.
    func testBadMessageCorpusIsRejectedWithTypedErrors() {
        let v = FarmProtocol.version
        let heartbeat = MessageCodec.encode(.heartbeat)
        let register = MessageCodec.encode(Self.examples[0])
        let chunk = MessageCodec.encode(Self.examples[5])
        assertRejected([], .empty, "empty")
        assertRejected([0x4C], .badMagic, "one byte")
        assertRejected(Array("HELO".utf8), .badMagic, "foreign protocol")
        assertRejected([0x4C, 0x46], .truncated(field: "version", needed: 1, available: 0), "no version")
        assertRejected([0x4C, 0x46, v + 1, 11], .unsupportedVersion(got: v + 1, supported: v), "future version")
        assertRejected([0x4C, 0x46, 0, 11], .unsupportedVersion(got: 0, supported: v), "version 0")
        assertRejected([0x4C, 0x46, v, 0], .unknownMessageType(0), "type 0")
        assertRejected([0x4C, 0x46, v, 13], .unknownMessageType(13), "type past the last")
        assertRejected(heartbeat + [0], .trailingBytes(count: 1), "trailing byte")
        assertRejected(Array(register.dropLast()), .truncated(field: "segmentsAhead", needed: 1, available: 0), "truncated tail")
        assertRejected(Array(register.dropLast(2)), .truncated(field: "device", needed: 38, available: 37), "truncated device")
        // Segments ahead (protocol 5) are bounded: a worker cannot make the coordinator tie up inputs for it.
        var greedy = register
        greedy[greedy.count - 1] = FarmProtocol.maxSegmentsAhead + 1
        assertRejected(greedy, .invalidValue(field: "segmentsAhead", reason: "5 > 4"), "segments ahead over the bound")
        greedy[greedy.count - 1] = FarmProtocol.maxSegmentsAhead
        XCTAssertNoThrow(try MessageCodec.decode(greedy), "the bound itself is allowed")
        // The heartbeat interval a welcome announces (it grows with the farm) is bounded: a worker neither heartbeats
        // every millisecond nor waits hours before noticing its coordinator gone.
        for ms in [FarmProtocol.minHeartbeatIntervalMs, 1000, 5000, FarmProtocol.maxHeartbeatIntervalMs] {
            XCTAssertEqual(try MessageCodec.decode(MessageCodec.encode(.welcome(heartbeatIntervalMs: ms))), .welcome(heartbeatIntervalMs: ms))
        }
        assertRejected(MessageCodec.encode(.welcome(heartbeatIntervalMs: 0)),
                       .invalidValue(field: "heartbeatInterval", reason: "0 ms outside 10...60000 ms"), "no interval")
        assertRejected(MessageCodec.encode(.welcome(heartbeatIntervalMs: FarmProtocol.maxHeartbeatIntervalMs + 1)),
                       .invalidValue(field: "heartbeatInterval", reason: "60001 ms outside 10...60000 ms"), "interval over a minute")
        // The worker's device (protocol 4) is bounded like names: 1 KiB.
        var longDevice = MessageCodec.encode(.register(WorkerCapabilities(workerName: "w", host: "h", threads: 1, models: [], freeMemoryBytes: 1,
                                                                         device: String(repeating: "g", count: 1024))))
        XCTAssertNoThrow(try MessageCodec.decode(longDevice), "1 KiB is allowed")
        longDevice = MessageCodec.encode(.register(WorkerCapabilities(workerName: "w", host: "h", threads: 1, models: [], freeMemoryBytes: 1,
                                                                     device: String(repeating: "g", count: 1025))))
        assertRejected(longDevice, .fieldTooLarge(field: "device", size: 1025, limit: 1024), "device name over 1 KiB")
        assertRejected(Array(chunk.prefix(10)), .truncated(field: "segment", needed: 8, available: 6), "truncated lease")
        // A string length of 4 GiB: must be refused from the prefix alone, before allocating.
        assertRejected([0x4C, 0x46, v, 1, 0xFF, 0xFF, 0xFF, 0xFF], .fieldTooLarge(field: "workerName", size: 0xFFFF_FFFF, limit: 1024), "huge string")
        // A list count of 1000 models.
        var manyModels = WireWriter()
        [0x4C, 0x46, v, 1].forEach { manyModels.u8($0) }
        manyModels.string("w"); manyModels.string("h"); manyModels.u32(1); manyModels.u32(1000)
        assertRejected(manyModels.bytes, .fieldTooLarge(field: "models", size: 1000, limit: 64), "huge list")
        // A chunk that claims more than the chunk limit.
        var bigChunk = WireWriter()
        [0x4C, 0x46, v, 6].forEach { bigChunk.u8($0) }
        bigChunk.u64(1); bigChunk.u32(1); bigChunk.u64(0); bigChunk.u32(UInt32(FarmProtocol.maxChunkBytes + 1))
        assertRejected(bigChunk.bytes, .fieldTooLarge(field: "chunk", size: FarmProtocol.maxChunkBytes + 1, limit: FarmProtocol.maxChunkBytes), "big chunk")
        // An empty chunk would let a peer spin the receiver without progress.
        assertRejected(MessageCodec.encode(.chunk(Self.lease, offset: 0, bytes: [])), .invalidValue(field: "chunk", reason: "empty chunk"), "empty chunk")
        // A whole frame beyond the limit.
        assertRejected([0x4C, 0x46, v, 11] + [UInt8](repeating: 0, count: FarmProtocol.maxMessageBytes), .frameTooLarge(size: FarmProtocol.maxMessageBytes + 4, limit: FarmProtocol.maxMessageBytes), "giant frame")
        // Invalid UTF-8 in a name.
        var badText = WireWriter()
        [0x4C, 0x46, v, 3].forEach { badText.u8($0) }
        badText.blob([0xC3, 0x28])
        assertRejected(badText.bytes, .invalidUTF8(field: "reason"), "bad UTF-8")
        // Progress beyond the total.
        assertRejected(MessageCodec.encode(.progress(Self.lease, framesDone: 5, framesTotal: 4)),
                       .invalidValue(field: "framesDone", reason: "5 > total 4"), "progress past total")
        // A payload of more than 64 GiB.
        var hugePayload = WireWriter()
        [0x4C, 0x46, v, 8].forEach { hugePayload.u8($0) }
        hugePayload.u64(1); hugePayload.u32(1); hugePayload.u32(1); hugePayload.u32(1); hugePayload.u32(1); hugePayload.u64(.max); hugePayload.u64(0)
        assertRejected(hugePayload.bytes, .fieldTooLarge(field: "byteCount", size: Int.max, limit: Int(FarmProtocol.maxPayloadBytes)), "huge payload")
    }

    /// Random mutations of valid messages (fixed seed): every outcome is a message or a ProtocolError.
    func testRandomMutationsNeverCrashAndOnlyThrowProtocolErrors() {
        var rng = SplitMix64(seed: 0x5EED)
        var decoded = 0, rejected = 0
        for round in 0..<20_000 {
            var bytes = MessageCodec.encode(Self.examples[round % Self.examples.count])
            switch rng.next() % 4 {
            case 0: // flip a few bytes
                for _ in 0..<(1 + rng.next() % 3) { bytes[Int(rng.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: rng.next() | 1) }
            case 1: // truncate
                bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count))))
            case 2: // append junk
                bytes += (0..<(1 + rng.next() % 16)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            default: // overwrite a 32-bit word (length prefixes) with a random value
                if bytes.count >= 8 {
                    let at = 4 + Int(rng.next() % UInt64(bytes.count - 7))
                    for k in 0..<4 { bytes[at + k] = UInt8(truncatingIfNeeded: rng.next()) }
                }
            }
            do {
                let message = try MessageCodec.decode(bytes)
                // Whatever decodes must re-encode to a frame that decodes to the same message.
                XCTAssertEqual(try MessageCodec.decode(MessageCodec.encode(message)), message)
                decoded += 1
            } catch is ProtocolError {
                rejected += 1
            } catch {
                XCTFail("untyped error \(error) for \(bytes)")
            }
        }
        XCTAssertGreaterThan(rejected, 10_000, "most mutations must be rejected")
        XCTAssertGreaterThan(decoded, 0, "some mutations (payload bytes) stay valid")
    }
}
