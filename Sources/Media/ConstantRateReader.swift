import Shared

/// Reads a video stream as a constant-rate sequence (see `ConstantRateNormalizer` for the rule),
/// and checks at the end that the file was not cut short.
public final class ConstantRateReader {
    /// The opened file (opened again when a trim's jump cannot find its start: `seek(to:)`).
    public private(set) var input: MediaInput
    public let stream: StreamInfo
    public let rate: Rational
    /// `source.trim`: frames before it are decoded and dropped, frames after it never read.
    private let trim: MediaSource.Trim?
    private var skipped: Int64 = 0
    private var decoder: VideoDecoder
    private let source: MediaSource
    private let threads: Int
    private var normalizer: ConstantRateNormalizer<DecodedFrame>
    private var ready: [DecodedFrame] = []
    private var readyIndex = 0
    private var ended = false
    /// Frames of the whole sequence read so far (a trim's skipped frames included).
    private var framesRead: Int64 = 0
    private var previousTime: Rational?
    private var nonIncreasing = 0
    /// With a trim: whether the reader went to its start yet (`seek(to:)`), and the frames the jump skipped.
    private var positioned = false
    private var framesSkippedBySeek: Int64 = 0

    /// Timestamps may wobble (a repeated or slightly early timestamp now and then); beyond these limits the file's
    /// timing is broken and following it would silently drop or invent frames.
    public static let maxNonIncreasingTimestamps = 8
    public static let maxGapSeconds = Rational(60)

    public convenience init(path: String, rate: Rational? = nil, threads: Int = 0, interlacing: InterlaceMode = .auto) throws {
        try self.init(source: MediaSource(path: path, interlacing: interlacing), rate: rate, threads: threads)
    }

    /// Interlaced video is deinterlaced here (`source.interlacing`), as it is decoded, so that every pass over the
    /// film (shot analysis, segment inputs, the in-process restore) sees the same progressive frames.
    public init(source: MediaSource, rate: Rational? = nil, threads: Int = 0) throws {
        let interlacing = source.interlacing
        input = try MediaInput(source: source)
        stream = try input.primaryVideoStream()
        self.rate = rate ?? ConstantRateNormalizer<DecodedFrame>.nominalRate(base: stream.baseFrameRate, average: stream.averageFrameRate)
        decoder = try VideoDecoder(input: input, stream: stream, threads: threads, interlacing: interlacing)
        normalizer = ConstantRateNormalizer(rate: self.rate)
        self.source = source
        self.threads = threads
        trim = source.trim
        if let trim, trim.rate != self.rate {
            throw MediaError.invalidSetting("the trim was made for \(trim.rate) fps, but \(source.path) is read at \(self.rate) fps")
        }
    }

    /// The start time of the first frame presented, used to keep audio in sync (a trimmed film's: its first kept frame's).
    public var startTime: Rational { (normalizer.start ?? stream.startTime ?? .zero) + (trim?.offset ?? .zero) }

    /// Frames the sequence will have, estimated from the declared duration before decoding (nil if unknown).
    public var estimatedFrameCount: Int64? {
        guard let duration = stream.duration ?? input.info.duration else { return nil }
        let whole = max(1, (duration * rate).rounded)
        guard let trim else { return whole }
        return max(0, min(whole - trim.first, trim.count ?? .max))
    }

    /// The next constant-rate frame, or nil at the end (of the trim, with one).
    public func next() throws -> DecodedFrame? {
        guard let trim else { return try nextOfSequence() }
        if !positioned {
            positioned = true
            if trim.first > 0 { try seek(to: trim) }
        }
        while skipped < trim.first {
            guard try nextOfSequence() != nil else {
                throw MediaError.trimBeyondEnd(frames: skipped, seconds: (Rational(skipped) / rate).doubleValue, first: trim.first, start: trim.offset.doubleValue)
            }
            skipped += 1
        }
        if let count = trim.count, framesRead - skipped >= count { return nil }
        return try nextOfSequence()
    }

    /// Skips the frames before a trim without decoding them (issue 19: a trim an hour into a film starts at once, not
    /// after an hour of decoding). The film's first frame is decoded for its time (frame 0 of the constant-rate
    /// sequence, the normaliser's origin), then the demuxer jumps to the keyframe before the trim's first frame and
    /// decoding goes on from there. The frames are those of a decode from the start: output frame k shows the last
    /// input frame whose slot is ≤ k, and every frame from that keyframe on is decoded. A jump that lands after the
    /// trim's start (containers seek by decode time, and a B-frame stream's keyframe shows later; MPEG program streams
    /// land on packs) is retried further back; one that still lands after it, a file that cannot seek, or a
    /// deinterlaced one (the filter holds neighbouring frames) is decoded from its beginning, opened again.
    private func seek(to trim: MediaSource.Trim) throws {
        _ = try fieldPlan()
        guard decoder.deinterlacing == nil else { return } // nothing read yet but the first frame, which stays held
        guard let first = try decoder.next() else { return try reopen() }
        let origin = first.time
        let target = origin + Rational(trim.first) / rate
        for back in [0, 1, 4, 16, 64] as [Int64] {
            let at = max(origin, target - Rational(back))
            guard try decoder.seek(toKeyframeAtOrBefore: at) else { break }
            if let frame = try decoder.next() {
                let slot = ((frame.time - origin) * rate).rounded
                if slot <= trim.first {
                    normalizer = ConstantRateNormalizer(rate: rate, start: origin)
                    previousTime = nil
                    try checkTiming(frame.time)
                    ready = normalizer.push(frame, time: frame.time, duration: frame.duration.map { stream.timeBase * Rational($0) })
                    readyIndex = 0
                    framesRead = max(0, slot)
                    skipped = framesRead
                    framesSkippedBySeek = framesRead
                    return
                }
            }
            if at == origin { break }
        }
        try reopen()
    }

    /// The file opened afresh, read from its first frame (the state of a reader just made).
    private func reopen() throws {
        input = try MediaInput(source: source)
        decoder = try VideoDecoder(input: input, stream: stream, threads: threads, interlacing: source.interlacing)
        normalizer = ConstantRateNormalizer(rate: rate)
        ready = []
        readyIndex = 0
        ended = false
        framesRead = 0
        skipped = 0
        framesSkippedBySeek = 0
        previousTime = nil
        nonIncreasing = 0
    }

    /// Pictures decoded so far (a trim's jump skips the frames before it: fewer than the trim's first frame).
    public var framesDecoded: Int { decoder.framesDecoded }

    /// Damaged packets met so far, and frames timed otherwise than by their own presentation timestamp
    /// (`VideoDecoder`): either makes a packet cut of this source unsafe (`SegmentInputCut.hazard`).
    public var damagedPackets: Int { decoder.damagedPackets }
    public var framesTimedWithoutPTS: Int { decoder.framesTimedWithoutPTS }

    /// How fields are turned into progressive frames (nil: frames as decoded); may decode the first frame to decide.
    public func fieldPlan() throws -> Deinterlacing? { try decoder.fieldPlan() }

    /// The next frame of the whole constant-rate sequence, or nil at its end.
    private func nextOfSequence() throws -> DecodedFrame? {
        while readyIndex >= ready.count {
            if ended { return nil }
            ready.removeAll(keepingCapacity: true)
            readyIndex = 0
            if let frame = try decoder.next() {
                try checkTiming(frame.time)
                let duration = frame.duration.map { stream.timeBase * Rational($0) }
                ready = normalizer.push(frame, time: frame.time, duration: duration)
            } else {
                ended = true
                try checkComplete()
                ready = normalizer.finish()
            }
        }
        defer { readyIndex += 1; framesRead += 1 }
        return ready[readyIndex]
    }

    private func checkTiming(_ time: Rational) throws {
        defer { previousTime = max(previousTime ?? time, time) }
        guard let previous = previousTime else { return }
        if time <= previous {
            nonIncreasing += 1
            if nonIncreasing > ConstantRateReader.maxNonIncreasingTimestamps {
                throw MediaError.brokenTimestamps(path: input.info.path,
                    detail: "\(nonIncreasing) frames up to frame \(decoder.framesDecoded) have a time that does not advance (frames would be dropped)")
            }
        } else if time - previous > ConstantRateReader.maxGapSeconds {
            throw MediaError.brokenTimestamps(path: input.info.path,
                detail: "the video jumps \(String(format: "%.0f", (time - previous).doubleValue)) s ahead after frame \(decoder.framesDecoded - 1) (the gap would be filled with copies)")
        }
    }

    private func checkComplete() throws {
        let decoded = Int64(decoder.framesDecoded) + framesSkippedBySeek
        if decoded == 0 {
            throw MediaError.truncated(path: input.info.path, detail: "no video frame could be decoded")
        }
        // MP4/MOV index every sample, so their count is a promise: a file cut short decodes far fewer frames.
        // A frame or two less is normal (edit lists, a broken last sample); AVI's count includes dropped-frame
        // chunks and proves nothing, so only the indexed containers are checked.
        let indexed = input.info.container.contains("mp4") || input.info.container.contains("mov")
        if indexed, let declared = stream.declaredFrameCount, decoded + max(2, declared / 100) < declared {
            throw MediaError.truncated(path: input.info.path, detail: "decoded \(decoded) of the \(declared) frames the file declares")
        }
    }
}
