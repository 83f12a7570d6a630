// An independent reference for grucc models, written from the equations of GRU-VARIANTS.md and
// Specs/LANGUAGE.md in Double. It uses nothing from GruccCore: the model is a test-side
// description and the weights are plain arrays keyed by grucc's tensor names.

import Foundation

// MARK: - The model description

/// A model as the tests describe it: the same choices as a .gru file, with no code shared with
/// grucc's front end, so a front-end bug cannot hide itself in the reference.
struct RefModel: Sendable {
  enum Precision: String, Sendable { case f32, f64 }
  enum Layout: String, Sendable {
    case batchMajor = "batch-major"
    case timeMajor = "time-major"
  }

  var name: String
  var precision: Precision = .f32
  var input = "x"
  var features: Int
  var steps: Int? = nil
  var layout: Layout = .batchMajor
  /// The name of the lengths input, if the model takes one.
  var lengths: String? = nil
  var statements: [RefStatement] = []
  /// `weights-storage` of an f32 model (nil: the default, f32). The reference needs nothing for it:
  /// it is given the weights grucc bound, which are already rounded.
  var weightsStorage: String? = nil
}

/// The language's elementwise functions (and softmax and l2norm, for heads), with ONNX's parameters.
enum RefActivation: Sendable, Equatable, CustomStringConvertible {
  case identity, sigmoid, tanh, relu, softmax
  case softsign, softplus
  case hardSigmoid(Double, Double)
  case leakyRelu(Double)
  case thresholdedRelu(Double)
  case elu(Double)
  case scaledTanh(Double, Double)
  case affine(Double, Double)
  /// A head function only: `clip(e, C)`.
  case clip(Double)
  /// A head function only: `l2norm(e, ε)`, over the features.
  case l2norm(Double)

  /// The five without parameters that every earlier test covers.
  static let allCases: [RefActivation] = [.identity, .sigmoid, .tanh, .relu, .softmax]

  /// The name as the language spells it.
  var name: String {
    switch self {
    case .identity: "identity"
    case .sigmoid: "sigmoid"
    case .tanh: "tanh"
    case .relu: "relu"
    case .softmax: "softmax"
    case .softsign: "softsign"
    case .softplus: "softplus"
    case .hardSigmoid: "hard-sigmoid"
    case .leakyRelu: "leaky-relu"
    case .thresholdedRelu: "thresholded-relu"
    case .elu: "elu"
    case .scaledTanh: "scaled-tanh"
    case .affine: "affine"
    case .clip: "clip"
    case .l2norm: "l2norm"
    }
  }

  /// The parameters as the language writes them after the name (or after the operand of a head).
  var parameters: [Double] {
    switch self {
    case .identity, .sigmoid, .tanh, .relu, .softmax, .softsign, .softplus: []
    case .hardSigmoid(let a, let b), .scaledTanh(let a, let b), .affine(let a, let b): [a, b]
    case .leakyRelu(let a), .thresholdedRelu(let a), .elu(let a), .clip(let a), .l2norm(let a): [a]
    }
  }

  var rawValue: String { name }

  /// As a gru option value: `tanh`, `hard-sigmoid(0.2, 0.5)`.
  var description: String {
    parameters.isEmpty ? name : "\(name)(\(parameters.map { "\($0)" }.joined(separator: ", ")))"
  }

  /// One element, by ONNX's definitions (softmax and l2norm are not elementwise).
  func apply(_ x: Double) -> Double {
    switch self {
    case .identity: return x
    case .sigmoid: return 1 / (1 + exp(-x))
    case .tanh: return Foundation.tanh(x)
    case .relu: return Swift.max(0, x)
    case .softsign: return x / (1 + abs(x))
    case .softplus: return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x))
    case .hardSigmoid(let a, let b): return Swift.min(Swift.max(a * x + b, 0), 1)
    case .leakyRelu(let a): return x >= 0 ? x : a * x
    case .thresholdedRelu(let a): return x >= a ? x : 0
    case .elu(let a): return x >= 0 ? x : a * expm1(x)
    case .scaledTanh(let a, let b): return a * Foundation.tanh(b * x)
    case .affine(let a, let b): return a * x + b
    case .clip(let c): return Swift.min(Swift.max(x, -c), c)
    case .softmax, .l2norm: preconditionFailure("\(name) is not elementwise")
    }
  }
}

enum RefReduction: String, Sendable, CaseIterable { case mean, max, last }

/// One GRU layer, every variant choice explicit.
struct RefLayer: Sendable {
  enum Reset: String, Sendable, CaseIterable { case before, after, none }
  enum Update: String, Sendable, CaseIterable {
    case keepsState = "keeps-state"
    case takesCandidate = "takes-candidate"
  }
  enum Bias: String, Sendable, CaseIterable { case separate, single, none }
  enum Direction: String, Sendable, CaseIterable { case forward, reverse, bidirectional }
  enum Merge: String, Sendable, CaseIterable { case concat, sum, mean, mul }

  var name: String
  var source: String
  var hidden: Int
  var reset: Reset
  var update: Update
  var bias: Bias
  var direction: Direction = .forward
  var merge: Merge = .concat
  var initialGiven = false
  var outputActivation: RefActivation = .identity
  /// `past-end hold`: a step past the end outputs what the pass output at the step it visited
  /// before (Keras behind Masking); otherwise zeros.
  var pastEndHold = false
  /// `output-order processing`: a reverse pass's output k is the k-th step it visited.
  var processingOrder = false
  /// `padding processed`: every step is run; a reverse pass reads tf.reverse_sequence's order.
  var paddingProcessed = false
  /// ONNX's f and g: the activation of r and z, and of the candidate n.
  var gateActivation: RefActivation = .sigmoid
  var candidateActivation: RefActivation = .tanh
  /// The backward pass's own f and g (a bidirectional layer); nil: the forward ones.
  var backwardGateActivation: RefActivation? = nil
  var backwardCandidateActivation: RefActivation? = nil
  /// Every pre-activation of r, z and n is clipped to [-clip, clip] first.
  var clip: Double? = nil

  var directions: Int { direction == .bidirectional ? 2 : 1 }

  /// Features of the output sequence.
  var outputFeatures: Int { direction == .bidirectional && merge == .concat ? 2 * hidden : hidden }

  /// Tensor-name prefixes of the directions, forward first.
  var prefixes: [String] { direction == .bidirectional ? ["\(name).fw", "\(name).bw"] : [name] }

  var gates: [String] { reset == .none ? ["z", "n"] : ["r", "z", "n"] }
}

indirect enum RefExpr: Sendable {
  case name(String)
  case state(String)
  case dense(RefExpr, units: Int, unshared: Bool = false)
  case activation(RefActivation, RefExpr)
  case reduce(RefReduction, RefExpr)
}

extension RefExpr {
  /// The names a sequence-valued expression is computed from (none for a vector).
  var sequenceNames: [String] {
    switch self {
    case .name(let n): return [n]
    case .state, .reduce: return []
    case .dense(let x, _, _), .activation(_, let x): return x.sequenceNames
    }
  }
}

/// A conv1d statement (LANGUAGE.md, "conv1d").
struct RefConv: Sendable {
  enum Padding: String, Sendable, CaseIterable { case causal, same, valid }
  var name: String
  var source: String
  var filters: Int
  var kernel: Int
  var stride = 1
  var dilation = 1
  var groups = 1
  var padding: Padding
  var bias = true
  var activation: RefActivation = .identity

  var span: Int { (kernel - 1) * dilation + 1 }

  /// The .gru line.
  var line: String {
    var s = "conv1d \(name) = \(source) -> filters \(filters), kernel \(kernel), padding \(padding.rawValue)"
    if stride != 1 { s += ", stride \(stride)" }
    if dilation != 1 { s += ", dilation \(dilation)" }
    if groups != 1 { s += ", groups \(groups)" }
    if !bias { s += ", bias no" }
    if activation != .identity { s += ", activation \(activation.rawValue)" }
    return s
  }
}

/// A pad or pool statement.
struct RefPool: Sendable {
  enum Kind: String, Sendable { case average, max }
  enum Padding: String, Sendable { case valid, same }
  var name: String
  var source: String
  var kind: Kind
  var size: Int
  var stride: Int
  var padding: Padding = .valid

  var line: String {
    "pool \(name) = \(source) -> \(kind.rawValue) \(size), stride \(stride)" + (padding == .same ? ", padding same" : "")
  }
}

/// conv1d, pad and pool: the layers over time that are not recurrences.
enum RefSequenceLayer: Sendable {
  case conv(RefConv)
  case pad(name: String, source: String, before: Int, after: Int)
  case pool(RefPool)

  var name: String {
    switch self {
    case .conv(let c): return c.name
    case .pad(let n, _, _, _): return n
    case .pool(let p): return p.name
    }
  }

  var source: String {
    switch self {
    case .conv(let c): return c.source
    case .pad(_, let s, _, _): return s
    case .pool(let p): return p.source
    }
  }

  var line: String {
    switch self {
    case .conv(let c): return c.line
    case .pad(let n, let s, let before, let after): return "pad \(n) = \(s) -> before \(before), after \(after)"
    case .pool(let p): return p.line
    }
  }

  func features(_ input: Int) -> Int {
    if case .conv(let c) = self { return c.filters }
    return input
  }

  /// The output's steps for `t` input steps (LANGUAGE.md's tables, written out again).
  func outputSteps(_ t: Int) -> Int {
    switch self {
    case .conv(let c):
      switch c.padding {
      case .causal: return t == 0 ? 0 : (t - 1) / c.stride + 1
      case .same: return (t + c.stride - 1) / c.stride
      case .valid: return t < c.span ? 0 : (t - c.span) / c.stride + 1
      }
    case .pad(_, _, let before, let after): return t + before + after
    case .pool(let p):
      switch p.padding {
      case .valid: return t < p.size ? 0 : (t - p.size) / p.stride + 1
      case .same: return (t + p.stride - 1) / p.stride
      }
    }
  }
}

enum RefStatement: Sendable {
  case gru(RefLayer)
  case sequence(RefSequenceLayer)
  /// `batchnorm` or `layernorm` over a sequence.
  case norm(RefNorm)
  case binding(name: String, RefExpr, isOutput: Bool)

  static func conv1d(_ c: RefConv) -> RefStatement { .sequence(.conv(c)) }
  static func `let`(_ name: String, _ e: RefExpr) -> RefStatement { .binding(name: name, e, isOutput: false) }
  static func output(_ name: String, _ e: RefExpr) -> RefStatement { .binding(name: name, e, isOutput: true) }
}

/// What a value is: a sequence `[B, T, F]` or a vector `[B, F]`.
struct RefShape: Sendable, Equatable {
  var isSequence: Bool
  var features: Int
}

extension RefModel {
  var layers: [RefLayer] {
    statements.compactMap { if case .gru(let l) = $0 { return l } else { return nil } }
  }

  /// Whether the model can be run one step at a time: no layer reads its sequence backwards.
  var streams: Bool { layers.allSatisfy { $0.direction == .forward } && !processesPadding && convs.isEmpty }

  /// The steps of the sequence outputs for T input steps (they all have the same), following
  /// the model's dataflow: a sequence layer's steps from its source's, wherever it stands.
  func outputSteps(_ steps: Int) -> Int {
    var count = [input: steps]
    var first: Int?
    for s in statements {
      switch s {
      case .gru(let l): count[l.name] = count[l.source]
      case .sequence(let l): count[l.name] = count[l.source].map(l.outputSteps)
      case .norm(let n): count[n.name] = count[n.source]
      case .binding(let name, let e, let isOutput):
        count[name] = e.sequenceNames.first.flatMap { count[$0] }
        if isOutput, first == nil, let c = count[name] { first = c }
      }
    }
    return first ?? steps
  }

  /// The conv1d, pad and pool layers, in order.
  var convs: [RefSequenceLayer] {
    statements.compactMap { if case .sequence(let l) = $0 { return l } else { return nil } }
  }

  /// Whether a layer runs over the padding past each end, which a stream (one sequence, its own
  /// steps only) never sees.
  var processesPadding: Bool { lengths != nil && layers.contains(where: \.paddingProcessed) }

  /// The caller-given initial states, in model order: `(h.h0, D·H)`.
  var initialStates: [(name: String, layer: String, features: Int)] {
    layers.filter(\.initialGiven).map { ("\($0.name).h0", $0.name, $0.hidden * $0.directions) }
  }

  /// Every recurrent state in model order, as the streaming API's get_state/set_state see them.
  var stateSize: Int { layers.reduce(0) { $0 + $1.hidden * $1.directions } }

  /// The outputs in model order with their shapes.
  var outputs: [(name: String, shape: RefShape)] {
    var shapes: [String: RefShape] = [input: RefShape(isSequence: true, features: features)]
    var result: [(String, RefShape)] = []
    for s in statements {
      switch s {
      case .gru(let l): shapes[l.name] = RefShape(isSequence: true, features: l.outputFeatures)
      case .sequence(let l): shapes[l.name] = RefShape(isSequence: true, features: l.features(shapes[l.source]!.features))
      case .norm(let n): shapes[n.name] = shapes[n.source]!
      case .binding(let name, let e, let isOutput):
        let shape = self.shape(of: e, shapes)
        shapes[name] = shape
        if isOutput { result.append((name, shape)) }
      }
    }
    return result
  }

  private func shape(of e: RefExpr, _ shapes: [String: RefShape]) -> RefShape {
    switch e {
    case .name(let n): return shapes[n]!
    case .state(let layer):
      let l = layers.first { $0.name == layer }!
      return RefShape(isSequence: false, features: l.hidden * l.directions)
    case .dense(let inner, let units, _):
      return RefShape(isSequence: shape(of: inner, shapes).isSequence, features: units)
    case .activation(_, let inner): return shape(of: inner, shapes)
    case .reduce(_, let inner): return RefShape(isSequence: false, features: shape(of: inner, shapes).features)
    }
  }

  /// The tensors the model needs, by grucc's naming convention (LANGUAGE.md, "Tensor names").
  var tensors: [String: [Int]] {
    var result: [String: [Int]] = [:]
    var shapes: [String: RefShape] = [input: RefShape(isSequence: true, features: features)]
    func visitDense(_ e: RefExpr, binding: String) {
      switch e {
      case .name, .state: return
      case .activation(_, let inner), .reduce(_, let inner): visitDense(inner, binding: binding)
      case .dense(let inner, let units, let unshared):
        visitDense(inner, binding: binding)
        let k = shape(of: inner, shapes).features
        if unshared {
          result["\(binding).w"] = [steps!, units, k]
          result["\(binding).b"] = [steps!, units]
        } else {
          result["\(binding).w"] = [units, k]
          result["\(binding).b"] = [units]
        }
      }
    }
    for s in statements {
      switch s {
      case .gru(let l):
        let inputSize = shapes[l.source]!.features
        for p in l.prefixes {
          for g in l.gates {
            result["\(p).w_\(g)"] = [l.hidden, inputSize]
            result["\(p).u_\(g)"] = [l.hidden, l.hidden]
            switch l.bias {
            case .separate:
              result["\(p).b_i\(g)"] = [l.hidden]
              result["\(p).b_h\(g)"] = [l.hidden]
            case .single: result["\(p).b_\(g)"] = [l.hidden]
            case .none: break
            }
          }
        }
        shapes[l.name] = RefShape(isSequence: true, features: l.outputFeatures)
      case .sequence(let l):
        let channels = shapes[l.source]!.features
        if case .conv(let c) = l {
          result["\(c.name).w"] = [c.filters, channels / c.groups, c.kernel]
          if c.bias { result["\(c.name).b"] = [c.filters] }
        }
        shapes[l.name] = RefShape(isSequence: true, features: l.features(channels))
      case .norm(let n):
        let c = shapes[n.source]!.features
        var leaves = (n.scale ? ["gamma"] : []) + (n.center ? ["beta"] : [])
        if n.kind == .batch { leaves += ["mean", "variance"] }
        for leaf in leaves { result["\(n.name).\(leaf)"] = [c] }
        shapes[n.name] = shapes[n.source]!
      case .binding(let name, let e, _):
        visitDense(e, binding: name)
        shapes[name] = shape(of: e, shapes)
      }
    }
    return result
  }
}

// MARK: - Values

/// A computed value: `[b][t][i]` for a sequence, `[b][i]` for a vector.
enum RefValue: Sendable {
  case sequence([[[Double]]])
  case vector([[Double]])

  /// Row-major, batch-major.
  var flat: [Double] {
    switch self {
    case .sequence(let s): return s.flatMap { $0.flatMap { $0 } }
    case .vector(let v): return v.flatMap { $0 }
    }
  }
}

/// One batch of inputs, batch-major.
struct RefInputs: Sendable {
  /// `[b][t][i]`
  var x: [[[Double]]]
  /// Valid steps per sequence; nil means every step.
  var lengths: [Int]?
  /// Initial states by layer name, `[b][D·H]`, forward first.
  var initial: [String: [[Double]]] = [:]

  var batch: Int { x.count }
  var steps: Int { x.first?.count ?? 0 }
  func length(_ b: Int) -> Int { lengths?[b] ?? steps }
}

struct RefResult: Sendable {
  var outputs: [(name: String, value: RefValue)]
  /// Final state of every layer, `[b][D·H]`, forward then backward.
  var finalStates: [String: [[Double]]]

  func output(_ name: String) -> RefValue? { outputs.first { $0.name == name }?.value }
}

enum ReferenceError: Error, CustomStringConvertible {
  case missingWeight(String)
  case wrongSize(String, expected: Int, found: Int)

  var description: String {
    switch self {
    case .missingWeight(let n): return "the reference needs tensor '\(n)', which the weights do not have"
    case .wrongSize(let n, let e, let f): return "tensor '\(n)' has \(f) values, the reference expects \(e)"
    }
  }
}

// MARK: - The computation

/// Runs a `RefModel` on one batch. Every function here is the textbook formula, one value at a
/// time; nothing is fused, hoisted or reordered.
struct ReferenceGRU: Sendable {
  let model: RefModel
  let weights: [String: [Double]]

  func run(_ inputs: RefInputs) throws -> RefResult {
    var values: [String: RefValue] = [model.input: .sequence(inputs.x)]
    var finals: [String: [[Double]]] = [:]
    var outputs: [(String, RefValue)] = []
    // Layers that hold or process the padding give the steps past the end a meaning: outputs
    // built on them keep those steps; a processed layer's steps all count in reductions.
    var keepsPadding = Set<String>()
    var allSteps = Set<String>()
    for s in model.statements {
      switch s {
      case .gru(let layer):
        guard case .sequence(let source) = values[layer.source]! else { preconditionFailure("gru over a vector") }
        let (sequence, final) = try gru(layer, source, inputs)
        values[layer.name] = .sequence(sequence)
        finals[layer.name] = final
        if model.lengths != nil && (layer.pastEndHold || layer.paddingProcessed) { keepsPadding.insert(layer.name) }
        if model.lengths != nil && layer.paddingProcessed { allSteps.insert(layer.name) }
      case .sequence(let l):
        guard case .sequence(let source) = values[l.source]! else { preconditionFailure("\(l.name) over a vector") }
        switch l {
        case .conv(let c): values[l.name] = .sequence(try conv1d(c, source))
        case .pad(_, _, let before, let after):
          values[l.name] = .sequence(source.map { s in
            let zero = zeros(s.first?.count ?? 0)
            return [[Double]](repeating: zero, count: before) + s + [[Double]](repeating: zero, count: after)
          })
        case .pool(let p): values[l.name] = .sequence(pool(p, source))
        }
      case .norm(let n):
        guard case .sequence(let source) = values[n.source]! else { preconditionFailure("\(n.keyword) over a vector") }
        values[n.name] = .sequence(try normalise(n, source))
        // Per step: its steps past the end mean what its source's do.
        if keepsPadding.contains(n.source) { keepsPadding.insert(n.name) }
        if allSteps.contains(n.source) { allSteps.insert(n.name) }
      case .binding(let name, let e, let isOutput):
        var v = try evaluate(e, values, finals, inputs, binding: name, allSteps: allSteps)
        let keeps = e.sequenceNames.contains { keepsPadding.contains($0) }
        if e.sequenceNames.contains(where: { allSteps.contains($0) }) { allSteps.insert(name) }
        if keeps { keepsPadding.insert(name) }
        if isOutput, !keeps, case .sequence(var s) = v {
          // A sequence output is zero past its sequence's end.
          for b in s.indices {
            for t in inputs.length(b)..<inputs.steps { s[b][t] = zeros(s[b][t].count) }
          }
          v = .sequence(s)
        }
        values[name] = v
        if isOutput { outputs.append((name, v)) }
      }
    }
    return RefResult(outputs: outputs, finalStates: finals)
  }

  // MARK: GRU layers

  /// The layer's output sequence (zero past each sequence's end) and final state.
  private func gru(_ layer: RefLayer, _ x: [[[Double]]], _ inputs: RefInputs) throws -> ([[[Double]]], [[Double]]) {
    // A conv1d before the layer may have changed the number of steps (models with one have no lengths).
    let steps = x.first?.count ?? inputs.steps
    let hidden = layer.hidden
    var perDirection: [[[[Double]]]] = []
    var finals = [[Double]](repeating: [], count: x.count)
    for (d, prefix) in layer.prefixes.enumerated() {
      var cell = try Cell(layer: layer, prefix: prefix, inputSize: x.first?.first?.count ?? 0, weights: weights)
      if d == 1 {
        cell.gate = layer.backwardGateActivation ?? layer.gateActivation
        cell.candidate = layer.backwardCandidateActivation ?? layer.candidateActivation
      }
      let backwards = layer.direction == .reverse || d == 1
      var out = [[[Double]]](repeating: [[Double]](repeating: zeros(hidden), count: steps), count: x.count)
      for b in x.indices {
        var h = inputs.initial[layer.name].map { Array($0[b][(d * hidden)..<((d + 1) * hidden)]) } ?? zeros(hidden)
        let length = inputs.lengths?[b] ?? steps
        if layer.paddingProcessed {
          // tf.reverse_sequence: the valid prefix reversed, the padding after it as it was.
          let order = backwards ? Array((0..<length).reversed()) + Array(length..<steps) : Array(0..<steps)
          for (k, t) in order.enumerated() {
            h = cell.step(x: x[b][t], h: h)
            out[b][backwards && !layer.processingOrder ? t : k] = activate(layer.outputActivation, h)
          }
        } else {
          let valid = Array(0..<length)
          for t in backwards ? valid.reversed() : valid {
            h = cell.step(x: x[b][t], h: h)
            out[b][t] = activate(layer.outputActivation, h)
          }
          if layer.pastEndHold && !backwards && length > 0 {
            for t in length..<steps { out[b][t] = out[b][length - 1] }
          }
          // Keras's go_backwards: the whole padded sequence in the order it was read.
          if backwards && layer.processingOrder { out[b].reverse() }
        }
        finals[b] += h
      }
      perDirection.append(out)
    }
    guard layer.direction == .bidirectional else { return (perDirection[0], finals) }
    let (f, r) = (perDirection[0], perDirection[1])
    var merged: [[[Double]]] = []
    for b in f.indices {
      merged.append(
        f[b].indices.map { t -> [Double] in
          let (a, c) = (f[b][t], r[b][t])
          switch layer.merge {
          case .concat: return a + c
          case .sum: return zip(a, c).map { $0 + $1 }
          case .mean: return zip(a, c).map { ($0 + $1) * 0.5 }
          case .mul: return zip(a, c).map { $0 * $1 }
          }
        })
    }
    return (merged, finals)
  }

  // MARK: Convolutions

  /// LANGUAGE.md's formula, written apart from grucc's kernel: the sequence padded with zeros
  /// first (Keras's and TensorFlow's split for `same`), then a valid convolution over it.
  private func conv1d(_ c: RefConv, _ x: [[[Double]]]) throws -> [[[Double]]] {
    let steps = x.first?.count ?? 0
    let channels = x.first?.first?.count ?? 0
    let span = c.span
    let outSteps: Int
    let before: Int
    switch c.padding {
    case .causal:
      outSteps = (steps - 1) / c.stride + 1
      before = span - 1
    case .same:
      outSteps = (steps + c.stride - 1) / c.stride
      before = Swift.max((outSteps - 1) * c.stride + span - steps, 0) / 2
    case .valid:
      outSteps = steps >= span ? (steps - span) / c.stride + 1 : 0
      before = 0
    }
    let perIn = channels / c.groups
    let perOut = c.filters / c.groups
    guard let w = weights["\(c.name).w"] else { throw ReferenceError.missingWeight("\(c.name).w") }
    guard w.count == c.filters * perIn * c.kernel else {
      throw ReferenceError.wrongSize("\(c.name).w", expected: c.filters * perIn * c.kernel, found: w.count)
    }
    let bias = c.bias ? weights["\(c.name).b"] : nil
    if c.bias && bias == nil { throw ReferenceError.missingWeight("\(c.name).b") }
    return x.map { sequence in
      let padded = [[Double]](repeating: zeros(channels), count: before) + sequence
        + [[Double]](repeating: zeros(channels), count: span)
      return (0..<outSteps).map { t in
        (0..<c.filters).map { f in
          let g = f / perOut
          var sum = 0.0
          for ci in 0..<perIn {
            for j in 0..<c.kernel {
              sum += w[(f * perIn + ci) * c.kernel + j] * padded[t * c.stride + j * c.dilation][g * perIn + ci]
            }
          }
          return c.activation.apply(sum + (bias?[f] ?? 0))
        }
      }
    }
  }

  /// Keras's pooling: windows of `size` steps, `stride` apart; with `same`, ⌈T/S⌉ windows whose
  /// padding (the smaller half before) is not counted by an average and not seen by a max.
  private func pool(_ p: RefPool, _ x: [[[Double]]]) -> [[[Double]]] {
    let steps = x.first?.count ?? 0
    let out = RefSequenceLayer.pool(p).outputSteps(steps)
    let before = p.padding == .same ? Swift.max((out - 1) * p.stride + p.size - steps, 0) / 2 : 0
    return x.map { sequence in
      (0..<out).map { t in
        let window = (0..<p.size).map { t * p.stride + $0 - before }.filter { $0 >= 0 && $0 < steps }
        return (0..<(sequence.first?.count ?? 0)).map { c in
          let values = window.map { sequence[$0][c] }
          return p.kind == .average ? values.reduce(0, +) / Double(values.count) : values.max()!
        }
      }
    }
  }

  /// One direction's weights and one step of the equations.
  private struct Cell {
    let layer: RefLayer
    let inputSize: Int
    var w: [String: [Double]] = [:]
    var u: [String: [Double]] = [:]
    /// `b_i*` (or the single `b_*`, which sits on the input side) and `b_h*`; zeros when absent.
    var bi: [String: [Double]] = [:]
    var bh: [String: [Double]] = [:]
    /// f (of r and z) and g (of n) for this direction.
    var gate: RefActivation
    var candidate: RefActivation

    init(layer: RefLayer, prefix: String, inputSize: Int, weights: [String: [Double]]) throws {
      self.layer = layer
      self.inputSize = inputSize
      self.gate = layer.gateActivation
      self.candidate = layer.candidateActivation
      let h = layer.hidden
      func tensor(_ name: String, _ count: Int) throws -> [Double] {
        guard let v = weights["\(prefix).\(name)"] else { throw ReferenceError.missingWeight("\(prefix).\(name)") }
        guard v.count == count else {
          throw ReferenceError.wrongSize("\(prefix).\(name)", expected: count, found: v.count)
        }
        return v
      }
      for g in layer.gates {
        w[g] = try tensor("w_\(g)", h * inputSize)
        u[g] = try tensor("u_\(g)", h * h)
        switch layer.bias {
        case .separate:
          bi[g] = try tensor("b_i\(g)", h)
          bh[g] = try tensor("b_h\(g)", h)
        case .single:
          bi[g] = try tensor("b_\(g)", h)
          bh[g] = [Double](repeating: 0, count: h)
        case .none:
          bi[g] = [Double](repeating: 0, count: h)
          bh[g] = [Double](repeating: 0, count: h)
        }
      }
    }

    /// GRU-VARIANTS.md, "Gates", "Candidate" and "State update"; σ and tanh are f and g
    /// (LANGUAGE.md, "Other options"), applied after the clip when the layer has one.
    func step(x: [Double], h: [Double]) -> [Double] {
      let H = layer.hidden
      func W(_ g: String, _ i: Int) -> Double { dot(w[g]!, row: i, x) }  // (W_g x)_i
      func U(_ g: String, _ v: [Double], _ i: Int) -> Double { dot(u[g]!, row: i, v) }  // (U_g v)_i
      func clipped(_ pre: Double) -> Double { layer.clip.map { Swift.min(Swift.max(pre, -$0), $0) } ?? pre }
      func f(_ pre: Double) -> Double { gate.apply(clipped(pre)) }
      func g(_ pre: Double) -> Double { candidate.apply(clipped(pre)) }
      // z_t = σ(W_z x_t + b_iz + U_z h_{t-1} + b_hz)
      let z = (0..<H).map { i in f(W("z", i) + bi["z"]![i] + U("z", h, i) + bh["z"]![i]) }
      // r_t = σ(W_r x_t + b_ir + U_r h_{t-1} + b_hr)
      let r =
        layer.reset == .none
        ? [] : (0..<H).map { i in f(W("r", i) + bi["r"]![i] + U("r", h, i) + bh["r"]![i]) }
      let n: [Double]
      switch layer.reset {
      case .before:  // tanh(W_n x_t + b_in + U_n (r_t ⊙ h_{t-1}) + b_hn)
        let rh = (0..<H).map { r[$0] * h[$0] }
        n = (0..<H).map { i in g(W("n", i) + bi["n"]![i] + U("n", rh, i) + bh["n"]![i]) }
      case .after:  // tanh(W_n x_t + b_in + r_t ⊙ (U_n h_{t-1} + b_hn))
        n = (0..<H).map { i in g(W("n", i) + bi["n"]![i] + r[i] * (U("n", h, i) + bh["n"]![i])) }
      case .none:  // tanh(W_n x_t + b_in + U_n h_{t-1} + b_hn)
        n = (0..<H).map { i in g(W("n", i) + bi["n"]![i] + U("n", h, i) + bh["n"]![i]) }
      }
      switch layer.update {
      case .keepsState: return (0..<H).map { i in z[i] * h[i] + (1 - z[i]) * n[i] }
      case .takesCandidate: return (0..<H).map { i in (1 - z[i]) * h[i] + z[i] * n[i] }
      }
    }
  }

  // MARK: Normalisation layers

  /// The textbook forms, in Double: batchnorm `(x - mean) / sqrt(variance + eps) * gamma + beta`
  /// per channel; layernorm the same with the mean and the biased variance of the step's features.
  private func normalise(_ n: RefNorm, _ x: [[[Double]]]) throws -> [[[Double]]] {
    let c = x.first?.first?.count ?? 0
    func tensor(_ leaf: String, present: Bool, otherwise value: Double) throws -> [Double] {
      guard present else { return [Double](repeating: value, count: c) }
      guard let v = weights["\(n.name).\(leaf)"] else { throw ReferenceError.missingWeight("\(n.name).\(leaf)") }
      guard v.count == c else { throw ReferenceError.wrongSize("\(n.name).\(leaf)", expected: c, found: v.count) }
      return v
    }
    let gamma = try tensor("gamma", present: n.scale, otherwise: 1)
    let beta = try tensor("beta", present: n.center, otherwise: 0)
    let batch = n.kind == .batch
    let mean = try tensor("mean", present: batch, otherwise: 0)
    let variance = try tensor("variance", present: batch, otherwise: 1)
    return x.map { sequence in
      sequence.map { v in
        if batch { return (0..<c).map { i in (v[i] - mean[i]) / sqrt(variance[i] + n.epsilon) * gamma[i] + beta[i] } }
        let mu = v.reduce(0, +) / Double(c)
        let variance = v.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / Double(c)
        return (0..<c).map { i in (v[i] - mu) / sqrt(variance + n.epsilon) * gamma[i] + beta[i] }
      }
    }
  }

  // MARK: Heads

  private func evaluate(
    _ e: RefExpr, _ values: [String: RefValue], _ finals: [String: [[Double]]], _ inputs: RefInputs, binding: String,
    allSteps: Set<String> = []
  ) throws -> RefValue {
    switch e {
    case .name(let n):
      return values[n]!
    case .state(let layer):
      return .vector(finals[layer]!)
    case .activation(let a, let inner):
      switch try evaluate(inner, values, finals, inputs, binding: binding, allSteps: allSteps) {
      case .sequence(let s): return .sequence(s.map { $0.map { activate(a, $0) } })
      case .vector(let v): return .vector(v.map { activate(a, $0) })
      }
    case .reduce(let kind, let inner):
      guard case .sequence(let s) = try evaluate(inner, values, finals, inputs, binding: binding, allSteps: allSteps) else {
        preconditionFailure("reduction of a vector")
      }
      // A sequence built on a layer that processed the padding counts every step.
      let everyStep = inner.sequenceNames.contains { allSteps.contains($0) }
      return .vector(s.indices.map { b in reduce(kind, s[b], valid: everyStep || inputs.lengths == nil ? s[b].count : inputs.length(b)) })
    case .dense(let inner, let units, let unshared):
      let v = try evaluate(inner, values, finals, inputs, binding: binding, allSteps: allSteps)
      guard let w = weights["\(binding).w"] else { throw ReferenceError.missingWeight("\(binding).w") }
      guard let bias = weights["\(binding).b"] else { throw ReferenceError.missingWeight("\(binding).b") }
      switch v {
      case .vector(let rows):
        return .vector(rows.map { dense($0, w, bias, units) })
      case .sequence(let s):
        return .sequence(
          s.map { row in
            row.indices.map { t in
              guard unshared else { return dense(row[t], w, bias, units) }
              let k = row[t].count
              // Step t has its own weights: W[t] is [units, k], b[t] is [units].
              return dense(
                row[t], Array(w[(t * units * k)..<((t + 1) * units * k)]), Array(bias[(t * units)..<((t + 1) * units)]),
                units)
            }
          })
      }
    }
  }

  /// `y = W x + b`, W `[units, K]` row-major.
  private func dense(_ x: [Double], _ w: [Double], _ b: [Double], _ units: Int) -> [Double] {
    (0..<units).map { i in dot(w, row: i, x) + b[i] }
  }

  /// Over the valid steps only; an empty sequence reduces to zeros.
  private func reduce(_ kind: RefReduction, _ sequence: [[Double]], valid: Int) -> [Double] {
    let f = sequence.first?.count ?? 0
    guard valid > 0 else { return zeros(f) }
    let steps = sequence.prefix(valid)
    switch kind {
    case .mean: return (0..<f).map { i in steps.reduce(0.0) { $0 + $1[i] } / Double(steps.count) }
    case .max: return (0..<f).map { i in steps.map { $0[i] }.max()! }
    case .last: return steps[valid - 1]
    }
  }
}

private func zeros(_ n: Int) -> [Double] { [Double](repeating: 0, count: n) }

/// Row `row` of the row-major matrix `m` (with `v.count` columns) times `v`.
private func dot(_ m: [Double], row: Int, _ v: [Double]) -> Double {
  var sum = 0.0
  for j in v.indices { sum += m[row * v.count + j] * v[j] }
  return sum
}

private func activate(_ a: RefActivation, _ v: [Double]) -> [Double] {
  // torch's F.normalize, written independently of the interpreter's kernel.
  if case .l2norm(let eps) = a {
    let norm = sqrt(v.reduce(0) { $0 + $1 * $1 })
    return v.map { $0 / Swift.max(norm, eps) }
  }
  guard a == .softmax else { return v.map(a.apply) }
  let m = v.max() ?? 0
  let e = v.map { exp($0 - m) }
  let sum = e.reduce(0, +)
  return e.map { $0 / sum }
}

/// A `batchnorm` (inference form) or `layernorm` statement.
struct RefNorm: Sendable {
  enum Kind: String, Sendable { case batch, layer }
  var kind: Kind
  var name: String
  var source: String
  var epsilon: Double
  var scale = true
  var center = true

  var keyword: String { "\(kind.rawValue)norm" }

  /// The statement as .gru text.
  var line: String {
    "\(keyword) \(name) = \(source) -> epsilon \(epsilon)" + (scale ? "" : ", scale no") + (center ? "" : ", center no")
  }
}
