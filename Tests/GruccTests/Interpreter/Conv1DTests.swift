// The conv1d kernel against PyTorch's conv1d (numbers printed by Tools/conv1d-torch-numbers.py:
// F.pad, then F.conv1d) and against a test-side reference that pads the sequence
// explicitly and then runs a valid convolution, over every padding, stride, dilation and group.

import Testing

@testable import GruccCore

@Suite struct Conv1DTests {
  /// x [1, 7, 4] = (0..<28)/10 − 1; w [6, 2, 3] = ((0..<36) mod 5 − 2)/4; groups 2, dilation 2,
  /// stride 2, kernel 3 (a span of 5).
  static let x = (0..<28).map { Double($0) / 10 - 1 }
  static let w = (0..<36).map { Double($0 % 5 - 2) / 4 }
  static let b: [Double] = [0.5, -0.25, 0, 1, -1, 0.125]

  static let torch: [(ConvPadding, [Double])] = [
    (.causal, [0.95, -0.275, -0.5, 1.225, -1.15, 0.475, 0.35, 0.175, -0.125, 0.625, -0.725, -0.075,
               0.425, -0.425, 0.725, 0.8, -1.125, -0.05, 0.025, -0.625, 0.725, 1.0, -0.725, -0.45]),
    (.valid, [0.425, -0.425, 0.725, 0.8, -1.125, -0.05, 0.025, -0.625, 0.725, 1.0, -0.725, -0.45]),
    (.same, [0.35, 0.175, -0.125, 0.625, -0.725, -0.075, 0.425, -0.425, 0.725, 0.8, -1.125, -0.05,
             0.025, -0.625, 0.725, 1.0, -0.725, -0.45, 0.775, -0.8, -0.375, 1.775, -0.975, 0.4]),
  ]

  @Test(arguments: ConvPadding.allCases)
  func matchesPyTorch(_ padding: ConvPadding) throws {
    let g = Conv1DGeometry(inChannels: 4, filters: 6, kernel: 3, stride: 2, dilation: 2, groups: 2, padding: padding)
    #expect(g.problem == nil)
    let expected = try #require(Self.torch.first { $0.0 == padding }?.1)
    let y = Kernels.conv1d(Self.x, batch: 1, steps: 7, geometry: g, weights: Self.w, bias: Self.b)
    #expect(y.count == expected.count)
    for (a, e) in zip(y, expected) { #expect(abs(a - e) < 1e-12, "\(y) vs \(expected)") }
  }

  /// Keras's and TensorFlow's output lengths and `same`'s split (the extra zero after).
  @Test func outputStepsAndPadding() {
    func g(_ p: ConvPadding, k: Int, s: Int = 1, d: Int = 1) -> Conv1DGeometry {
      Conv1DGeometry(inChannels: 1, filters: 1, kernel: k, stride: s, dilation: d, padding: p)
    }
    #expect(g(.causal, k: 20).outputSteps(50) == 50)
    #expect(g(.causal, k: 20).padBefore(50) == 19)
    #expect(g(.causal, k: 3, s: 2).outputSteps(7) == 4)
    #expect(g(.valid, k: 20).outputSteps(50) == 31)
    #expect(g(.valid, k: 3, d: 4).outputSteps(8) == 0)
    #expect(g(.valid, k: 3, d: 4).outputSteps(9) == 1)
    #expect(g(.same, k: 4).outputSteps(10) == 10)
    #expect(g(.same, k: 4).padBefore(10) == 1)
    #expect(g(.same, k: 3, s: 2).outputSteps(7) == 4)
    #expect(g(.same, k: 3, s: 2).padBefore(8) == 0)
    #expect(g(.causal, k: 5).outputSteps(0) == 0)
  }

  @Test func badGeometriesAreNamed() {
    let ok = Conv1DGeometry(inChannels: 4, filters: 6, kernel: 3, groups: 2, padding: .same)
    #expect(ok.problem == nil)
    var g = ok
    g.groups = 3
    #expect(g.problem?.contains("input channels") == true)
    g = ok
    g.filters = 5
    #expect(g.problem?.contains("filters") == true)
    for change in [{ (g: inout Conv1DGeometry) in g.kernel = 0 }, { $0.stride = 0 }, { $0.dilation = 0 }, { $0.groups = 0 }] {
      g = ok
      change(&g)
      #expect(g.problem != nil)
    }
  }

  /// Pad explicitly, then convolve without padding: written apart from the kernel's index skipping.
  static func reference(
    _ x: [Double], batch: Int, steps: Int, _ g: Conv1DGeometry, _ w: [Double], _ bias: [Double]
  ) -> [Double] {
    let out = g.outputSteps(steps)
    let before = g.padBefore(steps)
    let padded = before + steps + max(0, (out - 1) * g.stride + g.span - before - steps)
    var y: [Double] = []
    for b in 0..<batch {
      var p = [[Double]](repeating: [Double](repeating: 0, count: g.inChannels), count: padded)
      for t in 0..<steps { for c in 0..<g.inChannels { p[before + t][c] = x[(b * steps + t) * g.inChannels + c] } }
      for t in 0..<out {
        for f in 0..<g.filters {
          let cin = g.inChannels / g.groups
          let group = f / (g.filters / g.groups)
          var sum = bias.isEmpty ? 0 : bias[f]
          for j in 0..<g.kernel {
            for c in 0..<cin { sum += w[(f * cin + c) * g.kernel + j] * p[t * g.stride + j * g.dilation][group * cin + c] }
          }
          y.append(sum)
        }
      }
    }
    return y
  }

  @Test(arguments: ConvPadding.allCases)
  func matchesPaddedReference(_ padding: ConvPadding) {
    var r = EndToEnd.Random(15)
    for (channels, filters, groups) in [(3, 4, 1), (4, 4, 4), (4, 8, 2), (2, 6, 2)] {
      for kernel in [1, 2, 5] {
        for stride in [1, 2, 3] {
          for dilation in [1, 3] {
            let g = Conv1DGeometry(
              inChannels: channels, filters: filters, kernel: kernel, stride: stride, dilation: dilation,
              groups: groups, padding: padding)
            for steps in [1, 6, 13] {
              let x = (0..<(2 * steps * channels)).map { _ in r.uniform(-1, 1) }
              let w = (0..<(filters * g.weightsPerFilter)).map { _ in r.uniform(-1, 1) }
              let bias = r.uniform(0, 1) < 0.5 ? [] : (0..<filters).map { _ in r.uniform(-1, 1) }
              let y = Kernels.conv1d(x, batch: 2, steps: steps, geometry: g, weights: w, bias: bias)
              let e = Self.reference(x, batch: 2, steps: steps, g, w, bias)
              #expect(y.count == e.count, "\(g) steps \(steps)")
              let worst = zip(y, e).map { abs($0 - $1) }.max() ?? 0
              #expect(worst < 1e-12, "\(g) steps \(steps): \(worst)")
            }
          }
        }
      }
    }
  }

  /// The activation is applied to each output after the bias.
  @Test func activationFollowsTheBias() {
    let g = Conv1DGeometry(inChannels: 1, filters: 1, kernel: 2, padding: .causal)
    let y = Kernels.conv1d([1.0, -3], batch: 1, steps: 2, geometry: g, weights: [1, 1], bias: [0.5], activation: .relu)
    #expect(y == [1.5, 0])
  }
}
