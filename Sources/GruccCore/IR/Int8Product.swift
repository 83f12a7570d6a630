// `weights-storage int8`: the arithmetic of a product with int8 weights, shared by PackWeights
// (which quantises the matrices), the interpreter (which computes the products) and the C
// emitter (whose kernel does the same operations in the same order), so the C equals the
// interpreter bit for bit.
//
// Weights: symmetric, one scale per output row: s_w = max|w_row| / 127 (f32), q = w / s_w (f32)
// rounded half to even, within ±127. Activations: the input vector of each product, per row of a
// batch and per step, with one scale: s_v = max|v| / Q, q = v · (Q / max|v|) rounded half to even.
// The sums are int32 and exact (so any order gives the same sum); then y = f32(acc) · s_w · s_v,
// left to right, plus the bias. Rounding is `(x + 1.5 · 2^23) - 1.5 · 2^23` in f32: round half
// to even for |x| < 2^22 under the default rounding mode, cheap and vectorisable in C (lrintf is a
// library call for gcc without -fno-math-errno), and the same operations in Swift.

enum Int8Product {
  /// 1.5 · 2^23: adding it to an f32 of magnitude below 2^22 rounds it to an integer (ties to even).
  static let magic: Float = 12_582_912

  /// The C kernel's row groups: 16 int32 sums, one AVX-512 register.
  static let group = 16

  /// The largest activation level for a product over `k` inputs: 32767, or less when 127 · Q · k
  /// would not fit in an int32 (k > 516), so that no sum can overflow.
  static func levels(k: Int) -> Int {
    let pairs = (k + 1) / 2 * 2
    return min(32767, Int(Int32.max) / (127 * max(pairs, 1)))
  }

  static func round(_ x: Float) -> Float { (x + magic) - magic }

  /// The row's scale and its values as integers in -127...127.
  static func quantise(row: [Float]) -> (scale: Float, q: [Int8]) {
    var m: Float = 0
    for w in row { m = max(m, abs(w)) }
    guard m > 0 else { return (0, Array(repeating: 0, count: row.count)) }
    let scale = m / 127
    return (scale, row.map { Int8(max(-127, min(127, ($0 / scale).rounded(.toNearestOrEven)))) })
  }

  /// One vector's scale and levels, as the C kernel computes them.
  static func quantise(vector v: ArraySlice<Float>, levels: Int) -> (scale: Float, q: [Int32]) {
    var m: Float = 0
    for x in v {
      let a = abs(x)
      if a > m { m = a }
    }
    // A vector of zeros (or of values too small to scale) quantises to zeros.
    guard m > 1e-30 else { return (0, Array(repeating: 0, count: v.count)) }
    let l = Float(levels)
    let inverse = l / m
    let scale = m / l
    return (scale, v.map { Int32(round($0 * inverse)) })
  }

  /// y[r][n] = Σ_j w[n][j] v[r][j] as the C computes it: `x` is [rows, k], `q` row-major [n, k].
  static func product(
    _ x: [Float], rows: Int, k: Int, q: [Int8], scales: [Float], bias: [Float]?
  ) -> [Float] {
    let n = scales.count
    let levels = levels(k: k)
    var y = [Float](repeating: 0, count: rows * n)
    for r in 0..<rows {
      let (s, v) = quantise(vector: x[(r * k)..<((r + 1) * k)], levels: levels)
      for o in 0..<n {
        var acc: Int32 = 0
        for j in 0..<k { acc &+= Int32(q[o * k + j]) &* v[j] }
        let value = Float(acc) * scales[o] * s
        y[r * n + o] = bias.map { value + $0[o] } ?? value
      }
    }
    return y
  }
}
