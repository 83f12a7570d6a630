// Overflow-checked size arithmetic: the one place element counts and byte sizes taken from
// untrusted files and command lines are computed, by every reader and by the interpreter
// before it allocates. `nil` means "does not fit in an Int"; callers report it, never trap.

enum Checked {
  static func add(_ a: Int, _ b: Int) -> Int? {
    let (r, overflow) = a.addingReportingOverflow(b)
    return overflow ? nil : r
  }

  static func multiply(_ a: Int, _ b: Int) -> Int? {
    let (r, overflow) = a.multipliedReportingOverflow(by: b)
    return overflow ? nil : r
  }

  /// The sum of sizes, `nil` if one of them is `nil` or the sum overflows.
  static func sum(_ sizes: [Int?]) -> Int? {
    var total = 0
    for s in sizes {
      guard let s, let t = add(total, s) else { return nil }
      total = t
    }
    return total
  }

  /// Product of the dimensions (1 for a scalar); `nil` on overflow or a negative dimension.
  static func elementCount(_ shape: [Int]) -> Int? {
    guard shape.allSatisfy({ $0 >= 0 }) else { return nil }
    // An empty axis makes the array empty whatever the other axes say, even huge ones.
    if shape.contains(0) { return 0 }
    var n = 1
    for d in shape {
      guard let m = multiply(n, d) else { return nil }
      n = m
    }
    return n
  }

  /// Bytes of an array of `shape` with elements of `elementSize` bytes; `nil` on overflow.
  static func byteCount(_ shape: [Int], elementSize: Int) -> Int? {
    elementCount(shape).flatMap { multiply($0, elementSize) }
  }
}
