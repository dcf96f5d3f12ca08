import Shared

extension FarmScheduler {
    /// Gives each idle worker the longest pending segment. A first pass avoids handing a segment back to a
    /// worker that already failed it; a second lets such a worker retry when no one else is free. Workers
    /// still idle then race a copy of a straggler (speculative re-issue, as MapReduce's backup tasks).
    mutating func dispatch(now: Double) -> [FarmDirective] {
        guard !draining, !isFinished else { return [] }
        var out: [FarmDirective] = []
        for avoidingRepeats in [true, false] {
            for peer in liveWorkers where workers[peer]!.lease == nil {
                let name = workers[peer]!.name
                guard let id = order.first(where: {
                    segments[$0]!.status == .pending && !(avoidingRepeats && segments[$0]!.failedOn.contains(name))
                }) else { continue }
                out.append(lease(id, to: peer, now: now))
            }
        }
        for peer in liveWorkers where workers[peer]!.lease == nil {
            guard let id = straggler(for: peer, now: now) else { break }
            speculations += 1
            out.append(lease(id, to: peer, now: now))
        }
        return out
    }

    private mutating func lease(_ id: SegmentID, to peer: PeerID, now: Double) -> FarmDirective {
        segments[id]!.attemptsStarted += 1
        let lease = LeaseRef(segment: id, attempt: segments[id]!.attemptsStarted)
        segments[id]!.status = .running
        segments[id]!.active[lease] = ActiveLease(peer: peer, startedAt: now, deadline: now + configuration.leaseTimeoutSeconds)
        workers[peer]!.lease = lease
        return .assign(peer, lease, segments[id]!.spec)
    }

    /// The running segment most overdue relative to the median time per unit of cost, when it is overdue by
    /// the configured factor and runs on a single lease held by another worker.
    private func straggler(for peer: PeerID, now: Double) -> SegmentID? {
        guard let factor = configuration.speculateAfterMedianFactor,
              secondsPerCost.count >= configuration.minimumCompletionsBeforeSpeculating else { return nil }
        let median = secondsPerCost.sorted()[secondsPerCost.count / 2]
        let name = workers[peer]!.name
        let candidates = order.compactMap { id -> (SegmentID, Double)? in
            let segment = segments[id]!
            guard segment.status == .running, segment.active.count == 1, let running = segment.active.first,
                  running.value.peer != peer, !segment.failedOn.contains(name),
                  segment.attemptsStarted < UInt32(configuration.maxAttemptsPerSegment) else { return nil }
            let overdue = (now - running.value.startedAt) / (factor * max(median, 1e-6) * Double(max(segment.spec.cost, 1)))
            return overdue > 1 ? (id, overdue) : nil
        }
        return candidates.max { $0.1 < $1.1 }?.0
    }

    public func report() -> JobReport {
        let failed = order.first { segments[$0]!.status == .failed }.map {
            JobReport.SegmentFailure(segment: $0, attempts: segments[$0]!.failures)
        }
        return JobReport(segmentCount: segments.count, completedSegments: doneCount, failed: failed,
                         completedByWorker: completedByName, blocklistedWorkers: blocklist.sorted(),
                         discardedResults: discarded, requeues: requeues, speculativeCopies: speculations)
    }
}
