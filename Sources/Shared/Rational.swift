/// An exact rational number (frame rates, time bases, durations). Always reduced, denominator > 0.
///
/// Arithmetic goes through 128-bit intermediates so that timestamp maths over hours of film at
/// 90 kHz time bases cannot silently overflow; a result that does not fit 64 bits traps.
public struct Rational: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public let numerator: Int64
    public let denominator: Int64

    public init(_ numerator: Int64, _ denominator: Int64 = 1) {
        precondition(denominator != 0, "Rational with zero denominator")
        self.init(reducing: Int128(numerator), Int128(denominator))
    }

    init(reducing n: Int128, _ d: Int128) {
        precondition(d != 0, "Rational with zero denominator")
        var n = n, d = d
        if d < 0 { n = -n; d = -d }
        let g = Rational.gcd(n.magnitude, d.magnitude)
        if g > 1 { n /= Int128(g); d /= Int128(g) }
        self.numerator = Int64(n)
        self.denominator = Int64(d)
    }

    /// Parses "24000/1001", "25", "29.97" (decimal is converted exactly).
    public init?(parsing text: String) {
        let text = text.filter { $0 != " " }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count == 2 {
            guard let n = Int64(parts[0]),
                  let d = Int64(parts[1]), d != 0 else { return nil }
            self.init(n, d)
        } else if parts.count == 1 {
            let s = String(parts[0])
            if let n = Int64(s) { self.init(n, 1); return }
            let halves = s.split(separator: ".", omittingEmptySubsequences: false)
            guard halves.count == 2, halves[1].count <= 9, !halves[1].isEmpty,
                  let whole = Int64(halves[0].isEmpty ? "0" : String(halves[0])),
                  let frac = Int64(halves[1]), frac >= 0 else { return nil }
            var scale: Int64 = 1
            for _ in 0..<halves[1].count { scale *= 10 }
            let negative = halves[0].hasPrefix("-")
            let signedFrac: Int64 = negative ? -frac : frac
            self.init(whole * scale + signedFrac, scale)
        } else {
            return nil
        }
    }

    public static let zero = Rational(0)
    public static let one = Rational(1)

    public var doubleValue: Double { Double(numerator) / Double(denominator) }
    public var isZero: Bool { numerator == 0 }
    public var reciprocal: Rational { Rational(denominator, numerator) }
    public var description: String { denominator == 1 ? "\(numerator)" : "\(numerator)/\(denominator)" }

    /// Largest integer ≤ self.
    public var floor: Int64 {
        let q = numerator / denominator
        return (numerator % denominator != 0 && numerator < 0) ? q - 1 : q
    }
    /// Fractional part in [0, 1).
    public var fractionalPart: Rational { self - Rational(floor) }
    /// Nearest integer, halves rounded up (towards +∞).
    public var rounded: Int64 { (self + Rational(1, 2)).floor }

    public static func + (a: Rational, b: Rational) -> Rational {
        Rational(reducing: Int128(a.numerator) * Int128(b.denominator) + Int128(b.numerator) * Int128(a.denominator),
                 Int128(a.denominator) * Int128(b.denominator))
    }
    public static func - (a: Rational, b: Rational) -> Rational { a + Rational(-b.numerator, b.denominator) }
    public static func * (a: Rational, b: Rational) -> Rational {
        Rational(reducing: Int128(a.numerator) * Int128(b.numerator), Int128(a.denominator) * Int128(b.denominator))
    }
    public static func / (a: Rational, b: Rational) -> Rational {
        precondition(b.numerator != 0, "Rational division by zero")
        return Rational(reducing: Int128(a.numerator) * Int128(b.denominator), Int128(a.denominator) * Int128(b.numerator))
    }
    public static func * (a: Rational, b: Int64) -> Rational { a * Rational(b) }
    public static func < (a: Rational, b: Rational) -> Bool {
        Int128(a.numerator) * Int128(b.denominator) < Int128(b.numerator) * Int128(a.denominator)
    }

    static func gcd(_ a: UInt128, _ b: UInt128) -> UInt128 {
        var a = a, b = b
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }

    // Codable as "num/den" so that job files stay readable.
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Rational(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a rational: \(text)"))
        }
        self = value
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode("\(numerator)/\(denominator)")
    }
}
