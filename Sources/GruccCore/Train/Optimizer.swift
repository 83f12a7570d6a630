// The optimizers: how a gradient becomes a change of the weights. Value types whose state (Adam's
// moments, SGD's velocity) travels with them, over all parameters flattened in module order.

/// One update rule. `step` moves `parameters` against `gradients` (same length, same order) and
/// advances the optimizer's own state; the first call sizes that state.
public protocol Optimizer: Sendable {
  mutating func step(_ parameters: inout [Double], gradients: [Double])
  /// Everything `step` keeps between calls, exactly, so a checkpoint can carry it.
  var state: OptimizerState { get }
  /// Continues from a saved state; false (and nothing changed) if it is another optimizer's.
  mutating func restore(_ state: OptimizerState) -> Bool
}

/// An optimizer's state between steps, as a checkpoint holds it. The vectors are empty before
/// the first step, else one value per parameter in module order.
public enum OptimizerState: Sendable, Equatable {
  case adam(steps: Int, m: [Double], v: [Double], beta1Power: Double, beta2Power: Double)
  case sgd(velocity: [Double])

  /// The length every vector has (they agree by construction).
  public var length: Int {
    switch self {
    case .adam(_, let m, _, _, _): m.count
    case .sgd(let velocity): velocity.count
    }
  }
}

/// Adam (Kingma and Ba 2015), bias-corrected, in PyTorch's form:
///
///     m ← β1·m + (1 − β1)·g          m̂ = m / (1 − β1^t)
///     v ← β2·v + (1 − β2)·g²         v̂ = v / (1 − β2^t)
///     p ← p − lr · m̂ / (√v̂ + ε)
///
/// TF1's `tf.train.AdamOptimizer` (which seed 001 trains with) folds the corrections into the
/// step size instead: lr_t = lr·√(1 − β2^t)/(1 − β1^t), p ← p − lr_t · m / (√v + ε̂). That is the
/// same update with ε̂ = ε·√(1 − β2^t): the two differ only in how ε scales, which matters only
/// while √v̂ is as small as ε (gradients near 1e-8). Same defaults as both: lr 0.001, β1 0.9,
/// β2 0.999, ε 1e-8.
public struct Adam: Optimizer {
  public var learningRate: Double
  public var beta1: Double
  public var beta2: Double
  public var epsilon: Double
  /// Steps taken so far (t of the bias corrections).
  public private(set) var steps = 0
  private var m: [Double] = []
  private var v: [Double] = []
  // β^t kept as running products, as TF1 keeps them: exact steps, no pow().
  private var beta1Power = 1.0
  private var beta2Power = 1.0

  public init(learningRate: Double = 0.001, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8) {
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
  }

  public mutating func step(_ parameters: inout [Double], gradients: [Double]) {
    if m.count != parameters.count {
      m = [Double](repeating: 0, count: parameters.count)
      v = m
    }
    steps += 1
    beta1Power *= beta1
    beta2Power *= beta2
    let (c1, c2) = (1 - beta1Power, 1 - beta2Power)
    for i in parameters.indices {
      let g = gradients[i]
      m[i] = beta1 * m[i] + (1 - beta1) * g
      v[i] = beta2 * v[i] + (1 - beta2) * g * g
      let mHat = m[i] / c1
      let vHat = v[i] / c2
      parameters[i] -= learningRate * mHat / (vHat.squareRoot() + epsilon)
    }
  }

  // The running products are saved as they are, not recomputed as β^t: pow() need not give the
  // same bits as t multiplications, and a resumed run must.
  public var state: OptimizerState {
    .adam(steps: steps, m: m, v: v, beta1Power: beta1Power, beta2Power: beta2Power)
  }

  public mutating func restore(_ state: OptimizerState) -> Bool {
    guard case .adam(let steps, let m, let v, let beta1Power, let beta2Power) = state, m.count == v.count else { return false }
    (self.steps, self.m, self.v, self.beta1Power, self.beta2Power) = (steps, m, v, beta1Power, beta2Power)
    return true
  }
}

/// Stochastic gradient descent, with optional momentum in PyTorch's form:
/// b ← μ·b + g, p ← p − lr·b (μ = 0: plain p ← p − lr·g).
public struct SGD: Optimizer {
  public var learningRate: Double
  public var momentum: Double
  private var velocity: [Double] = []

  public init(learningRate: Double = 0.01, momentum: Double = 0) {
    self.learningRate = learningRate
    self.momentum = momentum
  }

  public mutating func step(_ parameters: inout [Double], gradients: [Double]) {
    if velocity.count != parameters.count { velocity = [Double](repeating: 0, count: parameters.count) }
    for i in parameters.indices {
      velocity[i] = momentum * velocity[i] + gradients[i]
      parameters[i] -= learningRate * velocity[i]
    }
  }

  public var state: OptimizerState { .sgd(velocity: velocity) }

  public mutating func restore(_ state: OptimizerState) -> Bool {
    guard case .sgd(let velocity) = state else { return false }
    self.velocity = velocity
    return true
  }
}
