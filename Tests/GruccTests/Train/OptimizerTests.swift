// The optimizers' updates against values worked out by hand (Adam on ½p², whose gradient is p)
// and SGD's convergence on a quadratic, with and without momentum.

import Testing

@testable import GruccCore

@Suite struct OptimizerTests {
  /// Adam with lr 0.1 from p = 1 on f = ½p² (g = p):
  /// t=1: m = 0.1, v = 0.001, m̂ = 1, v̂ = 1, p = 1 − 0.1/(1 + 1e-8) = 0.900000001;
  /// t=2: g = 0.900000001, m = 0.9·0.1 + 0.1·g, v = 0.999·0.001 + 0.001·g², m̂ = m/0.19,
  ///      v̂ = v/0.001999, p = g − 0.1·m̂/(√v̂ + 1e-8); and so on (the constants below come from
  ///      the same formulas evaluated in exact decimal arithmetic).
  @Test func adamFirstStepsMatchHandComputedValues() {
    var adam = Adam(learningRate: 0.1)
    var p = [1.0]
    var trajectory: [Double] = []
    for _ in 0..<3 {
      adam.step(&p, gradients: p)
      trajectory.append(p[0])
    }
    let expected = [0.900000001, 0.8004122297123374, 0.7015862745044142]
    for (a, e) in zip(trajectory, expected) { #expect(abs(a - e) < 1e-13, "\(trajectory)") }
    #expect(adam.steps == 3)
  }

  /// The first Adam step moves every parameter by lr against the sign of its gradient, whatever
  /// the gradient's size (m̂/√v̂ = g/|g|), less the share ε takes: lr·|g|/(|g| + ε).
  @Test func adamFirstStepIsTheLearningRateTimesTheSign() {
    var adam = Adam()
    var p = [0.0, 0.0, 5.0]
    adam.step(&p, gradients: [3e-3, -40, 7])
    #expect(abs(p[0] + 0.001 * 3e-3 / (3e-3 + 1e-8)) < 1e-15)
    #expect(abs(p[1] - 0.001) < 1e-11 && abs(p[2] - 4.999) < 1e-11)
  }

  @Test(arguments: [0.0, 0.9])
  func sgdConvergesOnAQuadratic(momentum: Double) {
    // f = (p − 3)², g = 2(p − 3).
    var sgd = SGD(learningRate: 0.05, momentum: momentum)
    var p = [-2.0]
    for _ in 0..<300 { sgd.step(&p, gradients: [2 * (p[0] - 3)]) }
    #expect(abs(p[0] - 3) < 1e-6)
  }

  @Test func sgdStepIsTheLearningRateTimesTheGradient() {
    var sgd = SGD(learningRate: 0.5)
    var p = [1.0, 2.0]
    sgd.step(&p, gradients: [0.25, -1])
    #expect(p == [0.875, 2.5])
  }
}
