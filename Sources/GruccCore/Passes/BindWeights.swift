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
/// high-level ops need (ParameterSpecs), with finite values, rounded to Float for an f32 model.
public struct BindWeights: Pass {
  public let name = "bind-weights"
  var source: WeightSource

  init(source: WeightSource) { self.source = source }

  public func run(_ module: Module, diagnostics: inout DiagnosticEngine) -> Module {
    var result = module
    let specs = ParameterSpecs.required(by: module)
    var parameters: [Parameter] = []
    switch source {
    case .file(let file):
      parameters = bind(specs, from: file, module: module, diagnostics: &diagnostics)
    case .initialise(let seed, let rules):
      parameters = initialise(specs, seed: seed, rules: rules, diagnostics: &diagnostics)
    }
    if module.precision == .f32 {
      for i in parameters.indices { parameters[i].values = parameters[i].values.map { Double(Float($0)) } }
    }
    result.parameters = parameters
    return result
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
          diagnostics.error(
            .weightShapeMismatch(e.tensor, file: file.path, found: tensor.shape, expected: e.fileShape), at: file.range,
            notes: usedFor + (e.hint.map { [.note(.weightMapHint($0))] } ?? []))
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
    for (tensor, name) in zip(file.tensors, names) where !used.contains(name) {
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
        let values = try Initializers.values(for: spec, distribution: rule?.distribution ?? .fanInUniform, seed: seed)
        parameters.append(Parameter(name: spec.name, shape: spec.shape, values: values, role: spec.role))
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
