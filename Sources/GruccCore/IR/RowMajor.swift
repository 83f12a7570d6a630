// Row-major array arithmetic shared by everything that holds values: constant folding of
// parameters and the interpreter's tensors.

enum RowMajor {
  /// Joins row-major arrays along `axis`; their shapes must agree on every other axis.
  static func concatenate<T>(_ parts: [(shape: [Int], values: [T])], axis: Int) -> (shape: [Int], values: [T]) {
    var shape = parts[0].shape
    shape[axis] = parts.map { $0.shape[axis] }.reduce(0, +)
    let outer = shape[..<axis].reduce(1, *)
    var values: [T] = []
    values.reserveCapacity(shape.reduce(1, *))
    for o in 0..<outer {
      for p in parts {
        let inner = p.shape[axis...].reduce(1, *)
        values += p.values[(o * inner)..<((o + 1) * inner)]
      }
    }
    return (shape, values)
  }
}
