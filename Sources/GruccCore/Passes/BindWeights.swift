// Weight binding: gives the module its weight tensors, read from the model's weights file or
// drawn from its `init` rules, after checking every tensor against the shape the model needs.

/// A weights file already read from disk (the driver does the I/O, so this pass stays pure).
struct WeightsFile: Sendable {
  /// The path as the model file wrote it, for messages.
  var path: String
  var range: SourceRange
  var tensors: [NamedTensor]
  /// The file's naming convention and the model's `map` lines.
  var format: WeightsFormat
  var maps: [WeightMap]

  init(path: String, range: SourceRange, tensors: [NamedTensor], format: WeightsFormat = .grucc, maps: [WeightMap] = []) {
    self.path = path
    self.range = range
    self.tensors = tensors
    self.format = format
    self.maps = maps
  }
}

/// Where the weights come from.
enum WeightSource: Sendable {
  case file(WeightsFile)
  case initialise(seed: UInt64, rules: [InitRule])
}

/// Requires: shapes inferred. Guarantees: `module.parameters` holds exactly the tensors the
/// high-level ops need (ParameterSpecs), with finite values, rounded to Float for an f32 model
/// (placeholders, when the init rules are only checked, hold no values).
public struct BindWeights: Pass {
  public let name = "bind-weights"
  var source: WeightSource
  var budget: MemoryBudget
  /// Tensors drawn from init rules are made (true) or only checked and left as placeholders.
  var materialise: Bool

  /// Compiling holds the weights about this many times over: as bound, stacked by
  /// fold-constants, packed, and as C text (a one-layer H = 2048 model, 100 MB of weights at
  /// 8 bytes a value, peaks at 500 MB while compiling).
  static let copiesHeld = 6

  init(source: WeightSource, budget: MemoryBudget = .standard, materialise: Bool = true) {
    self.source = source
    self.budget = budget
    self.materialise = materialise
  }

  public func run(_ module: Module, diagnostics: inout DiagnosticEngine) -> Module {
    var result = module
    let specs = ParameterSpecs.required(by: module)
    var parameters: [Parameter] = []
    // Placeholders take no memory; weights read or drawn are counted before they are made.
    var makesValues = true
    if case .initialise = source { makesValues = materialise }
    if makesValues, let (refusal, largest) = refusal(specs) {
      diagnostics.error(.memoryLimit(refusal), at: range(needing: largest, module))
      return result
    }
    switch source {
    case .file(let file):
      parameters = bind(specs, from: file, module: module, diagnostics: &diagnostics)
    case .initialise(let seed, let rules):
      parameters = initialise(specs, seed: seed, rules: rules, diagnostics: &diagnostics)
    }
    if module.precision == .f32 {
      for i in parameters.indices {
        let rounded = parameters[i].values.map { Double(Float($0)) }
        // A finite double can still be beyond f32's range: rounding would make it infinite.
        if case .file(let file) = source, let k = rounded.firstIndex(where: { !$0.isFinite }) {
          diagnostics.error(
            .weightOutOfRange(parameters[i].name, value: parameters[i].values[k], file: file.path, precision: "f32"),
            at: file.range)
        }
        parameters[i].values = rounded
      }
    }
    // Narrow storage: the matrices (the tensors the C packs; biases and per-step dense weights
    // stay f32) hold the values the C will store, so every later stage computes with those.
    // (int8 is quantised by pack-weights, row by row, once the matrices are final.)
    if module.weightElement == .f16 || module.weightElement == .bf16 {
      for i in parameters.indices where parameters[i].shape.count == 2 {
        let element = module.weightElement
        var values = parameters[i].values
        for k in values.indices {
          guard let v = element.round(values[k]) else {
            diagnostics.error(
              .weightOutOfRange(parameters[i].name, value: values[k], file: fileName, precision: element.rawValue),
              at: fileRange(module))
            break
          }
          values[k] = v
        }
        parameters[i].values = values
      }
    }
    result.parameters = parameters
    return result
  }

  /// Where the weights came from, for messages.
  private var fileName: String {
    if case .file(let file) = source { return file.path }
    return "the init rules"
  }

  private func fileRange(_ module: Module) -> SourceRange {
    if case .file(let file) = source { return file.range }
    return .none
  }

  /// Why the weights do not fit the memory budget, naming the largest tensor, or nil.
  private func refusal(_ specs: [ParameterSpec]) -> (String, largest: String)? {
    let bytes = specs.map { Checked.byteCount($0.shape, elementSize: MemoryLayout<Double>.size) }
    let total = Checked.sum(bytes).flatMap { Checked.multiply($0, Self.copiesHeld) }
    guard let largest = zip(specs, bytes).max(by: { ($0.1 ?? .max) < ($1.1 ?? .max) }) else { return nil }
    let size = largest.1.map(MemoryBudget.text) ?? "more than a 64-bit size counts"
    let what =
      "the model's \(specs.count) weight tensors (the largest, '\(largest.0.name)' \(shapeText(largest.0.shape)), "
      + "is \(size) as 8-byte values; compiling holds about \(Self.copiesHeld) copies)"
    return budget.refusal(total, for: what).map { ($0, largest.0.name) }
  }

  /// Where to report that the weights are too large: the layer or dense that needs the largest tensor.
  private func range(needing tensor: String, _ module: Module) -> SourceRange {
    let graph = module.graph
    let node = graph.nodes.indices.first { ParameterSpecs.required(by: graph.nodes[$0], in: graph).contains { $0.name == tensor } }
    return node.map { graph.nodes[$0].range } ?? .none
  }

  private func bind(
    _ specs: [ParameterSpec], from file: WeightsFile, module: Module, diagnostics: inout DiagnosticEngine
  ) -> [Parameter] {
    // Keras and TF1 name variables `kernel:0`; the suffix is not part of the name anyone maps.
    let names = file.tensors.map { name(of: $0, file) }
    let plan = WeightPlan.make(module: module, specs: specs, file: file, names: names)
    diagnostics.append(contentsOf: plan.diagnostics)
    if plan.diagnostics.hasErrors { return [] }
    var parameters: [Parameter] = []
    var used = Set<String>()
    // One report per file tensor: a missing stacked matrix is one problem, not one per gate.
    var reported = Set<String>()
    var mismatches: [(ShapeMismatch, [Diagnostic])] = []
    for spec in specs {
      let e = plan.extractions[spec.name] ?? Extraction(tensor: spec.name, fileShape: spec.shape)
      // Where the file's name is not grucc's, say which of the model's tensors it feeds.
      let usedFor = e.tensor == spec.name ? [] : [Diagnostic.note(.weightUsedFor("'\(spec.name)' (\(spec.role))"))]
      guard let index = names.firstIndex(of: e.tensor) else {
        if reported.insert(e.tensor).inserted {
          diagnostics.error(
            .missingWeight(e.tensor, file: file.path), at: file.range, notes: usedFor + [file.listing(names, near: e.tensor)])
        }
        continue
      }
      let tensor = file.tensors[index]
      used.insert(e.tensor)
      guard tensor.dtype.isFloat else {
        if reported.insert(e.tensor).inserted {
          diagnostics.error(
            .weightFileInvalid(file.path, reason: "tensor '\(e.tensor)' has dtype \(tensor.dtype.rawValue), expected a float dtype"),
            at: file.range)
        }
        continue
      }
      guard tensor.shape == e.fileShape else {
        if reported.insert(e.tensor).inserted {
          mismatches.append((ShapeMismatch(spec: spec, tensor: e.tensor, found: tensor.shape, expected: e.fileShape),
                             usedFor + (e.hint.map { [.note(.weightMapHint($0))] } ?? [])))
        }
        continue
      }
      if let bad = tensor.values.firstIndex(where: { !$0.isFinite }) {
        if reported.insert(e.tensor).inserted {
          diagnostics.error(.nonFiniteWeight(e.tensor, index: bad, file: file.path), at: file.range)
        }
        continue
      }
      parameters.append(Parameter(name: spec.name, shape: spec.shape, values: e.extract(tensor.values), role: spec.role))
    }
    // A layer whose weights are all for another hidden size is one error at its `hidden N`.
    let (hiddenErrors, explained) = HiddenSizeCheck.explain(mismatches.map(\.0), module: module, file: file)
    for d in hiddenErrors { diagnostics.append(d) }
    for (m, notes) in mismatches where !explained.contains(m.tensor) {
      diagnostics.error(
        .weightShapeMismatch(m.tensor, file: file.path, found: m.found, expected: m.expected), at: file.range, notes: notes)
    }
    for (tensor, name) in zip(file.tensors, names) where !used.contains(name) && !plan.ignored.contains(name) {
      diagnostics.warning(.unusedWeight(tensor.name, file: file.path), at: file.range)
    }
    return parameters
  }

  private func name(of tensor: NamedTensor, _ file: WeightsFile) -> String {
    (file.format == .keras || file.format == .tf1) && tensor.name.hasSuffix(":0")
      ? String(tensor.name.dropLast(2)) : tensor.name
  }

  private func initialise(
    _ specs: [ParameterSpec], seed: UInt64, rules: [InitRule], diagnostics: inout DiagnosticEngine
  ) -> [Parameter] {
    var parameters: [Parameter] = []
    // One error per rule: `init *.b_* orthogonal` is one mistake, however many biases it matches.
    var rejectedRules: [SourceRange] = []
    for spec in specs {
      let rule = Initializers.rule(for: spec.name, in: rules)
      do {
        let distribution = rule?.distribution ?? spec.initial ?? .fanInUniform
        if materialise {
          let values = try Initializers.values(for: spec, distribution: distribution, seed: seed)
          parameters.append(Parameter(name: spec.name, shape: spec.shape, values: values, role: spec.role))
        } else {
          try Initializers.validate(spec, distribution: distribution)
          parameters.append(Parameter(name: spec.name, shape: spec.shape, values: [], role: spec.role, isPlaceholder: true))
        }
      } catch {
        let range = rule?.range ?? .none
        if !rejectedRules.contains(range) { diagnostics.error(.orthogonalNeedsMatrix(spec.name), at: range) }
        rejectedRules.append(range)
      }
    }
    for rule in rules {
      for pattern in rule.patterns where !specs.contains(where: { Initializers.matches(pattern, $0.name) }) {
        diagnostics.warning(.patternMatchesNothing(pattern), at: rule.range)
      }
    }
    return parameters
  }
}
