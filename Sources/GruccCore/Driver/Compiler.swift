// The compilation stages wired together, without I/O: source text to checked model to IR, the
// pass pipeline to the optimised module, and the C. The Driver supplies file contents and decides
// what to print or write.

/// What the front end made of a source file.
public struct FrontEnd: Sendable {
  public var source: SourceFile
  public var file: ModelFile
  public var model: Model?
  public var module: Module?
  public var diagnostics: DiagnosticEngine
}

public enum Compiler {
  public static let version = "0.1.0"

  /// Lexes, parses, checks and generates IR. `module` is nil if there were errors.
  public static func frontEnd(_ source: SourceFile) -> FrontEnd {
    var diagnostics = DiagnosticEngine()
    if source.bytes.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }) {
      diagnostics.error(.emptyFile, at: source.range(0, 0))
      return FrontEnd(source: source, file: ModelFile(statements: []), model: nil, module: nil, diagnostics: diagnostics)
    }
    let (file, parseDiagnostics) = Parser.parse(source)
    diagnostics.append(contentsOf: parseDiagnostics)
    let (model, semaDiagnostics) = Sema.check(file, source: source)
    diagnostics.append(contentsOf: semaDiagnostics)
    guard !diagnostics.hasErrors, let model else {
      return FrontEnd(source: source, file: file, model: nil, module: nil, diagnostics: diagnostics)
    }
    let module = IRGen.generate(model, sourceName: source.baseName)
    return FrontEnd(source: source, file: file, model: model, module: module, diagnostics: diagnostics)
  }

  /// What the pass pipeline made of a module: the optimised module or why not, the diagnostics
  /// the passes reported, and the IR dumps asked for (`--print-ir-after-all`).
  struct Optimised {
    var result: Result<Module, PipelineFailure>
    var diagnostics: DiagnosticEngine
    var dumps: String
  }

  /// Runs the standard pipeline on the front end's module (or its prefix up to the pass
  /// `through`), with the weights from `weights`. `materialise: false` binds shapes only (init
  /// rules are checked, not drawn), for reports.
  static func optimise(
    _ module: Module, weights: WeightSource, budget: MemoryBudget, through: String? = nil, printAfterAll: Bool = false,
    materialise: Bool = true, foldBatchNorm: Bool = true
  ) -> Optimised {
    var pipeline = PassPipeline.standard(
      weights: weights, budget: budget, materialise: materialise, foldBatchNorm: foldBatchNorm)
    if let through, let prefix = pipeline.prefix(through: through) { pipeline = prefix }
    var diagnostics = DiagnosticEngine()
    var dumps = ""
    if printAfterAll { dumps += "// ----- IR after irgen -----\n" + IRPrinter.print(module) }
    let result = pipeline.run(module, diagnostics: &diagnostics) { name, m in
      if printAfterAll { dumps += "// ----- IR after \(name) -----\n" + IRPrinter.print(m) }
    }
    return Optimised(result: result, diagnostics: diagnostics, dumps: dumps)
  }

  /// The C for an optimised module: `model.c`'s text, the header's (included as `headerName`),
  /// and the weights blob for `--weights external`.
  static func emitC(
    _ module: Module, headerName: String, activations: ActivationMode, weights: WeightStorage
  ) -> (source: String, header: String, blob: [UInt8]?) {
    CEmitter.emit(module, headerName: headerName, activations: activations, weights: weights)
  }

  /// Where the model's weights come from: the tensors of its weights file (already read and
  /// decoded by the caller), or its init rules.
  static func weightSource(for model: Model, file: [NamedTensor]?) -> WeightSource {
    if let spec = model.weights, let tensors = file {
      return .file(WeightsFile(path: spec.path, range: spec.range, tensors: tensors, format: spec.format, maps: spec.maps))
    }
    return .initialise(seed: model.initSeed, rules: model.initRules)
  }

  /// Diagnostics sorted by position (stable), so the output reads top to bottom whatever stage
  /// found each problem.
  public static func sorted(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
    diagnostics.enumerated().sorted { a, b in
      let (la, lb) = (a.element.range.start.offset, b.element.range.start.offset)
      return la != lb ? la < lb : a.offset < b.offset
    }.map(\.element)
  }
}
