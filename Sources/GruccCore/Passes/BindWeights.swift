// Weight binding: gives the module its weight tensors, read from the model's weights file or
// drawn from its `init` rules, after checking every tensor against the shape the model needs.

/// A weights file already read from disk (the driver does the I/O, so this pass stays pure).
struct WeightsFile: Sendable {
  /// The path as the model file wrote it, for messages.
  var path: String
  var range: SourceRange
  var tensors: [NamedTensor]

  init(path: String, range: SourceRange, tensors: [NamedTensor]) {
    self.path = path
    self.range = range
    self.tensors = tensors
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
      parameters = bind(specs, from: file, diagnostics: &diagnostics)
    case .initialise(let seed, let rules):
      parameters = initialise(specs, seed: seed, rules: rules, diagnostics: &diagnostics)
    }
    if module.precision == .f32 {
      for i in parameters.indices { parameters[i].values = parameters[i].values.map { Double(Float($0)) } }
    }
    result.parameters = parameters
    return result
  }

  private func bind(_ specs: [ParameterSpec], from file: WeightsFile, diagnostics: inout DiagnosticEngine) -> [Parameter] {
    var parameters: [Parameter] = []
    for spec in specs {
      guard let tensor = file.tensors.first(where: { $0.name == spec.name }) else {
        diagnostics.error(.missingWeight(spec.name, file: file.path), at: file.range)
        continue
      }
      guard tensor.dtype.isFloat else {
        diagnostics.error(
          .weightFileInvalid(file.path, reason: "tensor '\(spec.name)' has dtype \(tensor.dtype.rawValue), expected a float dtype"),
          at: file.range)
        continue
      }
      guard tensor.shape == spec.shape else {
        diagnostics.error(
          .weightShapeMismatch(spec.name, file: file.path, found: tensor.shape, expected: spec.shape), at: file.range)
        continue
      }
      if let bad = tensor.values.firstIndex(where: { !$0.isFinite }) {
        diagnostics.error(.nonFiniteWeight(spec.name, index: bad, file: file.path), at: file.range)
        continue
      }
      parameters.append(Parameter(name: spec.name, shape: spec.shape, values: tensor.values, role: spec.role))
    }
    for tensor in file.tensors where !specs.contains(where: { $0.name == tensor.name }) {
      diagnostics.warning(.unusedWeight(tensor.name, file: file.path), at: file.range)
    }
    return parameters
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
