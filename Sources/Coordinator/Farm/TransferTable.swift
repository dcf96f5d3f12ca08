import Foundation
import Shared

struct OutgoingTransfer {
    var sender: ChunkSender
    let url: URL
    /// Opened when its turn comes (`TransferTable.headHandle`): an input queued behind another holds no descriptor.
    /// Opened at assignment, 10,000 workers holding a segment ahead took two each and the coordinator ran out of
    /// descriptors (the hard limit here is 20,000; BENCHMARKS.md, swarm simulator).
    var handle: FileHandle? = nil
}

struct IncomingTransfer {
    var receiver: ChunkReceiver
    let info: SegmentResultInfo
    let file: URL
    let handle: FileHandle
}

/// The coordinator's open file transfers. Inputs go out one at a time per worker, in assignment order (a worker holds
/// its current lease and those queued behind it, lease-ahead: the next input follows the current one's, not beside it,
/// so the segment needed first arrives first); results come back one at a time (the worker sends them in order).
struct TransferTable {
    var outgoing: [PeerID: [OutgoingTransfer]] = [:]
    var incoming: [PeerID: IncomingTransfer] = [:]
    /// Result metadata announced by a worker, awaiting the scheduler's go-ahead.
    var announced: [PeerID: (lease: LeaseRef, info: SegmentResultInfo)] = [:]

    /// The input to send to `peer` now (the first of its queue).
    func sending(_ peer: PeerID) -> OutgoingTransfer? { outgoing[peer]?.first }

    mutating func add(_ peer: PeerID, _ transfer: OutgoingTransfer) { outgoing[peer, default: []].append(transfer) }

    /// Credit for an input, which may come before its turn (the worker grants its window when it is assigned).
    mutating func grant(_ peer: PeerID, _ lease: LeaseRef, _ chunks: UInt32) {
        guard let index = outgoing[peer]?.firstIndex(where: { $0.sender.lease == lease }) else { return }
        outgoing[peer]![index].sender.grant(chunks)
    }

    /// The file of the input being sent to `peer`, opened on its first chunk.
    mutating func headHandle(_ peer: PeerID) throws -> FileHandle {
        if let handle = outgoing[peer]![0].handle { return handle }
        let handle = try FileHandle(forReadingFrom: outgoing[peer]![0].url)
        outgoing[peer]![0].handle = handle
        return handle
    }

    mutating func takeNextChunk(_ peer: PeerID) -> (offset: UInt64, length: Int)? {
        guard outgoing[peer]?.isEmpty == false else { return nil }
        return outgoing[peer]![0].sender.takeNextChunk()
    }

    /// The first input of the peer's queue is sent (or cannot be): the next one's turn.
    mutating func finishOutgoing(_ peer: PeerID) {
        guard let first = outgoing[peer]?.first else { return }
        try? first.handle?.close()
        outgoing[peer]!.removeFirst()
        if outgoing[peer]!.isEmpty { outgoing[peer] = nil }
    }

    /// Drops the peer's transfers; with `lease`, only those of that lease (a message about one lease must not cut the
    /// transfer of another).
    mutating func remove(_ peer: PeerID, lease: LeaseRef? = nil) {
        for transfer in outgoing[peer] ?? [] where lease == nil || transfer.sender.lease == lease { try? transfer.handle?.close() }
        outgoing[peer]?.removeAll { lease == nil || $0.sender.lease == lease }
        if outgoing[peer]?.isEmpty == true { outgoing[peer] = nil }
        if let transfer = incoming[peer], lease == nil || transfer.receiver.lease == lease {
            try? transfer.handle.close()
            try? FileManager.default.removeItem(at: transfer.file)
            incoming[peer] = nil
        }
        if lease == nil || announced[peer]?.lease == lease { announced[peer] = nil }
    }

    /// Drops the peer's input transfers of leases it no longer holds (cancelled, taken back).
    mutating func keepOutgoing(_ peer: PeerID, of leases: [LeaseRef]) {
        for transfer in outgoing[peer] ?? [] where !leases.contains(transfer.sender.lease) { remove(peer, lease: transfer.sender.lease) }
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
