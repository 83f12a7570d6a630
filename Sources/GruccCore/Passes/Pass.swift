// The pass protocol and the pipeline. The order of passes is spelled out once, here, and the
// verifier runs after every pass so a broken invariant is caught where it was introduced.

/// A transformation of a module. Each conforming type lives in its own file in Passes/.
public protocol Pass: Sendable {
  /// Used by `--emit ir-after=NAME`, `--print-ir-after-all` and verifier failures.
  var name: String { get }
  /// User errors (shape mismatches, bad weights) go to `diagnostics`; the module is returned
  /// unchanged or partly transformed in that case, and the pipeline stops.
  func run(_ module: Module, diagnostics: inout DiagnosticEngine) -> Module
}

/// Why a pipeline stopped early.
public enum PipelineFailure: Error, Sendable {
  /// The pass reported user errors (already in the diagnostics).
  case diagnostics(pass: String)
  /// The pass left a graph the verifier rejects: a compiler bug.
  case verifier(pass: String, errors: [VerifierError], dump: String)
}

/// An ordered list of passes.
public struct PassPipeline: Sendable {
  public var passes: [any Pass]

  public init(_ passes: [any Pass]) { self.passes = passes }

  /// The names of the passes of the standard pipeline, in order (for `--help` and `--emit ir-after`).
  public static let standardNames = [
    "shape-inference", "bind-weights", "fold-batchnorm", "lower-gru", "lower-dense", "fold-biases", "hoist-input-projections",
    "merge-recurrent-products", "fold-constants", "fuse-elementwise", "pack-weights", "dead-code-elimination",
  ]

  /// Front end to C-ready IR: types, weights, lowering and the optimisations.
  /// With `materialise` false, weights drawn from init rules are placeholders (sizes only).
  /// With `foldBatchNorm` false (`--weights external`) batchnorms stay ops.
  static func standard(
    weights: WeightSource, budget: MemoryBudget = .standard, materialise: Bool = true, foldBatchNorm: Bool = true
  ) -> PassPipeline {
    PassPipeline([
      ShapeInference(), BindWeights(source: weights, budget: budget, materialise: materialise),
      FoldBatchNorm(fold: foldBatchNorm), LowerGRU(), LowerDense(), FoldBiases(), HoistInputProjections(),
      MergeRecurrentProducts(), FoldConstants(), FuseElementwise(), PackWeights(), DeadCodeElimination(),
    ])
  }

  /// The passes up to and including `name`.
  public func prefix(through name: String) -> PassPipeline? {
    guard let i = passes.firstIndex(where: { $0.name == name }) else { return nil }
    return PassPipeline(Array(passes[...i]))
  }

  /// Runs every pass, verifying the module it is given (what IRGen made, before types) and the
  /// module after each pass. `observe` sees the module after each pass.
  public func run(
    _ module: Module, diagnostics: inout DiagnosticEngine, observe: (String, Module) -> Void = { _, _ in }
  ) -> Result<Module, PipelineFailure> {
    let initial = Verifier.verify(module, requireTypes: false)
    if !initial.isEmpty { return .failure(.verifier(pass: "irgen", errors: initial, dump: IRPrinter.print(module))) }
    var current = module
    for pass in passes {
      current = pass.run(current, diagnostics: &diagnostics)
      if diagnostics.hasErrors { return .failure(.diagnostics(pass: pass.name)) }
      let errors = Verifier.verify(current, requireTypes: true)
      if !errors.isEmpty {
        return .failure(.verifier(pass: pass.name, errors: errors, dump: IRPrinter.print(current)))
      }
      observe(pass.name, current)
    }
    return .success(current)
  }
}
