// A broad set of small models (every GRU variant, directions, merges, lengths, initial states,
// output activations, stacks and heads) and seeded random inputs for them, for the tests that
// run whole pipelines: pass equivalence, determinism and robustness.

import Foundation
import Testing

@testable import GruccCore

struct VariantModel: Sendable, CustomTestStringConvertible {
  var name: String
  var text: String

  var testDescription: String { name }
}

enum ModelVariants {
  /// One layer per reset × update × bias combination, with a shared dense head.
  static func gruVariants(precision: Precision) -> [VariantModel] {
    var models: [VariantModel] = []
    for reset in ResetPlacement.allCases {
      for update in UpdateConvention.allCases {
        for bias in BiasLayout.allCases {
          models.append(
            model(
              "\(precision.rawValue)-reset-\(reset.rawValue)-update-\(update.rawValue)-bias-\(bias.rawValue)",
              precision: precision, input: "input x[3]",
              body: """
                gru h = x -> hidden 4, reset \(reset.rawValue), update \(update.rawValue), bias \(bias.rawValue)
                output y = dense(h, 2)
                """))
        }
      }
    }
    return models
  }

  /// Directions, merges, lengths, initial states, output activations, layouts, stacks and heads.
  static func structures(precision: Precision) -> [VariantModel] {
    let p = precision
    var models: [VariantModel] = []
    for direction in ["forward", "reverse"] {
      for lengths in [false, true] {
        models.append(
          model(
            "\(p.rawValue)-\(direction)\(lengths ? "-with-lengths" : "")", precision: p,
            input: "input x[2]" + (lengths ? ", lengths len" : ""),
            body: """
              gru h = x -> hidden 3, reset after, update keeps-state, bias separate, direction \(direction)
              output states = h
              output final = state(h)
              """))
      }
    }
    for merge in MergeMode.allCases {
      models.append(
        model(
          "\(p.rawValue)-bidirectional-\(merge.rawValue)-with-lengths", precision: p, input: "input x[2], lengths len",
          body: """
            gru h = x -> hidden 3, reset before, update takes-candidate, bias single, direction bidirectional, merge \(merge.rawValue)
            output states = h
            output final = state(h)
            output pooled = mean(h)
            """))
    }
    for activation in ["identity", "sigmoid", "tanh", "relu"] {
      models.append(
        model(
          "\(p.rawValue)-output-activation-\(activation)-with-lengths", precision: p, input: "input x[2], lengths len",
          body: """
            gru h = x -> hidden 3, reset before, update keeps-state, bias single, output-activation \(activation)
            output states = h
            output peak = max(h)
            """))
    }
    models.append(
      model(
        "\(p.rawValue)-initial-state-given-bidirectional", precision: p, input: "input x[2], lengths len",
        body: """
          gru h = x -> hidden 2, reset after, update keeps-state, bias separate, direction bidirectional, initial given
          output states = h
          output final = state(h)
          """))
    models.append(
      model(
        "\(p.rawValue)-initial-state-given-forward", precision: p, input: "input x[3]",
        body: """
          gru h = x -> hidden 3, reset none, update takes-candidate, bias none, initial given
          output y = dense(last(h), 2)
          """))
    models.append(
      model(
        "\(p.rawValue)-stacked-three-layers-time-major", precision: p,
        input: "input x[2], layout time-major, lengths len",
        body: """
          gru a = x -> hidden 3, reset before, update keeps-state, bias single
          gru b = a -> hidden 2, reset after, update takes-candidate, bias separate, direction bidirectional, merge concat
          gru c = b -> hidden 3, reset none, update keeps-state, bias none, direction reverse
          output y = dense(c, 1)
          output s = state(b)
          """))
    models.append(
      model(
        "\(p.rawValue)-every-head", precision: p, input: "input x[3], lengths len",
        body: """
          gru h = x -> hidden 4, reset before, update keeps-state, bias single
          let pooled = mean(h)
          output p = softmax(dense(pooled, 3))
          output q = sigmoid(dense(max(h), 2))
          output r = relu(dense(h, 2))
          output s = tanh(last(h))
          output t = identity(state(h))
          output u = h
          output v = l2norm(dense(pooled, 2), 0.5)
          output w = l2norm(dense(h, 3))
          """))
    models.append(
      model(
        "\(p.rawValue)-unshared-dense-over-fixed-steps", precision: p, input: "input x[2], steps 4",
        body: """
          gru h = x -> hidden 3, reset after, update keeps-state, bias separate, direction reverse
          let per_step = tanh(dense(h, 2, unshared))
          gru g = per_step -> hidden 2, reset before, update keeps-state, bias single
          output y = dense(g, 2, unshared)
          output z = dense(mean(g), 1)
          """))
    // What layers do past each sequence's end: held outputs (Keras behind Masking), Keras's
    // go_backwards order, and seed 000's BiGRU, which processes the padding.
    models.append(
      model(
        "\(p.rawValue)-past-end-hold", precision: p, input: "input x[2], lengths len",
        body: """
          gru h = x -> hidden 3, reset after, update keeps-state, bias separate, past-end hold, output-activation sigmoid
          output y = dense(h, 2)
          output m = mean(h)
          output s = state(h)
          """))
    models.append(
      model(
        "\(p.rawValue)-go-backwards", precision: p, input: "input x[2], lengths len",
        body: """
          gru h = x -> hidden 3, reset before, update keeps-state, bias single, direction reverse, past-end hold,
                  output-order processing
          output y = tanh(h)
          output l = last(h)
          """))
    models.append(
      model(
        "\(p.rawValue)-padding-processed-bidirectional", precision: p, input: "input x[2], lengths len",
        body: """
          gru h = x -> hidden 3, reset before, update keeps-state, bias single, direction bidirectional,
                  padding processed, output-order processing
          output states = h
          output pooled = mean(h)
          """))
    models.append(
      model(
        "\(p.rawValue)-padding-processed-reverse-stacked", precision: p, input: "input x[2], layout time-major, lengths len",
        body: """
          gru a = x -> hidden 3, reset after, update takes-candidate, bias separate, direction reverse, padding processed
          gru b = a -> hidden 2, reset none, update keeps-state, bias single
          output y = dense(a, 2)
          output m = max(a)
          output s = state(b)
          """))
    return models
  }

  static func all(precision: Precision) -> [VariantModel] {
    gruVariants(precision: precision) + structures(precision: precision)
  }

  private static func model(_ name: String, precision: Precision, input: String, body: String) -> VariantModel {
    let identifier = name.map { $0.isLetter || $0.isNumber ? $0 : "_" }
    let text = """
      model m_\(String(identifier))
      precision \(precision.rawValue)
      \(input)
      \(body)
      init seed 11
      init *.b_*, *.b zeros
      init *.w_*, *.u_*, *.w normal(0.5)

      """
    return VariantModel(name: name, text: text)
  }
}

/// Seeded random inputs for a module's arguments: B sequences of T steps, lengths that include 0
/// and T, and initial states.
struct RandomInputs {
  var rng: SplitMix64

  init(seed: UInt64) { rng = SplitMix64(state: seed) }

  mutating func uniform(_ low: Double, _ high: Double) -> Double {
    low + (high - low) * Double(rng.next() >> 11) * 0x1p-53
  }

  mutating func integer(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }

  /// Inputs for every argument of `module`, keyed by name, in the interpreter's batch-major form.
  mutating func inputs(for module: Module, batch: Int, steps: Int) -> [String: ArrayValue] {
    let steps = module.steps ?? steps
    var inputs: [String: ArrayValue] = [:]
    for i in module.graph.argumentNodes {
      guard case .argument(let name, let type) = module.graph.nodes[i].op else { continue }
      if type.dtype == .i32 {
        // The first sequence is empty and the second full; the rest are anywhere in between.
        let lengths = (0..<batch).map { b in Double(b == 0 ? 0 : b == 1 ? steps : integer(0...steps)) }
        inputs[name] = ArrayValue(shape: [batch], values: lengths)
      } else if type.isSequence {
        let count = batch * steps * type.features
        inputs[name] = ArrayValue(
          shape: [batch, steps, type.features], values: (0..<count).map { _ in uniform(-2, 2) })
      } else {
        let count = batch * type.features
        inputs[name] = ArrayValue(shape: [batch, type.features], values: (0..<count).map { _ in uniform(-1, 1) })
      }
    }
    return inputs
  }
}
