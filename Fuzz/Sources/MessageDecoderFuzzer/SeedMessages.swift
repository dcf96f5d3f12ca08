import Shared
#if canImport(Glibc)
import Glibc
#endif

/// One valid frame of every message kind: the fuzzer's starting corpus (`MessageDecoderFuzzer --write-seeds DIR`),
/// so mutations start from deep inside the decoder instead of being rejected at the magic bytes.
enum SeedMessages {
    static let lease = LeaseRef(segment: 42, attempt: 2)
    static let payload = PayloadDescription(byteCount: 1_000_000, checksum: 0xDEAD_BEEF_0123_4567)
    /// A retimed neural recipe with its timing: the deepest path through the assignment's decoder.
    static let work = SegmentWork(recipe: RenderRecipe(processor: "realesr-general-wdn", modelScale: 4, contentWidth: 856, contentHeight: 640,
                                                       retime: RetimeRecipe(inputRate: Rational(15), outputRate: Rational(24))),
                                  timing: SegmentTiming(firstInputFrame: 100, outputFrames: 160..<544))

    /// Workers encode the interior (protocol 3): a recipe with its delivery encoding and the interior's frames.
    static let joinedWork: SegmentWork = {
        var recipe = RenderRecipe(processor: "realesr-general-wdn", modelScale: 4, contentWidth: 856, contentHeight: 640)
        recipe.delivery = RenderRecipe.Delivery(codec: "h264", crf: 18, preset: "medium", pixelFormat: "yuv420p",
                                                canvasWidth: 1920, canvasHeight: 1080, offsetX: 532, offsetY: 220)
        return SegmentWork(recipe: recipe, interior: 8..<232)
    }()

    static let all: [(name: String, message: FarmMessage)] = [
        ("register", .register(WorkerCapabilities(workerName: "render-07", host: "render-07.lab", threads: 32,
                                                  models: ["realesr-general-x4v3", "rife-v4.6"], freeMemoryBytes: 64 << 30,
                                                  device: "gpu:0 NVIDIA H100 80GB HBM3 (discrete)", segmentsAhead: 1))),
        ("welcome", .welcome(heartbeatIntervalMs: 1000)),
        ("reject", .reject(reason: "blocklisted")),
        ("assign", .assign(SegmentAssignment(lease: lease, inputFrameCount: 240, work: work, input: payload))),
        ("assign-joined", .assign(SegmentAssignment(lease: lease, inputFrameCount: 240, work: joinedWork, input: payload))),
        ("credit", .credit(lease, chunks: 16)),
        ("chunk", .chunk(lease, offset: 262_144, bytes: (0..<64).map { UInt8($0 % 251) })),
        ("progress", .progress(lease, framesDone: 10, framesTotal: 240)),
        ("result", .result(lease, SegmentResultInfo(frameCount: 480, frameWidth: 3840, frameHeight: 2160, output: payload))),
        ("failure", .failure(lease, message: "model file truncated: étoile ✓")),
        ("cancel", .cancel(lease, reason: "lease expired")),
        ("heartbeat", .heartbeat),
        ("goodbye", .goodbye(reason: "shutting down")),
    ]

    static func write(to directory: String) -> CInt {
        for (name, message) in all {
            let bytes = MessageCodec.encode(message)
            guard let file = fopen("\(directory)/seed-\(name).bin", "wb") else { return 1 }
            _ = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
            fclose(file)
        }
        return 0
    }
}
