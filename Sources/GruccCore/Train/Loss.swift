// The training losses, each with its derivative with respect to the model's output: the seed of
// backpropagation. Padded steps of variable-length sequences count for nothing.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

public enum Loss: String, Sendable, CaseIterable {
  /// Seed 001's quadratic loss: Σ ½ (o − y)² over every value, divided by the batch size B.
  case quadratic
  /// Mean squared error: Σ (o − y)² divided by the number of values.
  case mse
  /// Binary cross-entropy of probabilities o ∈ (0, 1): −Σ [y log o + (1 − y) log(1 − o)] divided
  /// by the number of values. o is clamped to [1e-12, 1 − 1e-12] so a saturated output stays finite.
  case bce
  /// Categorical cross-entropy of a probability vector o per example (per step of a sequence):
  /// −Σ y log o divided by the number of vectors; o clamped below at 1e-12.
  case cce

  static let floor = 1e-12

  /// The loss of one output against its target (same shape: `[B, F]`, or `[B, T, F]` in
  /// batch-major order) and ∂loss/∂output for every value. With lengths, the steps at or past
  /// a sequence's length are left out: they add nothing and their derivative is zero.
  public func evaluate(output: ArrayValue, target: ArrayValue, lengths: [Int]?) -> (value: Double, gradient: [Double]) {
    let shape = output.shape
    let batch = shape.first ?? 1
    let features = shape.last ?? 1
    let steps = shape.count == 3 ? shape[1] : 1
    // Which values count: all, or the valid steps of each sequence.
    var valid = [Bool](repeating: true, count: output.values.count)
    if let lengths, shape.count == 3 {
      for b in 0..<batch {
        for t in 0..<steps where t >= lengths[b] {
          for f in 0..<features { valid[(b * steps + t) * features + f] = false }
        }
      }
    }
    let counted = valid.lazy.filter { $0 }.count
    var gradient = [Double](repeating: 0, count: output.values.count)
    guard counted > 0 else { return (0, gradient) }
    var sum = 0.0
    let o = output.values
    let y = target.values
    switch self {
    case .quadratic, .mse:
      let scale = self == .quadratic ? 1 / Double(batch) : 1 / Double(counted)
      for i in o.indices where valid[i] {
        let d = o[i] - y[i]
        sum += self == .quadratic ? 0.5 * d * d : d * d
        gradient[i] = (self == .quadratic ? d : 2 * d) * scale
      }
      return (sum * scale, gradient)
    case .bce:
      let scale = 1 / Double(counted)
      for i in o.indices where valid[i] {
        let p = min(max(o[i], Loss.floor), 1 - Loss.floor)
        sum -= y[i] * log(p) + (1 - y[i]) * log(1 - p)
        // Inside the clamp the derivative is the formula's; outside it the loss is flat.
        gradient[i] = o[i] == p ? (p - y[i]) / (p * (1 - p)) * scale : 0
      }
      return (sum * scale, gradient)
    case .cce:
      let scale = 1 / Double(counted / features)
      for i in o.indices where valid[i] {
        let p = max(o[i], Loss.floor)
        sum -= y[i] * log(p)
        gradient[i] = o[i] == p ? -y[i] / p * scale : 0
      }
      return (sum * scale, gradient)
    }
  }
}
