// `grucc train`: reads the model (lowered through lower-dense, with its weights from its file or
// init rules, or a checkpoint's) and the examples, trains with the LossGradient it is given,
// reports the losses as it goes, and writes the trained weights (and the loss plot and the
// checkpoint) atomically, only on success; checkpoints also at every report on the way.

import Foundation

extension Driver {
  mutating func train(_ options: TrainOptions, gradient: any LossGradient) throws(DriverError) {
    let front = try frontEnd(options.model)
    guard let model = front.model else { throw .reported }
    try refuseUntrainable(front)
    guard let weightsPath = trainedWeightsPath(options, model: model) else { throw .trainNeedsOutput }
    for path in [options.data, options.valid].compactMap({ $0 }) where samePath(path, weightsPath) {
      throw .overwrites(weightsPath, what: "the data file")
    }
    try checkCheckpointPath(options, weights: weightsPath)
    var start = front
    // A checkpoint brings its own weights: the model's file need not exist (nor its values be read).
    if options.fromInit || options.resume != nil { start.model?.weights = nil }
    let module = try optimise(start, through: "lower-dense")
    let interface = TrainingFiles.Interface(module)
    let training = try examples(options.data, interface)
    var validation: TrainingBatch?
    if let path = options.valid {
      let v = try examples(path, interface)
      guard Set(v.targets.keys) == Set(training.targets.keys) else {
        throw .targetsDiffer(path, valid: v.targets.keys.sorted(), training: training.targets.keys.sorted())
      }
      validation = v
    }

    let rate = options.learningRate ?? options.optimizer.defaultLearningRate
    let optimizer: any Optimizer = options.optimizer == .adam
      ? Adam(learningRate: rate) : SGD(learningRate: rate, momentum: options.momentum ?? 0)
    let settings = CheckpointFile.Settings(
      loss: options.loss, optimizer: options.optimizer, learningRate: rate,
      momentum: options.optimizer == .sgd ? options.momentum ?? 0 : nil, batch: options.batch, seed: options.seed)
    var resumed: TrainingState?
    if let path = options.resume {
      resumed = try resumeState(
        path, of: module, settings: settings, steps: options.steps, batch: options.batch, examples: training.exampleCount)
    }
    var trainer = Trainer(
      options: TrainingOptions(
        loss: options.loss, steps: options.steps, batchSize: options.batch, seed: options.seed, every: options.every),
      optimizer: optimizer, gradient: gradient)
    trainer.compiledStep = compiledStep(options, module, optimizer: optimizer, gradient: gradient)
    let result: TrainingResult
    do {
      var reporter = ProgressReporter(total: options.steps, start: resumed?.step ?? 0, output: progress)
      defer { reporter.finish() }
      func report(_ event: TrainingEvent) { if let line = reporter.handle(event) { self.stdout += line } }
      // A resumed run starts with the checkpoint's last report.
      if let last = resumed?.history.last { report(.evaluated(last)) }
      result = try trainer.train(
        module, training: training, validation: validation, resuming: resumed, progress: report,
        checkpoint: { state in
          // At every report but the last, alone; the last goes with the other outputs below.
          guard let path = options.checkpoint, state.step < options.steps else { return }
          try self.write([(path, CheckpointFile.encode(state, of: module, settings: settings))], input: options.model)
        })
    } catch let error as DriverError {
      throw error
    } catch {
      throw .training("\(error)")
    }

    var files = [(path: weightsPath, bytes: Safetensors.write(Self.tensors(of: result.module), metadata: [("format", "grucc")]))]
    if let plot = options.plot {
      let title = "\(module.name): \(options.loss.rawValue) loss, \(options.optimizer.rawValue), lr \(rate)"
      files.append((plot, Array(LossPlot.svg(result.history, batchLosses: result.batchLosses, title: title).utf8)))
    }
    if let path = options.checkpoint {
      files.append((path, CheckpointFile.encode(result.state, of: module, settings: settings)))
    }
    try write(files, input: options.model)
    stdout += files.map { "wrote \($0.path)\n" }.joined()
  }

  /// The whole step compiled (CTrainStep) when asked (the default) and the driver's gradient is
  /// the interpreter's Autodiff (a test may pass another); nil, said once on stderr, when the C
  /// cannot be compiled or loaded here: the interpreter trains instead.
  private mutating func compiledStep(
    _ options: TrainOptions, _ module: Module, optimizer: any Optimizer, gradient: any LossGradient
  ) -> CompiledTrainStep? {
    guard options.backend == .compiled, gradient is Autodiff, let rule = TrainStepOptimizer(optimizer) else { return nil }
    switch TrainingCompiler.find() {
    case .failure(let error):
      stderr += "grucc train: no working C compiler (\(error.message)); training in the interpreter\n"
      return nil
    case .success(let compiler):
      do throws(CompiledGradientError) {
        return try CompiledTrainStep.build(module, loss: options.loss, optimizer: rule, compiler: compiler)
      } catch {
        stderr += "grucc train: the compiled backend failed (\(error.message)); training in the interpreter\n"
        return nil
      }
    }
  }

  /// `grucc train` (and `--emit gradient-ir`) has no gradient for conv1d, batchnorm or layernorm yet: refused at its line.
  mutating func refuseUntrainable(_ front: FrontEnd) throws(DriverError) {
    let sequence = front.model?.sequenceLayers.first.map { ($0.name, $0.kind.keyword, $0.range) }
    guard let layer = sequence ?? front.model?.norms.first.map({ ($0.name, $0.kind.keyword, $0.range) }) else { return }
    var diagnostics = DiagnosticEngine()
    diagnostics.error(.notTrainable(layer.0, statement: layer.1), at: layer.2)
    report(diagnostics, source: front.source)
    throw .reported
  }

  /// `-o`, or the model's own weights file when writing grucc's names there keeps it loadable.
  private func trainedWeightsPath(_ options: TrainOptions, model: Model) -> String? {
    if let output = options.output { return output }
    guard let spec = model.weights, spec.format == .grucc, spec.maps.isEmpty, spec.path.hasSuffix(".safetensors") else {
      return nil
    }
    return spec.path.hasPrefix("/") ? spec.path : directory(of: options.model) + spec.path
  }

  private func examples(_ path: String, _ interface: TrainingFiles.Interface) throws(DriverError) -> TrainingBatch {
    let bytes = try read(path)
    let members: [(String?, ArrayValue)]
    do throws(FormatError) {
      members = try DataFiles.read(bytes, path: path, budget: budget)
    } catch {
      throw .invalidFile(path, reason: error.message)
    }
    switch TrainingFiles.batch(members, path: path, interface: interface) {
    case .success(let batch): return batch
    case .failure(let error): throw .training(error.message)
    }
  }
}
