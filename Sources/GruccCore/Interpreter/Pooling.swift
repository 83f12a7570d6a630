// pad and pool over time (LANGUAGE.md, "pad", "pool"): the interpreter's kernels, which the C
// follows step for step (CConv.swift), so the two agree bit for bit.

extension Kernels {
  /// x `[B, T, C]` with `before` zero steps in front and `after` behind: `[B, T + before + after, C]`.
  static func pad<S: InterpreterScalar>(
    _ x: [S], batch: Int, steps: Int, channels: Int, before: Int, after: Int
  ) -> [S] {
    let out = steps + before + after
    var y = [S](repeating: 0, count: batch * out * channels)
    for b in 0..<batch {
      for t in 0..<steps {
        for c in 0..<channels { y[(b * out + t + before) * channels + c] = x[(b * steps + t) * channels + c] }
      }
    }
    return y
  }

  /// The average or max over each window of `size` steps, `stride` apart. Steps outside the
  /// sequence (`same` padding) are left out: an average divides by the steps it summed (Keras's and
  /// TensorFlow's rule), a max ignores them. The sum runs from the window's first step up.
  static func pool<S: InterpreterScalar>(_ x: [S], batch: Int, steps: Int, channels: Int, _ p: Pool1DLayer) -> [S] {
    let out = p.outputSteps(steps)
    let before = p.padBefore(steps)
    var y = [S](repeating: 0, count: batch * out * channels)
    for b in 0..<batch {
      for t in 0..<out {
        for c in 0..<channels {
          var acc: S = 0
          var count = 0
          for j in 0..<p.size {
            let s = t * p.stride + j - before
            guard s >= 0, s < steps else { continue }
            let v = x[(b * steps + s) * channels + c]
            switch p.kind {
            case .average: acc += v
            case .max: if count == 0 || v > acc { acc = v }
            }
            count += 1
          }
          if p.kind == .average && count > 0 { acc /= S(count) }
          y[(b * out + t) * channels + c] = acc
        }
      }
    }
    return y
  }
}
