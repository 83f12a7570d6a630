// Finite differences against gradients derived by hand: a dense layer (with and without padded
// steps, f64 and f32) and one step of a hidden-1 GRU with a given initial state, where every one
// of its nine weights has a different closed-form derivative.

import Foundation
import Testing

@testable import GruccCore

@Suite struct FiniteDifferencesTests {
  /// Quadratic loss of y = w·x + b: ∂L/∂w = Σ (y − t)·x / B, ∂L/∂b = Σ (y − t) / B over counted steps.
  func lineGradient(w: Double, b: Double, x: [[Double]], t: [[Double]], lengths: [Int]? = nil) -> (Double, [Double], [Double]) {
    var (loss, gw, gb) = (0.0, 0.0, 0.0)
    for (i, row) in x.enumerated() {
      for (s, xv) in row.enumerated() where s < (lengths?[i] ?? row.count) {
        let d = w * xv + b - t[i][s]
        loss += 0.5 * d * d
        gw += d * xv
        gb += d
      }
    }
    let n = Double(x.count)
    return (loss / n, [gw / n], [gb / n])
  }

  func sequences(_ rows: [[Double]]) -> ArrayValue {
    ArrayValue(shape: [rows.count, rows[0].count, 1], values: rows.flatMap { $0 })
  }

  @Test func denseLayerMatchesTheHandDerivedGradient() throws {
    let module = TrainSupport.with(try #require(TrainSupport.lowered(TrainSupport.line)), ["y.w": [0.7], "y.b": [-0.2]])
    let x: [[Double]] = [[0.5, -1, 2], [1.5, 0.25, -0.75]]
    let t: [[Double]] = [[1, 0, 1], [0, 1, 1]]
    let batch = TrainingBatch(inputs: ["x": sequences(x)], targets: ["y": sequences(t)])
    let result = try FiniteDifferences().evaluate(module, batch: batch, loss: .quadratic)
    let (loss, gw, gb) = lineGradient(w: 0.7, b: -0.2, x: x, t: t)
    #expect(abs(result.loss - loss) < 1e-15)
    #expect(TrainSupport.close(try #require(result.gradients["y.w"]), gw, 1e-8))
    #expect(TrainSupport.close(try #require(result.gradients["y.b"]), gb, 1e-8))
  }

  @Test func paddedStepsHaveNoGradient() throws {
    let text = TrainSupport.line.replacingOccurrences(of: "input x[1]", with: "input x[1], lengths len")
    let module = TrainSupport.with(try #require(TrainSupport.lowered(text)), ["y.w": [1.3], "y.b": [0.4]])
    let x: [[Double]] = [[0.5, -1, 2], [1.5, 0.25, -0.75]]
    let t: [[Double]] = [[1, 0, 1], [0, 1, 1]]
    let lengths = [1, 3]
    let batch = TrainingBatch(
      inputs: ["x": sequences(x), "len": ArrayValue(shape: [2], values: lengths.map(Double.init))],
      targets: ["y": sequences(t)])
    let result = try FiniteDifferences().evaluate(module, batch: batch, loss: .quadratic)
    let (loss, gw, gb) = lineGradient(w: 1.3, b: 0.4, x: x, t: t, lengths: lengths)
    #expect(abs(result.loss - loss) < 1e-15)
    #expect(TrainSupport.close(try #require(result.gradients["y.w"]), gw, 1e-8))
    #expect(TrainSupport.close(try #require(result.gradients["y.b"]), gb, 1e-8))
  }

  /// An f32 model's probes run in f64, so its gradient is as accurate as an f64 model's.
  @Test func f32ModelGradientIsTakenInDouble() throws {
    let text = TrainSupport.line.replacingOccurrences(of: "precision f64", with: "precision f32")
    let module = TrainSupport.with(try #require(TrainSupport.lowered(text)), ["y.w": [0.75], "y.b": [-0.25]])
    let x: [[Double]] = [[0.5, -1, 2]]
    let t: [[Double]] = [[1, 0, 1]]
    let batch = TrainingBatch(inputs: ["x": sequences(x)], targets: ["y": sequences(t)])
    let result = try FiniteDifferences().evaluate(module, batch: batch, loss: .mse)
    // MSE = Σ d² / 3: twice the quadratic loss's terms, over 3 values instead of 1 sequence.
    let (_, gw, gb) = lineGradient(w: 0.75, b: -0.25, x: x, t: t)
    #expect(TrainSupport.close(try #require(result.gradients["y.w"]), gw.map { $0 * 2 / 3 }, 1e-8))
    #expect(TrainSupport.close(try #require(result.gradients["y.b"]), gb.map { $0 * 2 / 3 }, 1e-8))
  }

  /// One step of `reset before, update keeps-state, bias single` from a given h0 = c:
  /// r = σ(w_r x + b_r + u_r c), z = σ(w_z x + b_z + u_z c), n = tanh(w_n x + b_n + u_n (r c)),
  /// h = z c + (1 − z) n, and L = Σ ½ (h − t)² / B.
  @Test func oneGRUStepMatchesTheHandDerivedGradient() throws {
    let text = """
      model cell
      precision f64
      input x[1]
      gru h = x -> hidden 1, reset before, update keeps-state, bias single, initial given
      output y = state(h)
      init seed 1

      """
    let w: [String: Double] = [
      "h.w_r": 0.3, "h.w_z": -0.4, "h.w_n": 0.9, "h.u_r": 0.5, "h.u_z": 0.2, "h.u_n": -0.7,
      "h.b_r": 0.1, "h.b_z": -0.3, "h.b_n": 0.05,
    ]
    let module = TrainSupport.with(try #require(TrainSupport.lowered(text)), w.mapValues { [$0] })
    let examples: [(x: Double, c: Double, t: Double)] = [(0.8, 0.4, 1), (-1.2, -0.6, 0)]
    var expected = w.mapValues { _ in 0.0 }
    var loss = 0.0
    func sigmoid(_ a: Double) -> Double { 1 / (1 + exp(-a)) }
    for (x, c, t) in examples {
      let r = sigmoid(w["h.w_r"]! * x + w["h.b_r"]! + w["h.u_r"]! * c)
      let z = sigmoid(w["h.w_z"]! * x + w["h.b_z"]! + w["h.u_z"]! * c)
      let n = tanh(w["h.w_n"]! * x + w["h.b_n"]! + w["h.u_n"]! * r * c)
      let h = z * c + (1 - z) * n
      let d = (h - t) / Double(examples.count)  // ∂L/∂h
      loss += 0.5 * (h - t) * (h - t) / Double(examples.count)
      let dz = d * (c - n) * z * (1 - z)  // ∂L/∂(z's pre-activation)
      let dn = d * (1 - z) * (1 - n * n)  // ∂L/∂(n's pre-activation)
      let dr = dn * w["h.u_n"]! * c * r * (1 - r)  // ∂L/∂(r's pre-activation)
      expected["h.w_z"]! += dz * x
      expected["h.u_z"]! += dz * c
      expected["h.b_z"]! += dz
      expected["h.w_n"]! += dn * x
      expected["h.u_n"]! += dn * r * c
      expected["h.b_n"]! += dn
      expected["h.w_r"]! += dr * x
      expected["h.u_r"]! += dr * c
      expected["h.b_r"]! += dr
    }
    let batch = TrainingBatch(
      inputs: [
        "x": ArrayValue(shape: [2, 1, 1], values: examples.map(\.x)),
        "h.h0": ArrayValue(shape: [2, 1], values: examples.map(\.c)),
      ],
      targets: ["y": ArrayValue(shape: [2, 1], values: examples.map(\.t))])
    let result = try FiniteDifferences().evaluate(module, batch: batch, loss: .quadratic)
    #expect(abs(result.loss - loss) < 1e-15)
    #expect(Set(result.gradients.keys) == Set(w.keys))
    for (name, g) in expected.sorted(by: { $0.key < $1.key }) {
      #expect(TrainSupport.close(try #require(result.gradients[name]), [g], 1e-8), "\(name)")
    }
  }

  @Test func aTargetForNoOutputIsAnError() throws {
    let module = try #require(TrainSupport.lowered(TrainSupport.line))
    let batch = TrainingBatch(
      inputs: ["x": sequences([[1]])], targets: ["y": sequences([[1]]), "z": sequences([[1]])])
    #expect(throws: TrainingError.self) { try FiniteDifferences().evaluate(module, batch: batch, loss: .quadratic) }
  }
}
