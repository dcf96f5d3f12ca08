import Foundation
import Logging
import Shared
import Transport

/// Decoding and handling what workers send (one message at a time, on the loop thread).
extension FarmCoordinator {
    func reject(_ peer: PeerID?, _ reason: String) {
        lock.withLock {
            stats.rejectedMessages += 1
            stats.lastRejection = reason
        }
        // A flooding peer must not flood the log: the first few per peer, then every thousandth.
        let key = peer ?? PeerID([])
        if rejectionsByPeer.count > 10_000 { rejectionsByPeer.removeAll() }
        rejectionsByPeer[key, default: 0] += 1
        let count = rejectionsByPeer[key]!
        guard count <= 10 || count % 1000 == 0 else { return }
        logger.warning("rejected a message from peer \(peer.map { "\($0)" } ?? "?") (\(count) so far): \(reason)")
    }

    func handle(_ parts: [[UInt8]], _ state: inout FarmState) throws {
        guard parts.count == 2 else {
            return reject(parts.first.map(PeerID.init), "\(parts.count - 1)-part message; the protocol uses single-part messages")
        }
        let peer = PeerID(parts[0])
        let message: FarmMessage
        do { message = try MessageCodec.decode(parts[1]) } catch {
            reject(peer, "\(error)")
            // Tell a peer of another version why it gets no work, in its own version (reject's layout is frozen), so
            // that it stops with our reason instead of retrying.
            if case ProtocolError.unsupportedVersion(let theirs, let ours) = error, theirs != 0, (rejectionsByPeer[peer] ?? 0) <= 10 {
                let reason = "this coordinator speaks farm protocol \(ours), the worker \(theirs): run the same Lumière version on coordinator and workers"
                send(MessageCodec.encodeReject(reason, version: theirs), to: peer)
            }
            return
        }
        let now = self.now
        if case .register(let capabilities) = message {
            lock.withLock { stats.registrations += 1 }
            logger.info("worker \(capabilities.workerName) on \(capabilities.host) registered: \(capabilities.threads) threads, device \(capabilities.device), peer \(peer)")
            transfers.remove(peer)
            monitor.recordWorkerRegistered(peer: peer, name: capabilities.workerName, host: capabilities.host, threads: Int(capabilities.threads),
                                           device: capabilities.device)
            return try apply(state.scheduler.onWorkerRegistered(peer, capabilities, now: now), &state)
        }
        try apply(state.scheduler.onHeartbeat(peer, now: now), &state)
        guard state.scheduler.isRegistered(peer) else {
            // E.g. a worker declared dead after a stall, finishing anyway: counted and logged as discarded.
            if case .result(let lease, let info) = message { try apply(state.scheduler.onResultAnnounced(peer, lease, info, now: now), &state) }
            return
        }
        switch message {
        case .heartbeat, .register:
            break
        case .credit(let lease, let chunks):
            transfers.grant(peer, lease, chunks)
            state.scheduler.onLeaseActivity(peer, lease, now: now)
        case .progress(let lease, let done, let total):
            state.scheduler.onLeaseActivity(peer, lease, now: now, rendering: true)
            monitor.recordProgress(peer: peer, lease: lease, framesDone: Int(done), framesTotal: Int(total))
        case .result(let lease, let info):
            transfers.announced[peer] = (lease, info)
            monitor.recordResultAnnounced(peer: peer, lease: lease)
            try apply(state.scheduler.onResultAnnounced(peer, lease, info, now: now), &state)
        case .chunk(let lease, let offset, let bytes):
            try receiveChunk(peer, lease, offset, bytes, &state)
        case .failure(let lease, let text):
            logger.warning("worker reports \(lease) failed: \(text)")
            transfers.remove(peer, lease: lease)
            monitor.recordLeaseEnded(peer: peer, lease: lease)
            try apply(state.scheduler.onWorkerFailure(peer, lease, message: text, now: now), &state)
        case .goodbye(let reason):
            logger.info("worker \(peer) said goodbye: \(reason)")
            transfers.remove(peer)
            try apply(state.scheduler.onWorkerGoodbye(peer, now: now), &state)
            monitor.recordWorkerGone(peer: peer)
        case .welcome, .reject, .assign, .cancel:
            reject(peer, "coordinator-to-worker message \(message.kind) sent by a worker")
        }
    }

    private func receiveChunk(_ peer: PeerID, _ lease: LeaseRef, _ offset: UInt64, _ bytes: [UInt8], _ state: inout FarmState) throws {
        guard transfers.incoming[peer]?.receiver.lease == lease else { return } // stale chunk of a cancelled transfer
        do {
            try transfers.incoming[peer]!.receiver.accept(offset: offset, bytes: bytes)
        } catch {
            transfers.remove(peer, lease: lease)
            send(MessageCodec.encode(.cancel(lease, reason: "result transfer failed: \(error)")), to: peer)
            monitor.recordLeaseEnded(peer: peer, lease: lease)
            return try apply(state.scheduler.onWorkerFailure(peer, lease, message: "result transfer: \(error)", now: now), &state)
        }
        do {
            try transfers.incoming[peer]!.handle.write(contentsOf: bytes)
        } catch {
            // Our own disk (full, read-only): retrying elsewhere cannot help, so the job stops here.
            let failure = FarmError.resultSinkFailed(segment: lease.segment, underlying: "writing \(transfers.incoming[peer]!.file.path): \(error)")
            guard state.scheduler.isStanding, let job = state.scheduler.job(of: lease.segment) else { throw failure }
            transfers.remove(peer, lease: lease)
            return state.fail(job, failure)
        }
        lock.withLock { stats.bytesReceived += UInt64(bytes.count) }
        monitor.recordBytes(peer: peer, received: bytes.count)
        state.scheduler.onLeaseActivity(peer, lease, now: now)
        let incoming = transfers.incoming[peer]!
        guard incoming.receiver.isComplete else {
            return send(MessageCodec.encode(.credit(lease, chunks: 1)), to: peer)
        }
        try? incoming.handle.close()
        let received = PayloadDescription(byteCount: incoming.receiver.receivedBytes, checksum: incoming.receiver.actualChecksum)
        try apply(state.scheduler.onResultReceived(peer, lease, incoming.info, received: received, now: now), &state)
        transfers.incoming[peer] = nil
        try? FileManager.default.removeItem(at: incoming.file)
    }

}
