// Seeded random valid models: the test-side description (RefModel, which ReferenceGRU computes)
// and the .gru text grucc compiles, for the random differential test.
//
// Every choice the language offers is an entry of a table here: `layerOptions` for what a gru
// line can say, `inputOptions` for the input statement, `headFunctions` for the functions of let
// and output bindings. A new language option is one more entry (how to draw it and how to spell
// it), its field in RefLayer (or RefModel) and its meaning in ReferenceGRU; the generator and the
// renderer pick it up from the table.

import Foundation

/// The random draws, from one seed.
struct RandomDraw {
  var rng: EndToEnd.Random

  init(seed: UInt64) { rng = EndToEnd.Random(seed) }

  mutating func chance(_ p: Double) -> Bool { rng.uniform(0, 1) < p }
  mutating func int(_ range: ClosedRange<Int>) -> Int { rng.int(range) }
  mutating func pick<T>(_ items: [T]) -> T { items[rng.int(0...(items.count - 1))] }
  /// A number in `range` on a grid of 1/20, so the .gru text spells it exactly.
  mutating func round(_ range: ClosedRange<Double>) -> Double {
    Double(rng.int(Int((range.lowerBound * 20).rounded())...Int((range.upperBound * 20).rounded()))) / 20
  }
}

/// What a drawn option needs to know about the model around the layer.
struct LayerContext {
  var precision: RefModel.Precision
  /// Whether the model has lengths: without them past-end and padding options only draw a warning.
  var hasLengths: Bool
}

/// One option of a gru line: how to draw its value into the layer, and how to spell it (nil: the
/// default, which the line may leave out; `spellDefaults` writes it anyway).
struct LayerOption: Sendable {
  var name: String
  var draw: @Sendable (inout RandomDraw, inout RefLayer, LayerContext) -> Void
  var spelling: @Sendable (RefLayer, _ spellDefaults: Bool) -> String?
}

enum RandomModels {
  // MARK: - The tables

  /// Activations for gates and candidates: every one the language has (softmax and clip are head
  /// functions only). Parameters stay where values neither explode nor saturate everything.
  /// thresholded-relu jumps by α at α: an f32 and an f64 computation of the same value can land
  /// on both sides, so f32 models use α = 0, where it does not jump.
  static func activation(_ d: inout RandomDraw, _ c: LayerContext) -> RefActivation {
    switch d.int(0...12) {
    case 0: return .identity
    case 1: return .sigmoid
    case 2: return .tanh
    case 3: return .relu
    case 4: return .softsign
    case 5: return .softplus
    case 6: return .hardSigmoid(d.round(0.1...0.5), d.round(0.3...0.7))
    case 7: return .leakyRelu(d.round(0...0.5))
    case 8: return .thresholdedRelu(c.precision == .f32 ? 0 : d.round(0...0.5))
    case 9: return .elu(d.round(0.5...1.5))
    case 10: return .scaledTanh(d.round(0.5...1.5), d.round(0.5...1.5))
    case 11: return .affine(d.round(0.5...1.2), d.round(-0.5...0.5))
    default: return d.pick([.hardSigmoid(0.2, 0.5), .leakyRelu(0.01), .thresholdedRelu(0), .elu(1)])
    }
  }

  /// Gate activations keep r and z in [0, 1], as gates: with z outside it, h' = z·h + (1 − z)·n
  /// can multiply the state at every step (an affine gate took one to 2e10 in six steps), and
  /// then a comparison with a fixed tolerance measures only f32's rounding of huge numbers. The
  /// other activations are drawn as candidate and output activations and as head functions.
  static func gateActivation(_ d: inout RandomDraw, _ c: LayerContext) -> RefActivation {
    d.chance(0.3) ? .sigmoid : .hardSigmoid(d.round(0.1...0.5), d.round(0.3...0.7))
  }

  static let layerOptions: [LayerOption] = [
    LayerOption(
      name: "reset", draw: { d, l, _ in l.reset = d.pick(RefLayer.Reset.allCases) },
      spelling: { l, _ in "reset \(l.reset.rawValue)" }),
    LayerOption(
      name: "update", draw: { d, l, _ in l.update = d.pick(RefLayer.Update.allCases) },
      spelling: { l, _ in "update \(l.update.rawValue)" }),
    LayerOption(
      name: "bias", draw: { d, l, _ in l.bias = d.pick(RefLayer.Bias.allCases) },
      spelling: { l, _ in "bias \(l.bias.rawValue)" }),
    LayerOption(
      name: "direction", draw: { d, l, _ in l.direction = d.pick(RefLayer.Direction.allCases) },
      spelling: { l, all in l.direction != .forward || all ? "direction \(l.direction.rawValue)" : nil }),
    LayerOption(
      name: "merge", draw: { d, l, _ in l.merge = d.pick(RefLayer.Merge.allCases) },
      spelling: { l, all in
        l.direction == .bidirectional && (l.merge != .concat || all) ? "merge \(l.merge.rawValue)" : nil
      }),
    LayerOption(
      name: "initial", draw: { d, l, _ in l.initialGiven = d.chance(0.3) },
      spelling: { l, all in l.initialGiven || all ? "initial \(l.initialGiven ? "given" : "zero")" : nil }),
    LayerOption(
      name: "output-activation",
      draw: { d, l, c in l.outputActivation = d.chance(0.6) ? .identity : activation(&d, c) },
      spelling: { l, all in
        l.outputActivation != .identity || all ? "output-activation \(l.outputActivation)" : nil
      }),
    LayerOption(
      name: "gate-activation",
      draw: { d, l, c in l.gateActivation = d.chance(0.6) ? .sigmoid : gateActivation(&d, c) },
      spelling: { l, all in l.gateActivation != .sigmoid || all ? "gate-activation \(l.gateActivation)" : nil }),
    LayerOption(
      name: "candidate-activation",
      draw: { d, l, c in l.candidateActivation = d.chance(0.6) ? .tanh : activation(&d, c) },
      spelling: { l, all in
        l.candidateActivation != .tanh || all ? "candidate-activation \(l.candidateActivation)" : nil
      }),
    LayerOption(
      name: "backward-gate-activation",
      draw: { d, l, c in l.backwardGateActivation = d.chance(0.3) ? gateActivation(&d, c) : nil },
      spelling: { l, _ in
        l.direction == .bidirectional ? l.backwardGateActivation.map { "backward-gate-activation \($0)" } : nil
      }),
    LayerOption(
      name: "backward-candidate-activation",
      draw: { d, l, c in l.backwardCandidateActivation = d.chance(0.3) ? activation(&d, c) : nil },
      spelling: { l, _ in
        l.direction == .bidirectional
          ? l.backwardCandidateActivation.map { "backward-candidate-activation \($0)" } : nil
      }),
    LayerOption(
      name: "past-end",
      draw: { d, l, c in l.pastEndHold = c.hasLengths && !l.paddingProcessed && d.chance(0.25) },
      spelling: { l, all in l.pastEndHold ? "past-end hold" : all ? "past-end zero" : nil }),
    LayerOption(
      name: "padding",
      draw: { d, l, c in l.paddingProcessed = c.hasLengths && !l.pastEndHold && d.chance(0.25) },
      spelling: { l, all in l.paddingProcessed ? "padding processed" : all ? "padding skipped" : nil }),
    LayerOption(
      name: "output-order",
      draw: { d, l, _ in l.processingOrder = l.direction != .forward && d.chance(0.3) },
      spelling: { l, all in l.processingOrder ? "output-order processing" : all ? "output-order input" : nil }),
    LayerOption(
      name: "clip", draw: { d, l, _ in l.clip = d.chance(0.2) ? d.round(0.5...3) : nil },
      spelling: { l, _ in l.clip.map { "clip \($0)" } }),
  ]

  /// Head functions: every one of the language's, softmax and clip included.
  static func headFunction(_ d: inout RandomDraw, _ c: LayerContext) -> RefActivation {
    switch d.int(0...5) {
    case 0: return .softmax
    case 1: return .clip(d.round(0.5...2))
    default: return activation(&d, c)
    }
  }

  // MARK: - Models

  /// A valid model from `seed`, named `r<seed>` (the C prefix), and whether its text spells out
  /// the options it leaves at their defaults.
  static func model(seed: UInt64) -> (model: RefModel, spellDefaults: Bool) {
    var d = RandomDraw(seed: seed)
    var m = RefModel(name: "r\(seed)", features: d.int(1...5))
    m.precision = d.chance(0.5) ? .f32 : .f64
    // From a stream of its own, so that the models drawn before storage existed are unchanged.
    var storage = RandomDraw(seed: seed ^ 0x5707_A6E5_0000_0000)
    if m.precision == .f32 && storage.chance(0.3) { m.weightsStorage = storage.pick(["f16", "bf16", "int8"]) }
    if d.chance(0.25) { m.steps = d.int(1...6) }
    if d.chance(0.35) { m.layout = .timeMajor }
    if d.chance(0.4) { m.lengths = "len" }
    let context = LayerContext(precision: m.precision, hasLengths: m.lengths != nil)
    let spellDefaults = d.chance(0.2)

    // Values by name, for the heads and the sources of later layers.
    var sequences = [m.input]
    var vectors: [String] = []
    var layers: [String] = []
    var bindings = 0
    func binding(_ e: RefExpr, output: Bool) -> String {
      bindings += 1
      let name = output ? "o\(bindings)" : "v\(bindings)"
      m.statements.append(output ? .output(name, e) : .let(name, e))
      return name
    }

    for k in 0..<d.int(1...3) {
      // A layer reads the input, an earlier layer, or a sequence let (made here at times).
      if k > 0 && d.chance(0.25) {
        var dense = false
        let e = sequenceExpr(&d, sequences, steps: m.steps, dense: &dense, depth: 1, context)
        sequences.append(binding(e, output: false))
      }
      var layer = RefLayer(
        name: "h\(k + 1)", source: d.pick(sequences), hidden: d.int(1...6), reset: .none, update: .keepsState,
        bias: .none)
      for option in layerOptions { option.draw(&d, &layer, context) }
      m.statements.append(.gru(layer))
      sequences.append(layer.name)
      layers.append(layer.name)
    }
    // A few lets, then one to three outputs (every model has at least one).
    for _ in 0..<d.int(0...2) {
      var dense = false
      if d.chance(0.5) {
        sequences.append(binding(sequenceExpr(&d, sequences, steps: m.steps, dense: &dense, depth: 2, context), output: false))
      } else {
        vectors.append(binding(vectorExpr(&d, sequences, vectors, layers, dense: &dense, depth: 2, context), output: false))
      }
    }
    for _ in 0..<d.int(1...3) {
      var dense = false
      if d.chance(0.5) {
        _ = binding(sequenceExpr(&d, sequences, steps: m.steps, dense: &dense, depth: 3, context), output: true)
      } else {
        _ = binding(vectorExpr(&d, sequences, vectors, layers, dense: &dense, depth: 3, context), output: true)
      }
    }
    return (m, spellDefaults)
  }

  /// A sequence-valued head. A binding holds at most one dense (`dense` says whether it has one).
  private static func sequenceExpr(
    _ d: inout RandomDraw, _ sequences: [String], steps: Int?, dense: inout Bool, depth: Int, _ c: LayerContext
  ) -> RefExpr {
    let choice = depth == 0 ? 0 : d.int(0...3)
    switch choice {
    case 1 where !dense:
      dense = true
      let inner = sequenceExpr(&d, sequences, steps: steps, dense: &dense, depth: depth - 1, c)
      return .dense(inner, units: d.int(1...5), unshared: steps != nil && d.chance(0.4))
    case 2, 3:
      return .activation(headFunction(&d, c), sequenceExpr(&d, sequences, steps: steps, dense: &dense, depth: depth - 1, c))
    default:
      return .name(d.pick(sequences))
    }
  }

  /// A vector-valued head: a reduction over time or a final state, then dense and functions.
  private static func vectorExpr(
    _ d: inout RandomDraw, _ sequences: [String], _ vectors: [String], _ layers: [String], dense: inout Bool,
    depth: Int, _ c: LayerContext
  ) -> RefExpr {
    let choice = depth == 0 ? d.int(0...2) : d.int(0...5)
    switch choice {
    case 0:
      return .state(d.pick(layers))
    case 1 where !vectors.isEmpty:
      return .name(d.pick(vectors))
    case 3 where !dense:
      dense = true
      let inner = vectorExpr(&d, sequences, vectors, layers, dense: &dense, depth: depth - 1, c)
      return .dense(inner, units: d.int(1...5))
    case 4:
      return .activation(headFunction(&d, c), vectorExpr(&d, sequences, vectors, layers, dense: &dense, depth: depth - 1, c))
    default:
      var inner = false
      let sequence = sequenceExpr(&d, sequences, steps: nil, dense: &inner, depth: min(depth, 1), c)
      // A dense inside the reduced sequence counts for the binding too.
      if inner {
        guard !dense else { return .reduce(d.pick(RefReduction.allCases), .name(d.pick(sequences))) }
        dense = true
      }
      return .reduce(d.pick(RefReduction.allCases), sequence)
    }
  }

  /// The model with an output for every layer and let nothing reads (grucc would warn about them
  /// and drop their weights, while the description still counts them).
  static func everyDefinitionUsed(_ model: RefModel) -> RefModel {
    var m = model
    var used = Set<String>()
    func visit(_ e: RefExpr) {
      switch e {
      case .name(let n), .state(let n): used.insert(n)
      case .dense(let inner, _, _), .activation(_, let inner), .reduce(_, let inner): visit(inner)
      }
    }
    var defined: [String] = []
    for s in m.statements {
      switch s {
      case .gru(let l):
        used.insert(l.source)
        defined.append(l.name)
      case .sequence(let l):
        used.insert(l.source)
        defined.append(l.name)
      case .norm(let n):
        used.insert(n.source)
        defined.append(n.name)
      case .binding(let name, let e, let isOutput):
        visit(e)
        if !isOutput { defined.append(name) }
      }
    }
    for (k, name) in defined.enumerated() where !used.contains(name) {
      m.statements.append(.output("u\(k)", .name(name)))
    }
    return m
  }

  // MARK: - Text

  /// The model as .gru text, with weights drawn by `init` rules from `seed`.
  static func text(_ m: RefModel, spellDefaults: Bool, seed: UInt64) -> String {
    var input = "input \(m.input)[\(m.features)]"
    if let steps = m.steps { input += ", steps \(steps)" }
    if m.layout == .timeMajor || spellDefaults { input += ", layout \(m.layout.rawValue)" }
    if let lengths = m.lengths { input += ", lengths \(lengths)" }
    var lines = ["# random model, seed \(seed)", "model \(m.name)"]
    if m.precision == .f64 || spellDefaults { lines.append("precision \(m.precision.rawValue)") }
    if let storage = m.weightsStorage { lines.append("weights-storage \(storage)") }
    lines.append(input)
    for s in m.statements {
      switch s {
      case .gru(let l):
        let options = layerOptions.compactMap { $0.spelling(l, spellDefaults) }
        lines.append("gru \(l.name) = \(l.source) -> hidden \(l.hidden), " + options.joined(separator: ", "))
      case .sequence(let l):
        lines.append(l.line)
      case .norm(let n): lines.append(n.line)
      case .binding(let name, let e, let isOutput):
        lines.append("\(isOutput ? "output" : "let") \(name) = \(render(e))")
      }
    }
    // Uniform weights a little wider than PyTorch's default, so gates neither saturate nor vanish.
    lines += ["init seed \(seed % 1_000_000)", "init * uniform(-0.7, 0.7)"]
    return lines.joined(separator: "\n") + "\n"
  }

  static func render(_ e: RefExpr) -> String {
    switch e {
    case .name(let n): return n
    case .state(let layer): return "state(\(layer))"
    case .dense(let inner, let units, let unshared): return "dense(\(render(inner)), \(units)\(unshared ? ", unshared" : ""))"
    case .reduce(let r, let inner): return "\(r.rawValue)(\(render(inner)))"
    case .activation(let a, let inner):
      return "\(a.name)(" + ([render(inner)] + a.parameters.map { "\($0)" }).joined(separator: ", ") + ")"
    }
  }
}
