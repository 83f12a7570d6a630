// The training loop: mini-batches, one update each by a TrainingStepBackend (the interpreter's
// LossGradient and Optimizer, or the compiled C step), and the full training and validation
// losses every few steps. Deterministic: the only randomness is the
// batch order, drawn from Xoshiro256(seed), so the same inputs give bit-identical weights, and a
// run resumed from a TrainingState gives the weights of the run that never stopped.

/// What a training run is asked to do.
public struct TrainingOptions: Sendable {
  public var loss: Loss
  /// The last step: when resuming, the total, counting the steps before the checkpoint.
  public var steps: Int
  /// Examples per step; nil (or more than the set holds) means the whole set every step.
  public var batchSize: Int?
  public var seed: UInt64
  /// Report the full losses every this many steps (and before the first and after the last);
  /// nil means max(1, steps / 20).
  public var every: Int?

  public init(loss: Loss, steps: Int, batchSize: Int? = nil, seed: UInt64 = 0, every: Int? = nil) {
    self.loss = loss
    self.steps = steps
    self.batchSize = batchSize
    self.seed = seed
    self.every = every
  }

  public var reportInterval: Int { every ?? max(1, steps / 20) }
}

/// The losses at one step: on the whole training set and, if there is one, the validation set.
/// Step 0 is the model before any update.
public struct LossRecord: Sendable, Equatable {
  public var step: Int
  public var train: Double
  public var valid: Double?

  public init(step: Int, train: Double, valid: Double? = nil) {
    self.step = step
    self.train = train
    self.valid = valid
  }
}

/// What the progress callback hears: every step's mini-batch loss, and each full evaluation.
public enum TrainingEvent: Sendable {
  case step(Int, batchLoss: Double)
  case evaluated(LossRecord)
}

/// A run after `step` updates, all a later run needs to continue it bit for bit (a checkpoint).
public struct TrainingState: Sendable, Equatable {
  public var step: Int
  /// The weights, flattened in module order.
  public var parameters: [Double]
  public var optimizer: OptimizerState
  var sampler: BatchSampler.State
  /// The evaluations so far, so a plot after a resume shows the whole run.
  public var history: [LossRecord]
  /// Each step's mini-batch loss: `batchLosses[i]` is step i + 1's.
  public var batchLosses: [Double]
}

public struct TrainingResult: Sendable {
  public var module: Module
  public var history: [LossRecord]
  /// Each step's mini-batch loss, from step 1 (of the whole run, when resumed).
  public var batchLosses: [Double]
  /// Where the run ended, for a checkpoint to continue from.
  public var state: TrainingState
}

public struct Trainer: Sendable {
  /// The gradient `grucc train` uses: reverse-mode differentiation of the IR. (FiniteDifferences
  /// gives the same numbers, far more slowly; the gradient tests compare the two.)
  public static let defaultGradient: any LossGradient = Autodiff()

  public var options: TrainingOptions
  public var optimizer: any Optimizer
  public var gradient: any LossGradient
  /// The whole step in compiled C (grucc train's default); nil: `gradient` and `optimizer` in
  /// Swift. It must be built for this run's loss and optimizer.
  public var compiledStep: CompiledTrainStep?

  public init(options: TrainingOptions, optimizer: any Optimizer, gradient: any LossGradient = Trainer.defaultGradient) {
    self.options = options
    self.optimizer = optimizer
    self.gradient = gradient
  }

  /// Trains `module` (lowered through `lower-dense`, as LossGradient requires) on `training`.
  /// Parameters of an f32 model are rounded to Float after every update, so the weights are
  /// always ones the model can hold.
  public func train(
    _ module: Module, training: TrainingBatch, validation: TrainingBatch? = nil,
    progress: (TrainingEvent) -> Void = { _ in }
  ) throws -> TrainingResult {
    try train(module, training: training, validation: validation, resuming: nil, progress: progress, checkpoint: { _ in })
  }

  /// As above, continuing from `start` (whose weights replace the module's) when there is one,
  /// and handing `checkpoint` the state after every evaluation but the first.
  public func train(
    _ module: Module, training: TrainingBatch, validation: TrainingBatch?, resuming start: TrainingState?,
    progress: (TrainingEvent) -> Void, checkpoint: (TrainingState) throws -> Void
  ) throws -> TrainingResult {
    let count = training.exampleCount
    guard count > 0 else { throw TrainingError("the training set has no examples") }
    guard options.steps > 0 else { throw TrainingError("the number of steps must be at least 1") }
    var backend = try makeBackend(module)
    var sampler = BatchSampler(count: count, batchSize: options.batchSize ?? count, seed: options.seed)
    var history: [LossRecord] = []
    var batchLosses: [Double] = []

    func evaluate(_ step: Int) throws {
      let train = try backend.fullLoss(training, loss: options.loss)
      let valid = try validation.map { try backend.fullLoss($0, loss: options.loss) }
      guard train.isFinite, valid?.isFinite ?? true else {
        throw TrainingError("the loss is no longer finite after step \(step); try a smaller learning rate")
      }
      let record = LossRecord(step: step, train: train, valid: valid)
      history.append(record)
      progress(.evaluated(record))
    }
    func state(_ step: Int) -> TrainingState {
      TrainingState(
        step: step, parameters: backend.parameters, optimizer: backend.optimizerState, sampler: sampler.state,
        history: history, batchLosses: batchLosses)
    }

    var first = 1
    if let start {
      let parameterCount = module.parameters.reduce(0) { $0 + $1.count }
      try resume(from: start, exampleCount: count, parameterCount: parameterCount, backend: &backend, sampler: &sampler)
      (history, batchLosses, first) = (start.history, start.batchLosses, start.step + 1)
    } else {
      try evaluate(0)
    }
    for step in first...options.steps {
      let indices = sampler.next()
      let batch = sampler.isWholeSet ? training : training.examples(indices)
      let batchLoss = try backend.step(batch, number: step)
      batchLosses.append(batchLoss)
      progress(.step(step, batchLoss: batchLoss))
      if step % options.reportInterval == 0 || step == options.steps {
        try evaluate(step)
        try checkpoint(state(step))
      }
    }
    // The weights become a module only here: the backend keeps them between reports.
    return TrainingResult(module: module.settingValues(backend.parameters), history: history, batchLosses: batchLosses, state: state(options.steps))
  }

  /// The compiled step when there is one (checked to be for this loss and optimiser), else
  /// the interpreter's.
  private func makeBackend(_ module: Module) throws -> any TrainingStepBackend {
    guard let compiledStep else {
      return InterpreterStep(module, optimizer: optimizer, gradient: gradient, loss: options.loss)
    }
    guard compiledStep.configuration.loss == options.loss, TrainStepOptimizer(optimizer) == compiledStep.configuration.optimizer,
      compiledStep.layout.parameterCount == module.parameters.reduce(0, { $0 + $1.count })
    else { throw TrainingError("internal: the compiled step was built for another loss, optimizer or model") }
    let rate = (optimizer as? Adam)?.learningRate ?? (optimizer as? SGD)?.learningRate ?? 0
    return CompiledStepRun(compiledStep, parameters: module.parameters.flatMap(\.values), learningRate: rate)
  }

  /// Puts the backend and the sampler where `start` left them, after checking it fits this run
  /// (the Driver checks a checkpoint file first, with the file's name in its messages).
  private func resume(
    from start: TrainingState, exampleCount: Int, parameterCount: Int, backend: inout any TrainingStepBackend,
    sampler: inout BatchSampler
  ) throws {
    guard start.step < options.steps else {
      throw TrainingError("the run to resume is at step \(start.step) already: ask for more steps than that")
    }
    guard start.parameters.count == parameterCount, [0, parameterCount].contains(start.optimizer.length),
      start.batchLosses.count == start.step
    else { throw TrainingError("the run to resume is not one of this model") }
    try backend.restore(parameters: start.parameters, optimizer: start.optimizer)
    guard
      let restored = BatchSampler(
        count: exampleCount, batchSize: options.batchSize ?? exampleCount, state: start.sampler)
    else { throw TrainingError("the run to resume drew its batches from another number of examples") }
    sampler = restored
  }
}

extension Module {
  /// The module with its parameters set from `flat`, in module order.
  func settingValues(_ flat: [Double]) -> Module {
    var m = self
    var offset = 0
    for i in m.parameters.indices {
      let n = m.parameters[i].count
      m.parameters[i].values = Array(flat[offset..<(offset + n)])
      offset += n
    }
    return m
  }
}
