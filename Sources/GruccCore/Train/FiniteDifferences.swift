// Gradients by central differences: the reference the gradient tests hold Autodiff to. Each
// parameter value is nudged by ±h and the model run forward twice, so a step costs two forward
// passes per parameter: right for tiny models and tests, far too slow for real training.

/// ∂loss/∂w ≈ (L(w + h) − L(w − h)) / 2h for every parameter value w, with h = ε·max(1, |w|).
///
/// The probes run in f64 whatever the model's precision: in Float, a step of 1e-6 would be lost
/// to rounding (Float's ulp at 1 is 1.2e-7), so an f32 model's gradient is that of the same
/// function computed in Double. The loss returned is the model's own, in its precision.
public struct FiniteDifferences: LossGradient {
  /// The relative step; 1e-6 balances the O(h²) truncation error against rounding (~1e-16/h).
  public var epsilon: Double

  public init(epsilon: Double = 1e-6) { self.epsilon = epsilon }

  public func evaluate(
    _ module: Module, batch: TrainingBatch, loss: Loss
  ) throws -> (loss: Double, gradients: [String: [Double]]) {
    let value = try ForwardLoss.value(module, batch: batch, loss: loss)
    var probe = module
    probe.precision = .f64
    var gradients: [String: [Double]] = [:]
    for (i, parameter) in module.parameters.enumerated() {
      var gradient = [Double](repeating: 0, count: parameter.count)
      for j in parameter.values.indices {
        let w = parameter.values[j]
        let h = epsilon * max(1, abs(w))
        let (up, down) = (w + h, w - h)
        probe.parameters[i].values[j] = up
        let lossUp = try ForwardLoss.value(probe, batch: batch, loss: loss)
        probe.parameters[i].values[j] = down
        let lossDown = try ForwardLoss.value(probe, batch: batch, loss: loss)
        probe.parameters[i].values[j] = w
        // Divide by the step actually taken: w ± h are rounded to Double.
        gradient[j] = (lossUp - lossDown) / (up - down)
      }
      gradients[parameter.name] = gradient
    }
    return (value, gradients)
  }
}
