import Foundation
import Logging
import Shared
import Transport

/// Carrying out the scheduler's directives: assignments, transfers under credit, results to the sink.
extension FarmCoordinator {
    // MARK: Directives

    func apply(_ directives: [FarmDirective], _ state: inout FarmState) throws {
        for directive in directives {
            switch directive {
            case .welcome(let peer, let interval):
                let ms = UInt32(clamping: Int((interval * 1000).rounded()))
                send(MessageCodec.encode(.welcome(heartbeatIntervalMs: min(max(ms, FarmProtocol.minHeartbeatIntervalMs), FarmProtocol.maxHeartbeatIntervalMs))), to: peer)
            case .askToRegister(let peer):
                send(MessageCodec.encode(.goodbye(reason: "unknown worker: register again")), to: peer)
            case .rejectWorker(let peer, let reason):
                logger.warning("refusing worker \(peer): \(reason)")
                transfers.remove(peer)
                send(MessageCodec.encode(.reject(reason: reason)), to: peer)
                monitor.recordWorkerGone(peer: peer, blocklisted: true)
            case .assign(let peer, let lease, let spec):
                assign(peer, lease, spec, &state)
            case .cancel(let peer, let lease, let reason):
                logger.warning("cancelling \(lease) on \(peer): \(reason)")
                transfers.remove(peer, lease: lease)
                send(MessageCodec.encode(.cancel(lease, reason: reason)), to: peer)
                monitor.recordLeaseEnded(peer: peer, lease: lease)
            case .receiveResult(let peer, let lease):
                try beginReceiving(peer, lease)
            case .acceptResult(let peer, let lease, let info):
                monitor.recordResultAccepted(peer: peer, lease: lease, frames: Int(info.frameCount))
                guard let (job, spec) = state.owner(of: lease.segment) else { break }
                let file = transfers.incoming.values.first { $0.receiver.lease == lease }?.file ?? resultFile(lease)
                do { try state.jobs[job]!.results(spec, info, file) } catch {
                    state.fail(job, FarmError.resultSinkFailed(segment: spec.id, underlying: "\(error)"))
                }
                addProgress(job, done: Int64(info.frameCount))
                lock.withLock { stats.segmentsAccepted += 1 }
            case .discardResult(let peer, let lease, let reason):
                logger.notice("\(reason)")
                transfers.remove(peer, lease: lease)
                send(MessageCodec.encode(.cancel(lease, reason: reason)), to: peer)
            case .workerDeclaredDead(let peer, let reason):
                logger.warning("worker \(peer) gone: \(reason)")
                transfers.remove(peer)
                outbox[peer] = nil
                monitor.recordWorkerGone(peer: peer)
            case .jobCompleted(let report):
                logger.notice("\(state.scheduler.isStanding ? "job \(report.job) " : "job ")complete: \(report)")
                if state.jobs[report.job]?.outcome == nil { state.jobs[report.job]?.outcome = .success(report) }
            case .jobFailed(let report):
                logger.error("\(state.scheduler.isStanding ? "job \(report.job) " : "job ")failed: \(report)")
                state.fail(report.job, FarmError.jobFailed(report))
            }
        }
    }

    /// Sends an assignment and opens its input. A job whose input cannot be produced or opened fails (the loop ends
    /// it: `restore`'s whole run, or that one job on a standing farm).
    private func assign(_ peer: PeerID, _ lease: LeaseRef, _ spec: SegmentSpec, _ state: inout FarmState) {
        guard let (job, own) = state.owner(of: spec.id) else { return }
        if state.jobs[job]!.inputFiles[spec.id] == nil {
            do {
                let url = try state.jobs[job]!.inputs(own)
                state.jobs[job]!.inputFiles[spec.id] = (url, try TransferTable.describe(url))
            } catch {
                return state.fail(job, FarmError.inputUnavailable(segment: own.id, underlying: "\(error)"))
            }
        }
        let input = state.jobs[job]!.inputFiles[spec.id]!
        let assignment = SegmentAssignment(lease: lease, inputFrameCount: spec.inputFrameCount, work: spec.work, input: input.payload)
        transfers.keepOutgoing(peer, of: state.scheduler.leases(of: peer)) // inputs of leases it holds stay queued
        transfers.add(peer, OutgoingTransfer(sender: ChunkSender(lease: lease, totalBytes: input.payload.byteCount), url: input.url))
        logger.info("\(state.scheduler.isStanding ? "job \(job): " : "")assigning \(state.scheduler.isStanding ? "segment \(own.id) attempt \(lease.attempt)" : "\(lease)") (\(spec.inputFrameCount) frames) to \(peer)")
        monitor.recordAssigned(peer: peer, lease: lease, frames: Int(spec.expectedOutputFrames))
        send(MessageCodec.encode(.assign(assignment)), to: peer)
    }

    private func resultFile(_ lease: LeaseRef) -> URL {
        configuration.workDirectory.appendingPathComponent("result-\(lease.segment)-\(lease.attempt).part")
    }

    private func beginReceiving(_ peer: PeerID, _ lease: LeaseRef) throws {
        // The announced info was checked by the scheduler; keep it to verify the bytes against.
        guard let info = transfers.announced[peer], info.lease == lease else { return }
        let file = resultFile(lease)
        guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
            throw FarmError.resultSinkFailed(segment: lease.segment, underlying: "cannot create \(file.path)")
        }
        transfers.incoming[peer] = IncomingTransfer(receiver: ChunkReceiver(lease: lease, expected: info.info.output),
                                                    info: info.info, file: file, handle: try FileHandle(forWritingTo: file))
        send(MessageCodec.encode(.credit(lease, chunks: ChunkReceiver.initialWindow)), to: peer)
    }

    /// Sends input chunks while the workers' credit allows.
    func pumpTransfers(_ state: inout FarmState) throws {
        for peer in Array(transfers.outgoing.keys) where outbox[peer]?.isEmpty ?? true {
            while let next = transfers.takeNextChunk(peer) {
                let transfer = transfers.sending(peer)!
                let bytes: Data
                do {
                    let handle: FileHandle
                    do { handle = try transfers.headHandle(peer) } catch {
                        throw FarmError.inputUnavailable(segment: transfer.sender.lease.segment, underlying: "\(error)")
                    }
                    try handle.seek(toOffset: next.offset)
                    bytes = try handle.read(upToCount: next.length) ?? Data()
                    guard bytes.count == next.length else { throw FarmError.inputUnavailable(segment: transfer.sender.lease.segment,
                                                                                             underlying: "input file shrank while being sent") }
                } catch {
                    // The job's own input is gone: that job fails (on a standing farm the others carry on).
                    transfers.finishOutgoing(peer)
                    guard let job = state.scheduler.job(of: transfer.sender.lease.segment), state.scheduler.isStanding else { throw error }
                    state.fail(job, error)
                    break
                }
                send(MessageCodec.encode(.chunk(transfer.sender.lease, offset: next.offset, bytes: Array(bytes))), to: peer)
                lock.withLock { stats.bytesSent += UInt64(bytes.count) }
                monitor.recordBytes(peer: peer, sent: bytes.count)
            }
            if transfers.sending(peer)?.sender.isFinished == true {
                transfers.finishOutgoing(peer)
                monitor.recordInputSent(peer: peer)
            }
        }
    }

    // MARK: Sending

    func send(_ bytes: [UInt8], to peer: PeerID) {
        guard let socket else { return }
        if let queued = outbox[peer], !queued.isEmpty { outbox[peer]!.append(bytes); return }
        do {
            if try !socket.send(parts: [peer.bytes, bytes]) { outbox[peer, default: []].append(bytes) }
        } catch {
            // EHOSTUNREACH (ROUTER_MANDATORY): the peer's connection is gone.
            logger.debug("send to \(peer) failed: \(error)")
            if !unreachable.contains(peer) { unreachable.append(peer) }
        }
    }

    func flushOutbox() {
        guard let socket else { return }
        for peer in Array(outbox.keys) {
            while let first = outbox[peer]?.first {
                do {
                    guard try socket.send(parts: [peer.bytes, first]) else { break }
                } catch {
                    outbox[peer] = nil
                    if !unreachable.contains(peer) { unreachable.append(peer) }
                    break
                }
                outbox[peer]!.removeFirst()
            }
            if outbox[peer]?.isEmpty == true { outbox[peer] = nil }
        }
    }
}
