import Foundation
import Shared
import Transport

/// Between jobs (the service's queue is empty, or every job is paused), the coordinator keeps its workers: it welcomes
/// new ones, answers and sends heartbeats, and forgets the silent. The next `run` starts with them registered.
extension FarmCoordinator {
    /// Serves workers on the calling thread (the one that owns the socket) while `keepIdling` says so.
    public func idle(while keepIdling: () -> Bool) throws {
        guard let socket else { throw FarmError.notBound }
        var lastHeartbeat = -Double.infinity
        defer { outbox.removeAll(); unreachable.removeAll() }
        while keepIdling() {
            flushOutbox()
            do {
                if try Socket.pollReadable([socket], timeoutMs: 50)[0] {
                    while let parts = try socket.receive() { idleHandle(parts) }
                }
            } catch TransportError.interrupted {
                continue
            }
            while !unreachable.isEmpty { forget(unreachable.removeFirst(), "its connection is gone") }
            if now - lastHeartbeat >= configuration.heartbeatInterval {
                lastHeartbeat = now
                let heartbeat = MessageCodec.encode(.heartbeat)
                for (peer, _) in roster.workers { send(heartbeat, to: peer) }
                for peer in roster.expire(before: now - configuration.heartbeatInterval * Double(configuration.liveness)) {
                    logger.warning("worker \(peer) gone: silent for \(configuration.liveness) heartbeats")
                    monitor.recordWorkerGone(peer: peer)
                }
            }
        }
    }

    private func idleHandle(_ parts: [[UInt8]]) {
        guard parts.count == 2 else { return reject(parts.first.map(PeerID.init), "\(parts.count - 1)-part message") }
        let peer = PeerID(parts[0])
        let message: FarmMessage
        do { message = try MessageCodec.decode(parts[1]) } catch { return reject(peer, "\(error)") }
        switch message {
        case .register(let capabilities):
            lock.withLock { stats.registrations += 1 }
            logger.info("worker \(capabilities.workerName) on \(capabilities.host) registered: \(capabilities.threads) threads, device \(capabilities.device), peer \(peer)")
            roster.register(peer, capabilities, now: now)
            monitor.recordWorkerRegistered(peer: peer, name: capabilities.workerName, host: capabilities.host,
                                           threads: Int(capabilities.threads), device: capabilities.device)
            send(MessageCodec.encode(.welcome(heartbeatIntervalMs: UInt32(configuration.heartbeatInterval * 1000))), to: peer)
        case _ where roster.entries[peer] == nil:
            // Not ours (a connection from before a restart, say): as during a job, it must register again.
            send(MessageCodec.encode(.goodbye(reason: "unknown worker: register again")), to: peer)
        case .goodbye(let reason):
            forget(peer, "said goodbye: \(reason)")
        case .progress(let lease, _, _), .result(let lease, _), .credit(let lease, _), .chunk(let lease, _, _):
            // A lease of a job that stopped while this worker still held it: nobody waits for it any more.
            roster.seen(peer, now: now)
            send(MessageCodec.encode(.cancel(lease, reason: "its job was stopped")), to: peer)
        default:
            roster.seen(peer, now: now)
        }
    }

    private func forget(_ peer: PeerID, _ why: String) {
        guard roster.entries[peer] != nil else { return }
        logger.info("worker \(peer) \(why)")
        roster.remove(peer)
        outbox[peer] = nil
        monitor.recordWorkerGone(peer: peer)
    }

    /// The idle workers a job starts with: registered with its scheduler as if they had just come (without a second
    /// welcome; they were welcomed when they came), so the job's first segments go to them at once.
    func seed(_ job: inout JobState) throws {
        for (peer, capabilities) in roster.workers {
            monitor.recordWorkerRegistered(peer: peer, name: capabilities.workerName, host: capabilities.host,
                                           threads: Int(capabilities.threads), device: capabilities.device)
            let directives = job.scheduler.onWorkerRegistered(peer, capabilities, now: now).filter {
                if case .welcome = $0 { return false }
                return true
            }
            try apply(directives, &job)
        }
    }

    /// After a job: the workers it ended with alive and without a lease stay for the next one. One still holding a
    /// lease (a drain that timed out) is dropped: it is asked to register again when it next speaks.
    func keepIdleWorkers(_ scheduler: FarmScheduler) {
        let idle = Set(scheduler.liveWorkers.filter { scheduler.currentLease(of: $0) == nil })
        roster.keep(only: idle, now: now)
    }
}
