// Autodiff's options for the compiled training step: keepOutputs (the gradient graph also yields
// the forward outputs, so the step runs the forward pass once) and saveProducts (the forward
// scans save their state products, so the backward scans do not recompute them). Both must give
// the plain gradient graph's numbers bit for bit, on every model of the equivalence set.

import Testing

@testable import GruccCore

@Suite struct GradientOptionsTests {
  static let models = ModelVariants.all(precision: .f64)

  /// The `linear` nodes in the backward scans' bodies that recompute a product of the state
  /// (their first operand is a saved state).
  static func recomputedProducts(_ graph: Graph) -> Int {
    var count = 0
    for node in graph.nodes {
      guard case .scan(let s) = node.op, s.name.hasSuffix(".grad") else { continue }
      for n in s.body.nodes {
        guard case .linear = n.op, let first = n.operands.first,
          case .argument(let name, _) = s.body.nodes[first.node].op
        else { continue }
        if name.hasPrefix("saved_state") { count += 1 }
      }
    }
    return count
  }

  @Test(arguments: models)
  func sameBitsWithTheForwardOutputsAndTheSavedProducts(_ variant: VariantModel) throws {
    let run = InProcess.run(variant.text)
    let module = try #require(run.module(after: "lower-dense"), "\(run.errors)")
    let plain = try Autodiff.gradientModule(module)
    let both = try Autodiff.gradientModule(module, keepOutputs: true, saveProducts: true)

    var random = RandomInputs(seed: UInt64(variant.name.utf8.reduce(11) { $0 &* 31 &+ UInt64($1) }))
    var inputs = random.inputs(for: module, batch: 3, steps: 4)
    let outputs = try Interpreter.run(module, inputs: inputs)
    for o in outputs {
      inputs[Differentiate.seedName(o.name)] = ArrayValue(
        shape: o.value.shape, values: o.value.values.map { _ in random.uniform(-1, 1) })
    }
    let expected = try Interpreter.run(plain, inputs: inputs)
    let got = try Interpreter.run(both, inputs: inputs)
    // The gradients in the same order, then the forward outputs.
    #expect(got.map(\.name) == expected.map(\.name) + outputs.map(\.name))
    for (e, g) in zip(expected, got) {
      #expect(e.value.values.map(\.bitPattern) == g.value.values.map(\.bitPattern), "\(e.name)")
    }
    for (o, g) in zip(outputs, got.suffix(outputs.count)) {
      #expect(o.value.values.map(\.bitPattern) == g.value.values.map(\.bitPattern), "\(o.name)")
    }
    // Every variant has a GRU, whose backward body recomputed its state products.
    #expect(Self.recomputedProducts(plain.graph) > 0)
    #expect(Self.recomputedProducts(both.graph) == 0)
  }
}
