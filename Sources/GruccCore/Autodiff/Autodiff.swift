// Training's gradients by reverse-mode differentiation: the forward pass in the interpreter,
// the loss and its derivative at the outputs, then the gradient graph (Differentiate) run on
// the same inputs with those derivatives as seeds.

public struct Autodiff: LossGradient {
  public init() {}

  /// The gradient graph of a lowered module, without what no gradient needs (the forward
  /// outputs themselves, unless `keepOutputs`: then they follow the gradients); build it once and
  /// reuse it for every batch. The verifier checks it after each step, as it checks the
  /// pipeline's passes: a failure is a bug in grucc.
  /// `saveProducts`: see Differentiate.
  public static func gradientModule(
    _ module: Module, keepOutputs: Bool = false, saveProducts: Bool = false
  ) throws(PipelineFailure) -> Module {
    var diagnostics = DiagnosticEngine()
    var current = module
    for pass in [Differentiate(keepOutputs: keepOutputs, saveProducts: saveProducts), DeadCodeElimination()] as [any Pass] {
      current = pass.run(current, diagnostics: &diagnostics)
      let errors = Verifier.verify(current, requireTypes: true)
      if !errors.isEmpty {
        throw .verifier(pass: pass.name, errors: errors, dump: IRPrinter.print(current))
      }
    }
    return current
  }

  public func evaluate(_ module: Module, batch: TrainingBatch, loss: Loss) throws -> (loss: Double, gradients: [String: [Double]]) {
    try Self.evaluate(module, gradientModule: try Self.gradientModule(module), batch: batch, loss: loss)
  }

  /// As `evaluate`, with the gradient graph already built.
  public static func evaluate(
    _ module: Module, gradientModule: Module, batch: TrainingBatch, loss: Loss
  ) throws -> (loss: Double, gradients: [String: [Double]]) {
    let outputs = try Interpreter.run(module, inputs: batch.inputs)
    let lengths = batch.lengths(for: module)
    var total = 0.0
    var seeded = batch.inputs
    for o in outputs {
      var seed = [Double](repeating: 0, count: o.value.values.count)
      if let target = batch.targets[o.name] {
        let (value, gradient) = loss.evaluate(output: o.value, target: target, lengths: lengths)
        total += value
        seed = gradient
      }
      seeded[Differentiate.seedName(o.name)] = ArrayValue(shape: o.value.shape, values: seed)
    }
    let results = try Interpreter.run(gradientModule, inputs: seeded)
    var gradients: [String: [Double]] = [:]
    for p in module.parameters {
      gradients[p.name] = results.first { $0.name == Differentiate.gradientName(p.name) }?.value.values
        ?? [Double](repeating: 0, count: p.count)
    }
    return (total, gradients)
  }
}
