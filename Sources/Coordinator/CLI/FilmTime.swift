import Foundation

/// A time in a film as the options take it (`compare --at 5.4,1:02.5`, `restore --start 0:01:02 --duration 10`):
/// seconds, M:SS or H:MM:SS, with a fraction.
enum FilmTime {
    static func parse(_ text: String) -> Double? {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ":", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count), let seconds = Double(parts.last!), seconds.isFinite, seconds >= 0 else { return nil }
        var total = seconds
        for (i, part) in parts.dropLast().reversed().enumerated() {
            guard let whole = Int(part), whole >= 0, seconds < 60 else { return nil }
            total += Double(whole) * (i == 0 ? 60 : 3600)
        }
        return total
    }

    static func parseList(_ text: String) throws -> [Double] {
        let times = try text.split(separator: ",", omittingEmptySubsequences: false).map { part -> Double in
            guard let time = parse(String(part)) else {
                throw CompareError.badTime("'\(part)' in --at is not a time; write seconds (5.4), M:SS (1:02.5) or H:MM:SS")
            }
            return time
        }
        guard times.count <= maxTimes else { throw CompareError.badTime("\(times.count) times in --at; a sheet holds at most \(maxTimes) rows") }
        return times
    }

    static let maxTimes = 16
}
