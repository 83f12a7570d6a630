// Helpers for the training tests: tiny models lowered as LossGradient expects, with chosen weights.

import Testing

@testable import GruccCore

enum TrainSupport {
  /// The model lowered through `lower-dense`; records an issue and returns nil if it fails.
  static func lowered(_ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> Module? {
    let run = InProcess.run(text)
    guard run.errors.isEmpty, let module = run.module(after: "lower-dense") else {
      Issue.record("model did not compile: \(InProcess.render(run.diagnostics, text))", sourceLocation: sourceLocation)
      return nil
    }
    return module
  }

  /// `module` with the named parameters set to the given values.
  static func with(_ module: Module, _ values: [String: [Double]]) -> Module {
    var m = module
    for (name, v) in values {
      let i = m.parameterIndex(named: name)!
      m.parameters[i].values = v
    }
    return m
  }

  /// Every value equal to `reference` within `tolerance`, relative to max(1, |reference|).
  static func close(_ a: [Double], _ reference: [Double], _ tolerance: Double) -> Bool {
    a.count == reference.count && zip(a, reference).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
  }

  /// y = w·x + b on every step of a one-feature sequence.
  static let line = """
    model line
    precision f64
    input x[1]
    output y = dense(x, 1)
    init seed 3

    """
}
