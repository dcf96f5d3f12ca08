/// Encodes and decodes `FarmMessage` frames: `'L' 'F' version type` then the fields of that type.
/// Format rationale (docs/protocol.md): a fixed schema written by hand is smaller to audit and fuzz than a
/// general format such as CBOR or protobuf, needs no dependency, and lets every field carry its own limit.
public enum MessageCodec {
    public static func encode(_ message: FarmMessage) -> [UInt8] {
        var w = WireWriter(capacity: message.encodedSizeHint)
        w.u8(FarmProtocol.magic.0)
        w.u8(FarmProtocol.magic.1)
        w.u8(FarmProtocol.version)
        w.u8(message.kind.rawValue)
        switch message {
        case .register(let c):
            w.string(c.workerName); w.string(c.host); w.u32(c.threads)
            w.u32(UInt32(c.models.count)); c.models.forEach { w.string($0) }
            w.u64(c.freeMemoryBytes); w.string(c.device); w.u8(c.segmentsAhead)
        case .welcome(let interval):
            w.u32(interval)
        case .reject(let reason), .goodbye(let reason):
            w.string(clipped(reason))
        case .assign(let a):
            lease(a.lease, &w); w.u32(a.inputFrameCount)
            work(a.work, &w)
            payload(a.input, &w)
        case .credit(let l, let chunks):
            lease(l, &w); w.u32(chunks)
        case .chunk(let l, let offset, let bytes):
            lease(l, &w); w.u64(offset); w.blob(bytes)
        case .progress(let l, let done, let total):
            lease(l, &w); w.u32(done); w.u32(total)
        case .result(let l, let r):
            lease(l, &w); w.u32(r.frameCount); w.u32(r.frameWidth); w.u32(r.frameHeight); payload(r.output, &w)
        case .failure(let l, let text), .cancel(let l, let text):
            lease(l, &w); w.string(clipped(text))
        case .heartbeat:
            break
        }
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws -> FarmMessage {
        guard !bytes.isEmpty else { throw ProtocolError.empty }
        guard bytes.count <= FarmProtocol.maxMessageBytes else {
            throw ProtocolError.frameTooLarge(size: bytes.count, limit: FarmProtocol.maxMessageBytes)
        }
        var r = WireReader(bytes)
        guard bytes.count >= 2, try r.u8("magic") == FarmProtocol.magic.0, try r.u8("magic") == FarmProtocol.magic.1 else {
            throw ProtocolError.badMagic
        }
        let version = try r.u8("version")
        guard version == FarmProtocol.version else {
            // `reject` has one layout in every version (frozen), so a peer of another version can always say why.
            if version != 0, bytes.count > 4, bytes[3] == FarmMessage.Kind.reject.rawValue {
                _ = try r.u8("type")
                let reason = try r.string("reason", limit: FarmProtocol.maxTextBytes)
                try r.finish()
                return .reject(reason: reason)
            }
            throw ProtocolError.unsupportedVersion(got: version, supported: FarmProtocol.version)
        }
        let code = try r.u8("type")
        guard let kind = FarmMessage.Kind(rawValue: code) else { throw ProtocolError.unknownMessageType(code) }
        let message = try body(kind, &r)
        try r.finish()
        return message
    }

    private static func body(_ kind: FarmMessage.Kind, _ r: inout WireReader) throws -> FarmMessage {
        switch kind {
        case .register:
            let name = try r.string("workerName"), host = try r.string("host"), threads = try r.u32("threads")
            let models = try (0..<r.count("models")).map { _ in try r.string("model") }
            let memory = try r.u64("freeMemory"), device = try r.string("device"), ahead = try r.u8("segmentsAhead")
            guard ahead <= FarmProtocol.maxSegmentsAhead else {
                throw ProtocolError.invalidValue(field: "segmentsAhead", reason: "\(ahead) > \(FarmProtocol.maxSegmentsAhead)")
            }
            return .register(WorkerCapabilities(workerName: name, host: host, threads: threads, models: models,
                                                freeMemoryBytes: memory, device: device, segmentsAhead: ahead))
        case .welcome:
            let interval = try r.u32("heartbeatInterval")
            guard (FarmProtocol.minHeartbeatIntervalMs...FarmProtocol.maxHeartbeatIntervalMs).contains(interval) else {
                throw ProtocolError.invalidValue(field: "heartbeatInterval", reason: "\(interval) ms outside \(FarmProtocol.minHeartbeatIntervalMs)...\(FarmProtocol.maxHeartbeatIntervalMs) ms")
            }
            return .welcome(heartbeatIntervalMs: interval)
        case .reject:
            return .reject(reason: try r.string("reason", limit: FarmProtocol.maxTextBytes))
        case .goodbye:
            return .goodbye(reason: try r.string("reason", limit: FarmProtocol.maxTextBytes))
        case .assign:
            let l = try lease(&r), frames = try r.u32("inputFrameCount")
            let work = try work(&r, inputFrameCount: frames)
            return .assign(SegmentAssignment(lease: l, inputFrameCount: frames, work: work, input: try payload(&r)))
        case .credit:
            return .credit(try lease(&r), chunks: try r.u32("chunks"))
        case .chunk:
            let l = try lease(&r), offset = try r.u64("offset")
            let data = try r.blob("chunk", limit: FarmProtocol.maxChunkBytes)
            guard !data.isEmpty else { throw ProtocolError.invalidValue(field: "chunk", reason: "empty chunk") }
            return .chunk(l, offset: offset, bytes: data)
        case .progress:
            let l = try lease(&r), done = try r.u32("framesDone"), total = try r.u32("framesTotal")
            guard done <= total else { throw ProtocolError.invalidValue(field: "framesDone", reason: "\(done) > total \(total)") }
            return .progress(l, framesDone: done, framesTotal: total)
        case .result:
            let l = try lease(&r)
            let info = SegmentResultInfo(frameCount: try r.u32("frameCount"), frameWidth: try r.u32("frameWidth"),
                                         frameHeight: try r.u32("frameHeight"), output: try payload(&r))
            return .result(l, info)
        case .failure:
            return .failure(try lease(&r), message: try r.string("message", limit: FarmProtocol.maxTextBytes))
        case .cancel:
            return .cancel(try lease(&r), reason: try r.string("reason", limit: FarmProtocol.maxTextBytes))
        case .heartbeat:
            return .heartbeat
        }
    }

    /// A `reject` tagged with another protocol version: the answer to a peer of that version, which its own decoder
    /// reads (the layout of `reject` — magic, version, type 3, one string — never changes).
    public static func encodeReject(_ reason: String, version: UInt8) -> [UInt8] {
        var bytes = encode(.reject(reason: reason))
        bytes[2] = version
        return bytes
    }

    private static func lease(_ l: LeaseRef, _ w: inout WireWriter) { w.u64(l.segment.wireValue); w.u32(l.attempt) }
    private static func lease(_ r: inout WireReader) throws -> LeaseRef {
        LeaseRef(segment: SegmentID(wireValue: try r.u64("segment")), attempt: try r.u32("attempt"))
    }

    /// Work: a flags byte (1 = recipe, 2 = timing, 4 = interior, 8 = context), the recipe as its canonical JSON document (≤ RenderRecipe.maxEncodedBytes),
    /// the timing as three u64 (first input frame, output frames lower and upper bound, each < 2^40), the interior as two u64, the
    /// context as two u32 (frames before, after). A worker older than the context bit refuses such an assignment (unknown
    /// bit) rather than ignoring the film stages of a recipe it does not know (JSON decoding skips unknown keys).
    private static func work(_ work: SegmentWork, _ w: inout WireWriter) {
        w.u8((work.recipe == nil ? 0 : 1) | (work.timing == nil ? 0 : 2) | (work.interior == nil ? 0 : 4) | (work.context == nil ? 0 : 8))
        if let recipe = work.recipe { w.blob(recipe.json()) }
        if let t = work.timing {
            w.u64(UInt64(t.firstInputFrame)); w.u64(UInt64(t.outputFrames.lowerBound)); w.u64(UInt64(t.outputFrames.upperBound))
        }
        if let i = work.interior { w.u64(UInt64(i.lowerBound)); w.u64(UInt64(i.upperBound)) }
        if let c = work.context { w.u32(c.before); w.u32(c.after) }
    }

    private static func work(_ r: inout WireReader, inputFrameCount: UInt32) throws -> SegmentWork {
        let flags = try r.u8("work flags")
        guard flags & ~15 == 0 else { throw ProtocolError.invalidValue(field: "work flags", reason: "unknown bits in \(flags)") }
        var work = SegmentWork()
        do {
            if flags & 1 != 0 { work.recipe = try RenderRecipe(json: try r.blob("recipe", limit: RenderRecipe.maxEncodedBytes)) }
            if flags & 2 != 0 {
                let limit = UInt64(1) << 40
                let first = try r.u64("firstInputFrame"), lower = try r.u64("outputFrames"), upper = try r.u64("outputFrames")
                guard first < limit, lower <= upper, upper < limit else {
                    throw ProtocolError.invalidValue(field: "timing", reason: "frames \(first), \(lower)..<\(upper) out of range")
                }
                work.timing = SegmentTiming(firstInputFrame: Int64(first), outputFrames: Int64(lower)..<Int64(upper))
            }
            if flags & 4 != 0 {
                let lower = try r.u64("interior"), upper = try r.u64("interior")
                guard lower <= upper, upper < UInt64(1) << 40 else {
                    throw ProtocolError.invalidValue(field: "interior", reason: "frames \(lower)..<\(upper) out of range")
                }
                work.interior = Int64(lower)..<Int64(upper)
            }
            if flags & 8 != 0 { work.context = SegmentContext(before: try r.u32("context"), after: try r.u32("context")) }
            return try work.validated(inputFrameCount: inputFrameCount)
        } catch let error as RenderRecipe.RecipeError {
            throw ProtocolError.invalidValue(field: "work", reason: "\(error)")
        }
    }

    private static func payload(_ p: PayloadDescription, _ w: inout WireWriter) { w.u64(p.byteCount); w.u64(p.checksum) }
    private static func payload(_ r: inout WireReader) throws -> PayloadDescription {
        let size = try r.u64("byteCount")
        guard size <= FarmProtocol.maxPayloadBytes else {
            throw ProtocolError.fieldTooLarge(field: "byteCount", size: Int(clamping: size), limit: Int(FarmProtocol.maxPayloadBytes))
        }
        return PayloadDescription(byteCount: size, checksum: try r.u64("checksum"))
    }

    /// Free text (reasons, error messages) is clipped to its limit on a character boundary, so a long
    /// error from a processor never produces a message the peer must reject.
    private static func clipped(_ text: String) -> String {
        guard text.utf8.count > FarmProtocol.maxTextBytes else { return text }
        var result = ""
        for character in text {
            if result.utf8.count + character.utf8.count > FarmProtocol.maxTextBytes - 3 { break }
            result.append(character)
        }
        return result + "..."
    }
}

extension FarmMessage {
    var encodedSizeHint: Int {
        if case .chunk(_, _, let bytes) = self { return bytes.count + 32 }
        return 128
    }
}
