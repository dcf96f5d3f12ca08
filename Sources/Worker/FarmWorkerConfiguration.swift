import Foundation
import Shared
import Transport

public struct FarmWorkerConfiguration: Sendable {
    /// The coordinator, e.g. `tcp://head:5555` or `ipc:///tmp/lumiere.sock`.
    public var endpoint: String
    public var capabilities: WorkerCapabilities
    /// CURVE: this worker's key pair and the coordinator's public key (Z85). Nil: plain (loopback only).
    public var curve: (keys: CurveKeyPair, serverPublicKey: String)?
    /// Where input and output files of the leases held live (one folder per lease).
    public var workDirectory: URL
    public var timing = WorkerTiming()

    public init(endpoint: String, capabilities: WorkerCapabilities, workDirectory: URL,
                curve: (keys: CurveKeyPair, serverPublicKey: String)? = nil) {
        self.endpoint = endpoint
        self.capabilities = capabilities
        self.workDirectory = workDirectory
        self.curve = curve
    }

    /// Capabilities of this machine: host name, cores, free memory (from /proc/meminfo where available).
    /// The most segments a worker may hold beyond the one rendering (the protocol's bound).
    public static let maxSegmentsAhead = FarmProtocol.maxSegmentsAhead

    /// `segmentsAhead`: one by default, so the next segment's input is here when the current one ends (lease-ahead).
    public static func localCapabilities(name: String? = nil, threads: Int? = nil, models: [String] = [],
                                         segmentsAhead: UInt8 = 1) -> WorkerCapabilities {
        let host = localHostName()
        let pid = ProcessInfo.processInfo.processIdentifier
        return WorkerCapabilities(workerName: name ?? "\(host)-\(pid)", host: host,
                                  threads: UInt32(threads ?? ProcessInfo.processInfo.activeProcessorCount),
                                  models: models, freeMemoryBytes: availableMemoryBytes(), segmentsAhead: segmentsAhead)
    }

    /// gethostname(2) directly: Foundation's hostName may resolve names over the network and stall start-up.
    static func localHostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func availableMemoryBytes() -> UInt64 {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
              let kib = line.split(separator: " ").dropFirst().first.flatMap({ UInt64($0) }) else {
            return ProcessInfo.processInfo.physicalMemory
        }
        return kib * 1024
    }
}
