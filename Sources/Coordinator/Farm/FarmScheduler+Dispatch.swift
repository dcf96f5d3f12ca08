import Shared

extension FarmScheduler {
    /// Gives each idle worker the longest pending segment of the job the policy puts first (`jobsByPolicy`: priority,
    /// then a fair share), then each worker with room for one more a segment queued behind its current one (lease-ahead,
    /// FarmScheduler+Leases.swift). Workers still idle when nothing is pending take over queued leases not started, then
    /// race a copy of a straggler (speculative re-issue, as MapReduce's backup tasks).
    mutating func dispatch(now: Double) -> [FarmDirective] {
        guard !draining, !isFinished else { return [] }
        // Idle workers and those with room come from maintained lists (`addLease`/`dropLease`), pending segments from
        // maintained per-job lists: no walk over all workers or segments per event (10,000 workers, issue 16 item 9).
        var out: [FarmDirective] = []
        var idle = idleOrder.isEmpty ? [] : handOut(to: idleOrder, now: now, &out)
        var rounds = 0
        while !roomOrder.isEmpty, rounds < configuration.maxSegmentsAhead, jobs.values.contains(where: { !$0.pending.isEmpty }) {
            let given = out.count
            _ = handOut(to: roomOrder, now: now, &out)
            if out.count == given { break }
            rounds += 1
        }
        if !idle.isEmpty { idle = takeOverQueued(for: idle, now: now, &out) }
        // The straggler scan sorts every completion time and walks every segment: per event at a job's tail, with
        // thousands of workers falling idle one by one, that was O(workers × segments). Stragglers are seconds
        // late, so one scan per tick interval (ticks dispatch at 20 Hz) finds them as soon.
        if !idle.isEmpty, let factor = configuration.speculateAfterMedianFactor,
           jobs.values.contains(where: { $0.secondsPerCost.count >= configuration.minimumCompletionsBeforeSpeculating }),
           !(now >= stragglerScanAt && now - stragglerScanAt < FarmScheduler.stragglerScanInterval) {
            stragglerScanAt = now
            var candidates = stragglers(factor: factor, now: now)
            for peer in idle {
                let name = workers[peer]!.name
                guard let index = candidates.firstIndex(where: {
                    segments[$0]!.active.first!.value.peer != peer && !segments[$0]!.failedOn.contains(name)
                }) else { continue }
                let id = candidates.remove(at: index)
                jobs[segments[id]!.job]!.speculations += 1
                out.append(lease(id, to: peer, now: now))
            }
        }
        return out
    }

    /// Hands pending segments to `peers` in order, one each: a first pass avoids giving a segment back to a worker that
    /// already failed it (taking the next job's segment instead), a second lets such a worker retry when no one else
    /// can. Returns the peers that got none.
    private mutating func handOut(to peers: [PeerID], now: Double, _ out: inout [FarmDirective]) -> [PeerID] {
        var left = peers
        for avoidingRepeats in [true, false] {
            var ranked = jobsByPolicy()
            guard !ranked.isEmpty, !left.isEmpty else { break }
            var still: [PeerID] = []
            for (position, peer) in left.enumerated() {
                guard !ranked.isEmpty else { still += left[position...]; break } // nothing pending: stop walking
                let name = workers[peer]!.name
                var given = false
                for job in ranked {
                    guard let index = jobs[job]!.pending.firstIndex(where: { !(avoidingRepeats && segments[$0]!.failedOn.contains(name)) }) else {
                        continue
                    }
                    out.append(lease(jobs[job]!.pending.remove(at: index), to: peer, now: now))
                    // The lease changed the fair share, or emptied the job's queue.
                    if ranked.count > 1 || jobs[job]!.pending.isEmpty { ranked = jobsByPolicy() }
                    given = true
                    break
                }
                if !given { still.append(peer) }
            }
            left = still
        }
        return left
    }

    /// A lease for `peer`: its current one when it holds none, else queued behind the ones it holds.
    mutating func lease(_ id: SegmentID, to peer: PeerID, now: Double) -> FarmDirective {
        segments[id]!.attemptsStarted += 1
        let lease = LeaseRef(segment: id, attempt: segments[id]!.attemptsStarted)
        let queued = !(workers[peer]?.leases.isEmpty ?? true)
        segments[id]!.status = .running
        segments[id]!.active[lease] = ActiveLease(peer: peer, startedAt: now, deadline: now + configuration.leaseTimeoutSeconds, queued: queued)
        if queued { insertQueued(lease) }
        leasesGiven += 1
        jobs[segments[id]!.job]!.inFlight += 1
        jobs[segments[id]!.job]!.lastServed = leasesGiven
        addLease(peer, lease)
        return .assign(peer, lease, segments[id]!.spec)
    }

    /// Running segments on a single lease that are overdue by `factor` × their job's median seconds per unit of cost,
    /// most overdue first (and not already at the try limit, as a copy is one more try).
    private func stragglers(factor: Double, now: Double) -> [SegmentID] {
        var medians: [FarmJobID: Double] = [:]
        for (id, job) in jobs where !job.finished && !job.withdrawn && job.secondsPerCost.count >= configuration.minimumCompletionsBeforeSpeculating {
            medians[id] = job.secondsPerCost.sorted()[job.secondsPerCost.count / 2]
        }
        return order.compactMap { id -> (SegmentID, Double)? in
            let segment = segments[id]!
            guard segment.status == .running, segment.active.count == 1, let running = segment.active.first, !running.value.queued,
                  let median = medians[segment.job], segment.attemptsStarted < UInt32(configuration.maxAttemptsPerSegment) else { return nil }
            let overdue = (now - running.value.startedAt) / (factor * max(median, 1e-6) * Double(max(segment.spec.cost, 1)))
            return overdue > 1 ? (id, overdue) : nil
        }.sorted { $0.1 > $1.1 }.map(\.0)
    }

    /// The job's report (the one job's for a scheduler made with its segments). Blocklisted workers are the farm's.
    public func report(of job: FarmJobID = 0) -> JobReport {
        let entry = jobs[job]
        let failed = order.first { segments[$0]!.job == job && segments[$0]!.status == .failed }.map {
            JobReport.SegmentFailure(segment: $0, attempts: segments[$0]!.failures)
        }
        var report = JobReport(segmentCount: entry?.segmentCount ?? 0, completedSegments: entry?.done ?? 0, failed: failed,
                               completedByWorker: entry?.completedByName ?? [:], blocklistedWorkers: blocklist.sorted(),
                               discardedResults: entry?.discarded ?? 0, requeues: entry?.requeues ?? 0,
                               speculativeCopies: entry?.speculations ?? 0)
        report.job = job
        return report
    }
}
