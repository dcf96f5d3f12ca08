/// A small first-in-first-out memo of per-frame (or per-pair) analysis, keyed by frame fingerprints: a stage run
/// over a shot sees each frame in 2·radius + 1 windows and analyses it once. One instance per stage instance, used by
/// one thread at a time (like the stage).
struct AnalysisCache<Key: Hashable, Value> {
    let capacity: Int
    private var values: [Key: Value] = [:]
    private var order: [Key] = []

    init(capacity: Int) { self.capacity = max(1, capacity) }

    mutating func value(for key: Key, make: () throws -> Value) rethrows -> Value {
        if let v = values[key] { return v }
        let v = try make()
        values[key] = v
        order.append(key)
        if order.count > capacity { values[order.removeFirst()] = nil }
        return v
    }
}
