// The contract between training and differentiation. Training (Trainer) asks a LossGradient for
// the loss of a batch and its gradient; reverse-mode differentiation of the IR (Autodiff) and
// finite differences (the reference in the gradient tests) both provide one.

/// One batch of examples: the model's inputs by name (the sequence input, its lengths, initial
/// states), as `grucc run` takes them, and a target for each trained output, by output name.
public struct TrainingBatch: Sendable {
  public var inputs: [String: ArrayValue]
  public var targets: [String: ArrayValue]

  public init(inputs: [String: ArrayValue], targets: [String: ArrayValue]) {
    self.inputs = inputs
    self.targets = targets
  }
}

/// The loss of a batch and its gradient with respect to the module's parameters.
///
/// `module` is a model lowered through `lower-dense` (PassPipeline.standard prefixed there): its
/// parameters are the model's own tensors in grucc's names (`h.w_r`, `y.w`, ...). The gradient
/// has an entry for every parameter, with as many values as the parameter.
public protocol LossGradient: Sendable {
  func evaluate(_ module: Module, batch: TrainingBatch, loss: Loss) throws -> (loss: Double, gradients: [String: [Double]])
}
