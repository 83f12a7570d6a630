// Integers that depend on the batch size B and the number of steps T, which an imported model
// keeps open. Exporters compute shapes from Shape(x) (B, T, B·T, 2·B...); these are
// polynomials Σ c·Bⁱ·Tʲ with integer coefficients, and every operation the folder needs on
// them is exact or says it cannot decide.

/// One term's powers of B and T, and of an opaque step count: a strided convolution or pool
/// makes ⌊(T + c) / S⌋ + 1 steps, which no polynomial in T is. Each such layer gets its own
/// power of the opaque variable, so its number of steps equals only itself and evaluates to
/// nothing: a shape computed from it can be passed along but never taken for T or a number.
struct Monomial: Hashable, Comparable {
  var batch: Int
  var time: Int
  var opaque: Int = 0

  static let one = Monomial(batch: 0, time: 0)

  static func < (a: Monomial, b: Monomial) -> Bool {
    (a.batch + a.time + a.opaque, a.batch, a.time, a.opaque) < (b.batch + b.time + b.opaque, b.batch, b.time, b.opaque)
  }
}

struct SymbolicInt: Hashable, CustomStringConvertible {
  /// Non-zero coefficients only, so equal polynomials compare equal.
  private(set) var terms: [Monomial: Int]

  init(_ c: Int) { terms = c == 0 ? [:] : [.one: c] }
  private init(terms: [Monomial: Int]) { self.terms = terms.filter { $0.value != 0 } }

  static let batch = SymbolicInt(terms: [Monomial(batch: 1, time: 0): 1])
  static let time = SymbolicInt(terms: [Monomial(batch: 0, time: 1): 1])
  /// The number of steps of the `k`-th layer whose count is not a polynomial in T (k ≥ 1).
  static func opaqueSteps(_ k: Int) -> SymbolicInt { SymbolicInt(terms: [Monomial(batch: 0, time: 0, opaque: k): 1]) }

  /// The value when it does not depend on B or T.
  var constant: Int? {
    if terms.isEmpty { return 0 }
    if terms.count == 1, let c = terms[.one] { return c }
    return nil
  }

  var isBatch: Bool { self == .batch }
  var isTime: Bool { self == .time }

  // Arithmetic: nil when a coefficient overflows (the input was hostile or absurd).

  static func + (a: SymbolicInt, b: SymbolicInt) -> SymbolicInt? {
    var t = a.terms
    for (m, c) in b.terms {
      guard let s = Checked.add(t[m] ?? 0, c) else { return nil }
      t[m] = s
    }
    return SymbolicInt(terms: t)
  }

  static prefix func - (a: SymbolicInt) -> SymbolicInt? {
    var t: [Monomial: Int] = [:]
    for (m, c) in a.terms {
      guard c != Int.min else { return nil }
      t[m] = -c
    }
    return SymbolicInt(terms: t)
  }

  static func - (a: SymbolicInt, b: SymbolicInt) -> SymbolicInt? {
    guard let nb = -b else { return nil }
    return a + nb
  }

  static func * (a: SymbolicInt, b: SymbolicInt) -> SymbolicInt? {
    var t: [Monomial: Int] = [:]
    for (ma, ca) in a.terms {
      for (mb, cb) in b.terms {
        guard let c = Checked.multiply(ca, cb), let pb = Checked.add(ma.batch, mb.batch),
          let pt = Checked.add(ma.time, mb.time), let po = Checked.add(ma.opaque, mb.opaque),
          ma.opaque == 0 || mb.opaque == 0  // each power names one layer: no products of two
        else { return nil }
        let m = Monomial(batch: pb, time: pt, opaque: po)
        guard let s = Checked.add(t[m] ?? 0, c) else { return nil }
        t[m] = s
      }
    }
    return SymbolicInt(terms: t)
  }

  /// `self / d` when it is exact for every B and T: d a single term dividing every term.
  func dividedExactly(by d: SymbolicInt) -> SymbolicInt? {
    guard d.terms.count == 1, let (md, cd) = d.terms.first, cd != 0 else { return nil }
    var t: [Monomial: Int] = [:]
    for (m, c) in terms {
      guard m.batch >= md.batch, m.time >= md.time, m.opaque >= md.opaque, c % cd == 0 else { return nil }
      guard !(c == Int.min && cd == -1) else { return nil }
      t[Monomial(batch: m.batch - md.batch, time: m.time - md.time, opaque: m.opaque - md.opaque)] = c / cd
    }
    return SymbolicInt(terms: t)
  }

  /// The value for given B and T (nil where one is needed and unknown, or on overflow);
  /// `opaque[k - 1]` is the number of steps of opaque layer k, where known.
  func evaluate(batch: Int?, time: Int?, opaque: [Int?] = []) -> Int? {
    var sum = 0
    for (m, c) in terms {
      var v = c
      if m.opaque > 0 {
        guard m.opaque <= opaque.count, let n = opaque[m.opaque - 1], let p = Checked.multiply(v, n) else { return nil }
        v = p
      }
      for (power, value) in [(m.batch, batch), (m.time, time)] where power > 0 {
        guard let value else { return nil }
        for _ in 0..<power {
          guard let p = Checked.multiply(v, value) else { return nil }
          v = p
        }
      }
      guard let s = Checked.add(sum, v) else { return nil }
      sum = s
    }
    return sum
  }

  /// The sign for every B, T ≥ 1 (-1, 0 or 1), or nil when it depends on them.
  var sign: Int? {
    let (low, high) = bounds
    if let low, low > 0 { return 1 }
    if let high, high < 0 { return -1 }
    if low == 0 && high == 0 { return 0 }
    return nil
  }

  /// The least and greatest values over B, T ≥ 1 (nil: unbounded, or not known). A polynomial
  /// whose variable terms all have positive coefficients grows with B and T, so its least value
  /// is at B = T = 1; with all negative, its greatest.
  var bounds: (low: Int?, high: Int?) {
    guard let atOne = evaluate(batch: 1, time: 1) else { return (nil, nil) }
    let variable = terms.filter { $0.key != .one }.values
    if variable.isEmpty { return (atOne, atOne) }
    if variable.allSatisfy({ $0 > 0 }) { return (atOne, nil) }
    if variable.allSatisfy({ $0 < 0 }) { return (nil, atOne) }
    return (nil, nil)
  }

  /// Whether the value is ≥ 0 (true), < 0 (false) for every B, T ≥ 1, or depends on them (nil).
  var isNonNegative: Bool? {
    let (low, high) = bounds
    if let low, low >= 0 { return true }
    if let high, high < 0 { return false }
    return nil
  }

  /// "batch", "time", "2·batch", "batch·time + 1", "6": the words messages use.
  var description: String {
    if terms.isEmpty { return "0" }
    var parts: [String] = []
    for m in terms.keys.sorted(by: >) {
      let c = terms[m]!
      var factors: [String] = []
      for (name, power) in [("batch", m.batch), ("time", m.time)] where power > 0 {
        factors.append(power == 1 ? name : "\(name)^\(power)")
      }
      if m.opaque > 0 { factors.append("steps\(m.opaque)") }
      let body = factors.joined(separator: "·")
      let magnitude = c.magnitude
      let text = body.isEmpty ? "\(magnitude)" : (magnitude == 1 ? body : "\(magnitude)·\(body)")
      if parts.isEmpty {
        parts.append(c < 0 ? "-\(text)" : text)
      } else {
        parts.append(c < 0 ? "- \(text)" : "+ \(text)")
      }
    }
    return parts.joined(separator: " ")
  }
}
