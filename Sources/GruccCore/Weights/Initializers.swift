// Fills parameter tensors from `init` rules: the last rule whose pattern matches a tensor's name
// decides its distribution; tensors no rule matches get PyTorch's default, fan-in uniform.

public enum Initializers {
  /// Whether a glob pattern (`*` matches any run of characters, dots included) matches a name.
  public static func matches(_ pattern: String, _ name: String) -> Bool {
    let p = Array(pattern.utf8)
    let n = Array(name.utf8)
    // Iterative glob matching with one backtracking point per star: linear in practice.
    var (i, j) = (0, 0)
    var star = -1
    var mark = 0
    while j < n.count {
      if i < p.count && p[i] != UInt8(ascii: "*") && p[i] == n[j] {
        i += 1
        j += 1
      } else if i < p.count && p[i] == UInt8(ascii: "*") {
        star = i
        mark = j
        i += 1
      } else if star >= 0 {
        i = star + 1
        mark += 1
        j = mark
      } else {
        return false
      }
    }
    while i < p.count && p[i] == UInt8(ascii: "*") { i += 1 }
    return i == p.count
  }

  /// The rule deciding a tensor's initial values (the last match), if any.
  public static func rule(for name: String, in rules: [InitRule]) -> InitRule? {
    rules.last { rule in rule.patterns.contains { matches($0, name) } }
  }

  public enum InitError: Error {
    case orthogonalNeedsMatrix
  }

  /// Throws what `values` would, without making them.
  public static func validate(_ spec: ParameterSpec, distribution: Distribution) throws(InitError) {
    if case .orthogonal = distribution, spec.shape.count < 2 { throw .orthogonalNeedsMatrix }
  }

  /// The initial values of one tensor.
  public static func values(
    for spec: ParameterSpec, distribution: Distribution, seed: UInt64
  ) throws(InitError) -> [Double] {
    try validate(spec, distribution: distribution)
    var rng = Xoshiro256(seed: seed, stream: spec.name)
    let count = spec.shape.reduce(1, *)
    switch distribution {
    case .normal(let mean, let std):
      return (0..<count).map { _ in mean + std * rng.normal() }
    case .truncatedNormal(let mean, let std):
      return (0..<count).map { _ in
        var z = rng.normal()
        while abs(z) > 2 { z = rng.normal() }
        return mean + std * z
      }
    case .uniform(let low, let high):
      return (0..<count).map { _ in low + (high - low) * rng.uniform() }
    case .fanInUniform:
      let k = 1 / Double(spec.fanIn).squareRoot()
      return (0..<count).map { _ in -k + 2 * k * rng.uniform() }
    case .constant(let v):
      return Array(repeating: v, count: count)
    case .orthogonal(let gain):
      guard spec.shape.count >= 2 else { throw .orthogonalNeedsMatrix }
      let rows = spec.shape[spec.shape.count - 2]
      let cols = spec.shape[spec.shape.count - 1]
      var out: [Double] = []
      for _ in 0..<(count / (rows * cols)) { out += orthogonal(rows: rows, cols: cols, rng: &rng).map { $0 * gain } }
      return out
    }
  }

  /// A random matrix with orthonormal rows or columns (whichever are fewer), row-major: the Q of a
  /// QR factorisation of a standard normal matrix, with R's diagonal made positive.
  static func orthogonal(rows: Int, cols: Int, rng: inout Xoshiro256) -> [Double] {
    let (m, n) = (max(rows, cols), min(rows, cols))
    // Columns of an m×n normal matrix, orthonormalised by modified Gram–Schmidt, twice for stability.
    var q: [[Double]] = (0..<n).map { _ in (0..<m).map { _ in rng.normal() } }
    for j in 0..<n {
      for _ in 0..<2 {
        for k in 0..<j {
          var dot = 0.0
          for i in 0..<m { dot += q[k][i] * q[j][i] }
          for i in 0..<m { q[j][i] -= dot * q[k][i] }
        }
      }
      var norm = 0.0
      for i in 0..<m { norm += q[j][i] * q[j][i] }
      norm = norm.squareRoot()
      for i in 0..<m { q[j][i] /= norm }
    }
    var out = Array(repeating: 0.0, count: rows * cols)
    for r in 0..<rows {
      for c in 0..<cols {
        // q holds n columns of length m; a wide matrix is the transpose of a tall one.
        out[r * cols + c] = rows >= cols ? q[c][r] : q[r][c]
      }
    }
    return out
  }
}
