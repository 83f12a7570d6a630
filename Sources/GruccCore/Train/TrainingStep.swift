// One update of the weights on a batch, whoever computes it: the interpreter (a LossGradient and
// an Optimizer in Swift) or the compiled C step (CompiledTrainStep). Trainer's loop drives either
// through this protocol, reading the weights and the optimiser's state only when it needs them
// (evaluations, checkpoints, the end).

public protocol TrainingStepBackend {
  /// One update on `batch` (step `number`, for messages); the batch's loss before the update.
  /// Throws a TrainingError when the loss, a gradient or a new weight is not finite.
  mutating func step(_ batch: TrainingBatch, number: Int) throws -> Double
  /// The weights, flattened in module order.
  var parameters: [Double] { get }
  var optimizerState: OptimizerState { get }
  /// Continues from a checkpoint's weights and optimiser state.
  mutating func restore(parameters: [Double], optimizer: OptimizerState) throws
  /// The loss of the current weights on `batch` (forward only): the reports' full losses.
  func fullLoss(_ batch: TrainingBatch, loss: Loss) throws -> Double
}

extension TrainingError {
  static func lossNotFinite(_ step: Int) -> TrainingError {
    TrainingError("the loss or its gradient is not finite at step \(step); try a smaller learning rate")
  }

  static func weightNotFinite(_ step: Int) -> TrainingError {
    TrainingError("a weight is no longer finite after step \(step); try a smaller learning rate")
  }
}

/// The interpreter's step: the gradient from a LossGradient, the update by an Optimizer, both
/// on Swift arrays; f32 weights rounded to Float after each update.
struct InterpreterStep: TrainingStepBackend {
  private var module: Module
  private var optimizer: any Optimizer
  let gradient: any LossGradient
  let loss: Loss
  private(set) var parameters: [Double]

  init(_ module: Module, optimizer: any Optimizer, gradient: any LossGradient, loss: Loss) {
    self.module = module
    self.optimizer = optimizer
    self.gradient = gradient
    self.loss = loss
    parameters = module.parameters.flatMap(\.values)
  }

  var optimizerState: OptimizerState { optimizer.state }

  mutating func step(_ batch: TrainingBatch, number step: Int) throws -> Double {
    let (batchLoss, gradients) = try gradient.evaluate(module, batch: batch, loss: loss)
    let flat = try Self.flatten(gradients, of: module)
    guard batchLoss.isFinite, flat.allSatisfy(\.isFinite) else { throw TrainingError.lossNotFinite(step) }
    optimizer.step(&parameters, gradients: flat)
    if module.precision == .f32 { parameters = parameters.map { Double(Float($0)) } }
    guard parameters.allSatisfy(\.isFinite) else { throw TrainingError.weightNotFinite(step) }
    module = module.settingValues(parameters)
    return batchLoss
  }

  func fullLoss(_ batch: TrainingBatch, loss: Loss) throws -> Double {
    try ForwardLoss.value(module, batch: batch, loss: loss)
  }

  mutating func restore(parameters: [Double], optimizer state: OptimizerState) throws {
    guard optimizer.restore(state) else { throw TrainingError("the run to resume used another optimizer") }
    self.parameters = parameters
    module = module.settingValues(parameters)
  }

  /// The gradients in module order, checked against the LossGradient contract.
  static func flatten(_ gradients: [String: [Double]], of module: Module) throws -> [Double] {
    var flat: [Double] = []
    for p in module.parameters {
      guard let g = gradients[p.name] else { throw TrainingError("internal: the gradient has no entry for '\(p.name)'") }
      guard g.count == p.count else {
        throw TrainingError("internal: the gradient of '\(p.name)' has \(g.count) values, the parameter \(p.count)")
      }
      flat += g
    }
    return flat
  }
}
