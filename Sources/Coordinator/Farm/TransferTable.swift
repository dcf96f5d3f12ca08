import Foundation
import Shared

struct OutgoingTransfer {
    var sender: ChunkSender
    let handle: FileHandle
}

struct IncomingTransfer {
    var receiver: ChunkReceiver
    let info: SegmentResultInfo
    let file: URL
    let handle: FileHandle
}

/// The coordinator's open file transfers, at most one each way per worker (a worker holds one lease).
struct TransferTable {
    var outgoing: [PeerID: OutgoingTransfer] = [:]
    var incoming: [PeerID: IncomingTransfer] = [:]
    /// Result metadata announced by a worker, awaiting the scheduler's go-ahead.
    var announced: [PeerID: (lease: LeaseRef, info: SegmentResultInfo)] = [:]

    mutating func grant(_ peer: PeerID, _ lease: LeaseRef, _ chunks: UInt32) {
        guard outgoing[peer]?.sender.lease == lease else { return }
        outgoing[peer]!.sender.grant(chunks)
    }

    mutating func finishOutgoing(_ peer: PeerID) {
        try? outgoing[peer]?.handle.close()
        outgoing[peer] = nil
    }

    mutating func remove(_ peer: PeerID) {
        finishOutgoing(peer)
        if let incoming = incoming[peer] {
            try? incoming.handle.close()
            try? FileManager.default.removeItem(at: incoming.file)
        }
        incoming[peer] = nil
        announced[peer] = nil
    }

    mutating func removeAll() {
        for peer in Set(outgoing.keys).union(incoming.keys) { remove(peer) }
    }

    /// Size and CRC-64 of an input file, streamed (inputs can be gigabytes).
    static func describe(_ url: URL) throws -> PayloadDescription {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var crc = XXHash64()
        var size: UInt64 = 0
        while let block = try handle.read(upToCount: 1 << 20), !block.isEmpty {
            block.withUnsafeBytes { crc.update(buffer: $0) }
            size += UInt64(block.count)
        }
        return PayloadDescription(byteCount: size, checksum: crc.checksum)
    }
}
