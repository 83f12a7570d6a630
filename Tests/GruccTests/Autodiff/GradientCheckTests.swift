// Reverse-mode gradients against central finite differences, in f64, on every model of the pass
// equivalence set: each reset × update × bias variant, both directions and every merge,
// lengths, initial states, output activations, stacks, time-major input and every head.

import Testing

@testable import GruccCore

@Suite struct GradientCheckTests {
  static let models = ModelVariants.all(precision: .f64)

  @Test(arguments: models)
  func gradientsMatchFiniteDifferences(_ variant: VariantModel) throws {
    let run = InProcess.run(variant.text)
    let module = try #require(run.module(after: "lower-dense"), "\(run.errors)")
    // gradientModule verifies the graph itself and throws if it is broken.
    let gradientModule = try Autodiff.gradientModule(module)

    var random = RandomInputs(seed: UInt64(variant.name.utf8.reduce(7) { $0 &* 31 &+ UInt64($1) }))
    let inputs = random.inputs(for: module, batch: 3, steps: 4)
    let outputs = try Interpreter.run(module, inputs: inputs)
    var targets: [String: ArrayValue] = [:]
    for o in outputs { targets[o.name] = ArrayValue(shape: o.value.shape, values: o.value.values.map { _ in random.uniform(-1, 1) }) }
    let batch = TrainingBatch(inputs: inputs, targets: targets)

    let (value, gradients) = try Autodiff.evaluate(module, gradientModule: gradientModule, batch: batch, loss: .quadratic)
    #expect(abs(value - (try ForwardLoss.value(module, batch: batch, loss: .quadratic))) < 1e-12)
    var checked = 0
    var worst = 0.0
    for (p, parameter) in module.parameters.enumerated() {
      let g = try #require(gradients[parameter.name])
      #expect(g.count == parameter.count)
      // A few values of every tensor: the first, the last and two in between.
      for index in Set([0, parameter.count - 1, parameter.count / 3, 2 * parameter.count / 3]) {
        let h = 1e-6
        var plus = module
        plus.parameters[p].values[index] += h
        var minus = module
        minus.parameters[p].values[index] -= h
        let numeric = (try ForwardLoss.value(plus, batch: batch, loss: .quadratic) - ForwardLoss.value(minus, batch: batch, loss: .quadratic)) / (2 * h)
        let error = abs(numeric - g[index]) / max(1, abs(numeric))
        worst = max(worst, error)
        #expect(error < 1e-6, "\(parameter.name)[\(index)]: autodiff \(g[index]), finite differences \(numeric)")
        checked += 1
      }
    }
    #expect(checked >= 8)
    print("gradient check \(variant.name): \(checked) values, worst relative error \(worst)")
  }
}
