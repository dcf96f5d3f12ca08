/// The `key=value` parameters of one layer line. ncnn writes scalars as `k=v` and arrays as
/// `-(23300+k)=n,v1,...,vn`; a value is a float when its text has '.', 'e' or 'E', else an int.
public struct ParamDict: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case int(Int)
        case float(Float)
        case array([Float], isFloat: Bool)
    }

    public private(set) var values: [Int: Value] = [:]

    public init() {}
    public init(_ values: [Int: Value]) { self.values = values }

    public func has(_ key: Int) -> Bool { values[key] != nil }

    public func int(_ key: Int, default fallback: Int) -> Int {
        switch values[key] {
        case let .int(v): return v
        case let .float(v) where v.isFinite && abs(v) < 1e9: return Int(v)
        default: return fallback
        }
    }

    public func float(_ key: Int, default fallback: Float) -> Float {
        switch values[key] {
        case let .int(v): return Float(v)
        case let .float(v): return v
        default: return fallback
        }
    }

    public func floats(_ key: Int) -> [Float] {
        if case let .array(v, _) = values[key] { return v }
        return []
    }

    public func ints(_ key: Int) -> [Int] {
        if case let .array(v, _) = values[key] { return v.map { Int($0) } }
        return []
    }

    /// Parses one `key=value` token.
    static func parse(token: Substring, into dict: inout ParamDict, line: Int) throws {
        guard let eq = token.firstIndex(of: "=") else {
            throw InferenceError.malformedParam(line: line, reason: "expected key=value, found '\(token.prefix(40))'")
        }
        guard let key = Int(token[..<eq]) else {
            throw InferenceError.malformedParam(line: line, reason: "parameter key '\(token[..<eq].prefix(20))' is not an integer")
        }
        let text = token[token.index(after: eq)...]
        if key <= -23300 {
            let id = -key - 23300
            guard id < 100 else { throw InferenceError.malformedParam(line: line, reason: "array key \(key) out of range") }
            let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            guard let n = Int(parts.first ?? ""), n >= 0, n <= 1 << 20, parts.count == n + 1 else {
                throw InferenceError.malformedParam(line: line, reason: "array parameter \(key) must be 'count,v1,...' with count values")
            }
            var isFloat = false
            var out: [Float] = []
            out.reserveCapacity(n)
            for p in parts.dropFirst() {
                let (v, f) = try parseNumber(p, line: line, key: key)
                isFloat = isFloat || f
                out.append(v)
            }
            dict.values[id] = .array(out, isFloat: isFloat)
        } else {
            guard key >= 0, key < 100 else { throw InferenceError.malformedParam(line: line, reason: "parameter key \(key) out of range") }
            let (v, isFloat) = try parseNumber(text, line: line, key: key)
            dict.values[key] = isFloat ? .float(v) : .int(Int(v))
        }
    }

    private static func parseNumber(_ text: Substring, line: Int, key: Int) throws -> (Float, Bool) {
        let isFloat = text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" })
        if isFloat {
            guard let v = Float(text), v.isFinite else {
                throw InferenceError.malformedParam(line: line, reason: "parameter \(key): '\(text.prefix(30))' is not a finite number")
            }
            return (v, true)
        }
        guard let v = Int(text), abs(v) <= 1 << 30 else {
            throw InferenceError.malformedParam(line: line, reason: "parameter \(key): '\(text.prefix(30))' is not an integer in range")
        }
        return (Float(v), false)
    }
}
