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

    /// Drops the peer's transfers; with `lease`, only those of that lease (a message about an old lease must
    /// not cut the transfer of the peer's next one).
    mutating func remove(_ peer: PeerID, lease: LeaseRef? = nil) {
        if lease == nil || outgoing[peer]?.sender.lease == lease { finishOutgoing(peer) }
        if let transfer = incoming[peer], lease == nil || transfer.receiver.lease == lease {
            try? transfer.handle.close()
            try? FileManager.default.removeItem(at: transfer.file)
            incoming[peer] = nil
        }
        if lease == nil || announced[peer]?.lease == lease { announced[peer] = nil }
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
