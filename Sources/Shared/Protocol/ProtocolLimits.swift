/// Constants of the farm wire protocol (see docs/protocol.md). Limits are checked before any allocation.
public enum FarmProtocol {
    /// Bumped on any incompatible change of the wire format; peers must match exactly.
    public static let version: UInt8 = 5 // 2: assignments carry typed work (recipe, timing) instead of string settings; 3: and the interior a worker encodes; 4: register carries the worker's device; 5: and how many segments it accepts ahead
    /// "LF": lets a decoder reject foreign traffic at the first two bytes.
    public static let magic: (UInt8, UInt8) = (0x4C, 0x46)
    public static let headerBytes = 4

    /// Largest payload of one data chunk. Chunks are single-part messages, so heartbeats interleave with data.
    public static let maxChunkBytes = 256 * 1024
    /// Largest encoded message: one chunk plus its small header. Also set as ZMQ_MAXMSGSIZE on sockets.
    public static let maxMessageBytes = maxChunkBytes + 1024
    public static let maxStringBytes = 1024
    public static let maxTextBytes = 4096
    public static let maxListCount = 64
    /// Segments a worker may hold beyond the one it renders (`WorkerCapabilities.segmentsAhead`): one hides the gap
    /// between segments (BENCHMARKS.md, swarm simulator); more only ties inputs to one worker that others could take.
    public static let maxSegmentsAhead: UInt8 = 4
    /// The heartbeat interval a `welcome` may announce, in ms. The coordinator lengthens it with the farm's size (at most
    /// 10 s by default: `HeartbeatPolicy`); a worker refuses an interval outside these bounds rather than heartbeating
    /// every millisecond or never noticing a coordinator gone (it would give up only after 3 × the interval).
    public static let minHeartbeatIntervalMs: UInt32 = 10
    public static let maxHeartbeatIntervalMs: UInt32 = 60_000
    /// Segment files are bounded so a hostile peer cannot announce an absurd transfer (64 GiB).
    public static let maxPayloadBytes: UInt64 = 64 << 30
}
