// Each loss's derivative against central differences of its value, with and without lengths.

import Testing

@testable import GruccCore

@Suite struct LossTests {
  @Test(arguments: Loss.allCases)
  func derivativeMatchesFiniteDifferences(_ loss: Loss) {
    var random = RandomInputs(seed: 11)
    let shape = [3, 4, 2]
    let count = shape.reduce(1, *)
    // Probabilities for the cross-entropies (rows summing to 1 for cce), anything for the others.
    var output = (0..<count).map { _ in random.uniform(0.05, 0.95) }
    var target = (0..<count).map { _ in random.uniform(0, 1) }
    if loss == .cce {
      for r in 0..<(count / 2) {
        output[2 * r + 1] = 1 - output[2 * r]
        target[2 * r] = target[2 * r] < 0.5 ? 0 : 1
        target[2 * r + 1] = 1 - target[2 * r]
      }
    }
    for lengths in [nil, [0, 4, 2]] as [[Int]?] {
      let y = ArrayValue(shape: shape, values: target)
      let (_, gradient) = loss.evaluate(output: ArrayValue(shape: shape, values: output), target: y, lengths: lengths)
      for i in 0..<count {
        let h = 1e-6
        var plus = output
        plus[i] += h
        var minus = output
        minus[i] -= h
        let numeric = (loss.evaluate(output: ArrayValue(shape: shape, values: plus), target: y, lengths: lengths).value
          - loss.evaluate(output: ArrayValue(shape: shape, values: minus), target: y, lengths: lengths).value) / (2 * h)
        #expect(abs(numeric - gradient[i]) < 1e-6, "\(loss) [\(i)] lengths \(String(describing: lengths))")
      }
    }
  }

  /// Seed 001's loss: Σ ½ (o − y)² / B.
  @Test func quadraticIsTheSeedsLoss() {
    let o = ArrayValue(shape: [2, 1, 2], values: [1, 2, 3, 4])
    let y = ArrayValue(shape: [2, 1, 2], values: [0, 0, 0, 0])
    #expect(Loss.quadratic.evaluate(output: o, target: y, lengths: nil).value == (1 + 4 + 9 + 16) * 0.5 / 2)
    #expect(Loss.mse.evaluate(output: o, target: y, lengths: nil).value == 30.0 / 4)
  }
}
