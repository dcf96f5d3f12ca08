import Foundation
import Shared

/// The workers a long-lived coordinator keeps between jobs (issue 18: workers connect once and stay connected).
/// Each job's `FarmScheduler` starts from the idle ones, so a new job needs no new registration; between jobs the
/// coordinator heartbeats them (`FarmCoordinator.idle`) so they do not give up on it and reconnect.
struct WorkerRoster {
    struct Entry {
        var capabilities: WorkerCapabilities
        var lastSeen: Double
    }

    private(set) var entries: [PeerID: Entry] = [:]
    /// Registration order: the next job's scheduler sees the workers in the order they came.
    private(set) var order: [PeerID] = []

    mutating func register(_ peer: PeerID, _ capabilities: WorkerCapabilities, now: Double) {
        if entries[peer] == nil { order.append(peer) }
        entries[peer] = Entry(capabilities: capabilities, lastSeen: now)
    }

    mutating func seen(_ peer: PeerID, now: Double) { entries[peer]?.lastSeen = now }

    mutating func remove(_ peer: PeerID) {
        guard entries.removeValue(forKey: peer) != nil else { return }
        order.removeAll { $0 == peer }
    }

    /// Keeps only `peers` (those a job ended with, idle and alive), seen at `now`.
    mutating func keep(only peers: Set<PeerID>, now: Double) {
        for peer in order where !peers.contains(peer) { entries[peer] = nil }
        order.removeAll { entries[$0] == nil }
        for peer in order { entries[peer]!.lastSeen = now }
    }

    /// Workers not heard from since `deadline`, removed and returned.
    mutating func expire(before deadline: Double) -> [PeerID] {
        let gone = order.filter { entries[$0]!.lastSeen < deadline }
        for peer in gone { remove(peer) }
        return gone
    }

    var workers: [(peer: PeerID, capabilities: WorkerCapabilities)] { order.map { ($0, entries[$0]!.capabilities) } }
}
