import Shared

/// The leases a worker holds (lease-ahead): the first renders or returns its result, up to `capacity - 1` more are
/// queued behind it with their inputs, so the worker starts the next segment the moment one ends, while the result
/// travels back (10,000 simulated workers on this machine waited 2.6 s between segments without it: BENCHMARKS.md).
/// A queued lease counts as out for its job (fair share, completion) but has no deadline and is no straggler until it
/// starts; a worker that falls idle while nothing is pending takes over a queued lease that has not started.
extension FarmScheduler {
    /// The one way to give a worker a lease: keeps `idleOrder` and `roomOrder` in step.
    mutating func addLease(_ peer: PeerID, _ lease: LeaseRef) {
        guard let before = workers[peer]?.leases.count else { return }
        workers[peer]!.leases.append(lease)
        updateOrders(peer, before: before)
    }

    /// Takes a lease off its worker. When it was the worker's first, the next one becomes current: it renders now, so
    /// its start and deadline count from `now`.
    mutating func dropLease(_ peer: PeerID, _ lease: LeaseRef, now: Double) {
        guard let index = workers[peer]?.leases.firstIndex(of: lease) else { return }
        let before = workers[peer]!.leases.count
        workers[peer]!.leases.remove(at: index)
        if index == 0, let next = workers[peer]!.leases.first { start(next, now: now) }
        updateOrders(peer, before: before)
    }

    /// Takes a queued lease (never a worker's first) off its worker.
    mutating func unqueue(_ peer: PeerID, _ lease: LeaseRef) {
        guard let index = workers[peer]?.leases.firstIndex(of: lease), index > 0 else { return }
        let before = workers[peer]!.leases.count
        workers[peer]!.leases.remove(at: index)
        updateOrders(peer, before: before)
    }

    /// A queued lease starts rendering (it became the worker's first, or the worker reported progress on it).
    mutating func start(_ lease: LeaseRef, now: Double) {
        guard segments[lease.segment]?.active[lease]?.queued == true else { return }
        segments[lease.segment]!.active[lease]!.queued = false
        segments[lease.segment]!.active[lease]!.startedAt = now
        segments[lease.segment]!.active[lease]!.deadline = now + configuration.leaseTimeoutSeconds
        removeQueued(lease)
    }

    /// Gives a lease back to its job without a result: pending again unless another copy runs (`countingRequeue`: an
    /// orderly hand-back shows in the report's re-queued count; a never-acknowledged assignment does not).
    mutating func handBack(_ peer: PeerID, _ lease: LeaseRef, now: Double, countingRequeue: Bool) {
        dropLease(peer, lease, now: now)
        endLease(lease)
        guard let segment = segments[lease.segment], segment.active.isEmpty, segment.status == .running else { return }
        markPending(lease.segment)
        if countingRequeue { jobs[segment.job]?.requeues += 1 }
    }

    /// Calls back a queued lease that has not started (drain, a job withdrawn): not a try; its segment is pending again,
    /// outside the queue if its job is withdrawn.
    mutating func callBack(_ lease: LeaseRef, reason: String) -> FarmDirective {
        let peer = segments[lease.segment]!.active[lease]!.peer
        unqueue(peer, lease)
        endLease(lease)
        if segments[lease.segment]!.active.isEmpty { markPending(lease.segment) }
        return .cancel(peer, lease, reason: reason)
    }

    /// Workers still idle when nothing is pending take over leases queued behind another segment that have not
    /// started (in dispatch order): without this, a job's last segments would wait behind a render while workers idle.
    /// The holder is told to drop it (not a try); the taker gets a new attempt. Returns the workers still idle.
    mutating func takeOverQueued(for idle: [PeerID], now: Double, _ out: inout [FarmDirective]) -> [PeerID] {
        guard !queuedOrder.isEmpty else { return idle }
        return idle.filter { peer in
            let name = workers[peer]!.name
            guard let moved = queuedOrder.first(where: { !segments[$0.segment]!.failedOn.contains(name) }),
                  let holder = segments[moved.segment]!.active[moved]?.peer else { return true }
            out.append(.cancel(holder, moved, reason: "\(moved) moved to an idle worker before it started"))
            unqueue(holder, moved)
            endLease(moved)
            jobs[segments[moved.segment]!.job]!.moved += 1
            out.append(lease(moved.segment, to: peer, now: now))
            return false
        }
    }

    // MARK: Orders

    private mutating func updateOrders(_ peer: PeerID, before: Int) {
        guard let worker = workers[peer] else { return }
        let after = worker.leases.count
        if before == 0, after > 0 { removeIdle(peer) }
        if before > 0, after == 0 { insertIdle(peer) }
        let roomBefore = before > 0 && before < worker.capacity, roomAfter = after > 0 && after < worker.capacity
        if roomBefore, !roomAfter { removeRoom(peer) }
        if !roomBefore, roomAfter { insertRoom(peer) }
    }

    private static func position(_ sequence: Int, in list: [PeerID], _ workers: [PeerID: Worker]) -> Int {
        var low = 0, high = list.count
        while low < high {
            let mid = (low + high) / 2
            if workers[list[mid]]!.sequence < sequence { low = mid + 1 } else { high = mid }
        }
        return low
    }

    mutating func insertIdle(_ peer: PeerID) {
        let index = FarmScheduler.position(workers[peer]!.sequence, in: idleOrder, workers)
        if index == idleOrder.count || idleOrder[index] != peer { idleOrder.insert(peer, at: index) }
    }

    mutating func removeIdle(_ peer: PeerID) {
        guard let sequence = workers[peer]?.sequence else { return }
        let index = FarmScheduler.position(sequence, in: idleOrder, workers)
        if index < idleOrder.count, idleOrder[index] == peer { idleOrder.remove(at: index) }
    }

    private mutating func insertRoom(_ peer: PeerID) {
        let index = FarmScheduler.position(workers[peer]!.sequence, in: roomOrder, workers)
        if index == roomOrder.count || roomOrder[index] != peer { roomOrder.insert(peer, at: index) }
    }

    mutating func removeRoom(_ peer: PeerID) {
        guard let sequence = workers[peer]?.sequence else { return }
        let index = FarmScheduler.position(sequence, in: roomOrder, workers)
        if index < roomOrder.count, roomOrder[index] == peer { roomOrder.remove(at: index) }
    }

    /// Dispatch order of queued leases: their segments' (`precedes`), then the attempt.
    private func queuedPrecedes(_ a: LeaseRef, _ b: LeaseRef) -> Bool {
        if a.segment == b.segment { return a.attempt < b.attempt }
        return FarmScheduler.precedes(segments[a.segment]!.spec, segments[b.segment]!.spec)
    }

    private func queuedPosition(_ lease: LeaseRef) -> Int {
        var low = 0, high = queuedOrder.count
        while low < high {
            let mid = (low + high) / 2
            if queuedPrecedes(queuedOrder[mid], lease) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    mutating func insertQueued(_ lease: LeaseRef) {
        let index = queuedPosition(lease)
        if index == queuedOrder.count || queuedOrder[index] != lease { queuedOrder.insert(lease, at: index) }
    }

    mutating func removeQueued(_ lease: LeaseRef) {
        let index = queuedPosition(lease)
        if index < queuedOrder.count, queuedOrder[index] == lease { queuedOrder.remove(at: index) }
    }
}
