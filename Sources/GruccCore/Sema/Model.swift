// The checked, resolved model: what Sema makes of the syntax tree. Options are enums here, names
// are resolved, and every declaration keeps its source range for later diagnostics.

/// Floating-point precision of weights and arithmetic.
public enum Precision: String, Sendable, CaseIterable {
  case f32, f64
}

/// What an f32 model's weight matrices are stored as in the generated C (`weights-storage`).
/// The narrow float types widen to f32 exactly; the weights are rounded to them once, when bound,
/// so the interpreter computes with the same values the C stores. int8 is not a rounding of each
/// value but of each row against its own scale, and its products are integer ones (Int8Product).
public enum WeightElement: String, Sendable, CaseIterable {
  case f32, f16, bf16, int8

  /// Bytes per stored value.
  var bytes: Int {
    switch self {
    case .f32: 4
    case .f16, .bf16: 2
    case .int8: 1
    }
  }

  /// `x` rounded to the nearest value of this type (ties to even), or nil beyond its range.
  func round(_ x: Double) -> Double? {
    let (precision, minExponent, maxFinite): (Int, Int, Double) =
      switch self {
      case .f32: (24, -126, Double(Float.greatestFiniteMagnitude))
      case .f16: (11, -14, 65504)
      case .bf16: (8, -126, Double(Float(bitPattern: 0x7F7F_0000)))
      case .int8: preconditionFailure("int8 weights are quantised per row (Int8Product.quantise)")
      }
    guard x.isFinite else { return nil }
    if x == 0 { return x }
    // The spacing of the type's values around x: 2^(e - p + 1), fixed below the normal range.
    let e = max(Int(x.exponent), minExponent)
    let quantum = Double(sign: .plus, exponent: e - precision + 1, significand: 1)
    let rounded = (x / quantum).rounded(.toNearestOrEven) * quantum
    return abs(rounded) > maxFinite ? nil : rounded
  }

  /// The 16 stored bits of a value this type holds exactly (f16 or bf16).
  func bits(_ x: Double) -> UInt16 {
    let f = Float(x)
    switch self {
    case .f32, .int8: preconditionFailure("\(self) weights are not stored in 16 bits")
    case .bf16:
      precondition(f.bitPattern & 0xFFFF == 0, "\(x) is not a bf16 value")
      return UInt16(f.bitPattern >> 16)
    case .f16:
      let sign: UInt16 = f.sign == .minus ? 0x8000 : 0
      let a = abs(x)
      if a == 0 { return sign }
      if a < 0x1p-14 {  // subnormal: a multiple of 2^-24
        let m = a * 0x1p24
        precondition(m == m.rounded(), "\(x) is not an f16 value")
        return sign | UInt16(m)
      }
      let e = Int(a.exponent)
      let m = (a / Double(sign: .plus, exponent: e, significand: 1) - 1) * 1024
      precondition(m == m.rounded() && e <= 15, "\(x) is not an f16 value")
      return sign | UInt16(e + 15) << 10 | UInt16(m)
    }
  }
}

/// How a batch of sequences is laid out in memory: `[B, T, F]` or `[T, B, F]`.
public enum SequenceLayout: String, Sendable, CaseIterable {
  case batchMajor = "batch-major"
  case timeMajor = "time-major"
}

/// Where the reset gate acts on the candidate (see Specs/LANGUAGE.md, "Candidate").
public enum ResetPlacement: String, Sendable, CaseIterable {
  /// `n = tanh(W_n x + b_in + U_n (r * h) + b_hn)`
  case before
  /// `n = tanh(W_n x + b_in + r * (U_n h + b_hn))`
  case after
  /// `n = tanh(W_n x + b_in + U_n h + b_hn)`, and the layer has no reset gate at all.
  case none
}

/// What the update gate z keeps (see Specs/LANGUAGE.md, "State update").
public enum UpdateConvention: String, Sendable, CaseIterable {
  /// `h' = z * h + (1 - z) * n` (PyTorch, Keras, ONNX, TF1)
  case keepsState = "keeps-state"
  /// `h' = (1 - z) * h + z * n` (Chung et al. 2014 as in seed 001)
  case takesCandidate = "takes-candidate"
}

/// Which bias vectors a layer has.
public enum BiasLayout: String, Sendable, CaseIterable {
  /// `b_i*` on the input product and `b_h*` on the recurrent product (PyTorch, ONNX, Keras reset_after).
  case separate
  /// One bias per gate (TF1, Keras reset_after=False, the seeds' hand-written cells).
  case single
  case none
}

/// Which way a layer reads the sequence.
public enum Direction: String, Sendable, CaseIterable {
  case forward, reverse, bidirectional
}

/// How the two directions of a bidirectional layer are joined on each step.
public enum MergeMode: String, Sendable, CaseIterable {
  case concat, sum, mean, mul
}

/// What a layer outputs at the steps past a sequence's end (with `lengths`).
public enum PastEnd: String, Sendable, CaseIterable {
  /// Zeros (ONNX `sequence_lens`, PyTorch's packed sequences, Keras `Bidirectional`).
  case zero
  /// Each such step repeats the output of the step the pass visited before it, or zeros if there
  /// was none: a forward pass repeats its last valid output (Keras's GRU behind `Masking`, Theano's
  /// masked scan); a reverse pass reaches those steps first, so they stay zero, as in Keras.
  case hold
}

/// In which order a reverse pass lays out its output sequence.
public enum OutputOrder: String, Sendable, CaseIterable {
  /// Output step t is the state after reading input step t.
  case input
  /// Output step k is the state after the k-th step the pass visited (Keras `go_backwards=True`,
  /// seed 000's BiGRU, which does not re-align its backward outputs).
  case processing
}

/// Whether a layer runs over the steps past each sequence's end.
public enum PaddingMode: String, Sendable, CaseIterable {
  /// Steps past the end are not processed (ONNX `sequence_lens`).
  case skipped
  /// Every one of the T steps is processed, padding included; lengths only say where a reverse
  /// pass starts, which reads each valid prefix backwards and then the padding forwards
  /// (`tf.reverse_sequence`, as seed 000 does). The layer's output is meaningful at every step.
  case processed
}

/// Where the state comes from before the first step.
public enum InitialState: String, Sendable, CaseIterable {
  case zero, given
}

/// Elementwise activations (and softmax and l2norm, which normalise over the features). The parametrised
/// ones are the activations ONNX's recurrent operators name, with ONNX's definitions, so that an
/// imported model computes what its framework computed.
public enum Activation: Sendable, Equatable {
  case identity, sigmoid, tanh, relu, softmax
  /// `min(max(alpha * x + beta, 0), 1)`
  case hardSigmoid(alpha: Double, beta: Double)
  /// `x` if `x >= 0`, else `alpha * x`
  case leakyRelu(alpha: Double)
  /// `x` if `x >= alpha`, else 0
  case thresholdedRelu(alpha: Double)
  /// `alpha * tanh(beta * x)`
  case scaledTanh(alpha: Double, beta: Double)
  /// `alpha * x + beta`
  case affine(alpha: Double, beta: Double)
  /// `x` if `x >= 0`, else `alpha * (exp(x) - 1)`
  case elu(alpha: Double)
  /// `x / (1 + |x|)`
  case softsign
  /// `log(1 + exp(x))`
  case softplus
  /// `min(max(x, -c), c)`: ONNX's cell clip, applied to the input of the gate activations.
  case clip(Double)
  /// `x / max(‖x‖₂, epsilon)` over the features: torch's F.normalize, and Keras's
  /// UnitNormalization (which writes it `x · min(rsqrt(Σx²), 1/epsilon)`, equal up to rounding).
  case l2norm(epsilon: Double)

  /// How an activation is spelled in a .gru file: its name, its parameters, and the parameters'
  /// defaults (nil where the activation has no natural default and they must be written).
  public struct Form: Sendable {
    public var name: String
    public var parameters: [String]
    public var defaults: [Double]?
    var make: @Sendable ([Double]) -> Activation
  }

  public static let forms: [Form] = [
    Form(name: "identity", parameters: [], defaults: [], make: { _ in .identity }),
    Form(name: "sigmoid", parameters: [], defaults: [], make: { _ in .sigmoid }),
    Form(name: "tanh", parameters: [], defaults: [], make: { _ in .tanh }),
    Form(name: "relu", parameters: [], defaults: [], make: { _ in .relu }),
    Form(name: "softmax", parameters: [], defaults: [], make: { _ in .softmax }),
    Form(name: "hard-sigmoid", parameters: ["alpha", "beta"], defaults: [0.2, 0.5],
         make: { .hardSigmoid(alpha: $0[0], beta: $0[1]) }),
    Form(name: "leaky-relu", parameters: ["alpha"], defaults: [0.01], make: { .leakyRelu(alpha: $0[0]) }),
    Form(name: "thresholded-relu", parameters: ["alpha"], defaults: [1.0], make: { .thresholdedRelu(alpha: $0[0]) }),
    Form(name: "scaled-tanh", parameters: ["alpha", "beta"], defaults: nil,
         make: { .scaledTanh(alpha: $0[0], beta: $0[1]) }),
    Form(name: "affine", parameters: ["alpha", "beta"], defaults: nil, make: { .affine(alpha: $0[0], beta: $0[1]) }),
    Form(name: "elu", parameters: ["alpha"], defaults: [1.0], make: { .elu(alpha: $0[0]) }),
    Form(name: "softsign", parameters: [], defaults: [], make: { _ in .softsign }),
    Form(name: "softplus", parameters: [], defaults: [], make: { _ in .softplus }),
    Form(name: "clip", parameters: ["limit"], defaults: nil, make: { .clip($0[0]) }),
    // 1e-12 is both frameworks' default, so an imported head needs no argument.
    Form(name: "l2norm", parameters: ["epsilon"], defaults: [1e-12], make: { .l2norm(epsilon: $0[0]) }),
  ]

  public static func form(named name: String) -> Form? { forms.first { $0.name == name } }

  /// `name(p1, p2)` usage text for messages.
  public static func usage(_ form: Form, value: String? = nil) -> String {
    let args = (value.map { [$0] } ?? []) + form.parameters
    return args.isEmpty ? form.name : "\(form.name)(\(args.joined(separator: ", ")))"
  }

  /// The activation a form makes from number arguments: all of them, or none where the form has
  /// defaults. Reports wrong arguments at `range`.
  static func make(
    _ form: Form, arguments: [Expr], at range: SourceRange, _ diagnostics: inout DiagnosticEngine
  ) -> Activation? {
    var values: [Double] = []
    for a in arguments {
      switch a {
      case .integer(let v, _): values.append(Double(v))
      case .number(let v, _, _): values.append(v)
      case .name, .call:
        diagnostics.error(.badArguments(function: form.name, usage: usage(form)), at: a.range)
        return nil
      }
    }
    if values.isEmpty, let defaults = form.defaults { values = defaults }
    guard values.count == form.parameters.count else {
      let usage = usage(form) + (form.defaults == nil || form.parameters.isEmpty ? "" : " or \(form.name)")
      diagnostics.error(.badArguments(function: form.name, usage: usage), at: range)
      return nil
    }
    if form.name == "clip", values[0] <= 0 {
      diagnostics.error(.badArguments(function: "clip", usage: "clip(limit) with limit > 0"), at: range)
      return nil
    }
    // A zero epsilon would divide a zero vector by zero.
    if form.name == "l2norm", !(values[0] > 0) || !values[0].isFinite {
      diagnostics.error(.badArguments(function: "l2norm", usage: "l2norm(epsilon) with finite epsilon > 0"), at: range)
      return nil
    }
    return form.make(values)
  }

  public var name: String {
    switch self {
    case .identity: return "identity"
    case .sigmoid: return "sigmoid"
    case .tanh: return "tanh"
    case .relu: return "relu"
    case .softmax: return "softmax"
    case .hardSigmoid: return "hard-sigmoid"
    case .leakyRelu: return "leaky-relu"
    case .thresholdedRelu: return "thresholded-relu"
    case .scaledTanh: return "scaled-tanh"
    case .affine: return "affine"
    case .elu: return "elu"
    case .softsign: return "softsign"
    case .softplus: return "softplus"
    case .clip: return "clip"
    case .l2norm: return "l2norm"
    }
  }

  public var parameters: [Double] {
    switch self {
    case .identity, .sigmoid, .tanh, .relu, .softmax, .softsign, .softplus: return []
    case .hardSigmoid(let a, let b), .scaledTanh(let a, let b), .affine(let a, let b): return [a, b]
    case .leakyRelu(let a), .thresholdedRelu(let a), .elu(let a), .clip(let a), .l2norm(let a): return [a]
    }
  }

  /// As written in a .gru file and printed in dumps: `tanh`, `hard-sigmoid(0.2, 0.5)`.
  public var spelling: String {
    let p = parameters
    return p.isEmpty ? name : "\(name)(\(p.map(Activation.format).joined(separator: ", ")))"
  }

  /// Swift's shortest decimal that reads back as the same Double: `0.2`, `1.0`, `1e-05`.
  static func format(_ v: Double) -> String { "\(v)" }

  /// Whether each output element depends on the whole feature vector (softmax, l2norm) rather
  /// than on its own input element only; such an activation is a head function, never fused.
  public var normalisesFeatures: Bool {
    switch self {
    case .softmax, .l2norm: return true
    case .identity, .sigmoid, .tanh, .relu, .hardSigmoid, .leakyRelu, .thresholdedRelu, .scaledTanh, .affine, .elu,
      .softsign, .softplus, .clip:
      return false
    }
  }

  /// Whether f(0) = 0, so that zero padding past a sequence's end stays zero.
  public var preservesZero: Bool {
    switch self {
    case .identity, .tanh, .relu, .leakyRelu, .thresholdedRelu, .scaledTanh, .elu, .softsign, .clip, .l2norm:
      return true
    case .affine(_, let beta): return beta == 0
    case .sigmoid, .softmax, .hardSigmoid, .softplus: return false
    }
  }
}

/// Reductions over the time axis. All of them look only at the valid steps of each sequence.
public enum Reduction: String, Sendable, CaseIterable {
  case mean, max, last
}

/// The sequence input of the model.
public struct InputSpec: Sendable {
  public var name: String
  public var features: Int
  /// A fixed sequence length, or nil for any length T.
  public var steps: Int?
  public var layout: SequenceLayout
  /// The name of the per-sequence lengths input, if the model takes one.
  public var lengths: String?
  public var range: SourceRange
}

/// One GRU layer with every variant choice made explicit.
public struct GRULayer: Sendable {
  public var name: String
  public var source: String
  public var hidden: Int
  public var reset: ResetPlacement
  public var update: UpdateConvention
  public var bias: BiasLayout
  public var direction: Direction
  public var merge: MergeMode
  public var initial: InitialState
  /// Applied to each output step (not to the carried state); seed 003 uses tanh.
  public var outputActivation: Activation
  /// What the layer outputs past each sequence's end, how a reverse pass orders its outputs, and
  /// whether the padding is processed: the ways frameworks differ once sequences have lengths.
  public var pastEnd: PastEnd = .zero
  public var outputOrder: OutputOrder = .input
  public var padding: PaddingMode = .skipped
  /// The activation of the r and z gates (ONNX's f; sigmoid everywhere else).
  public var gateActivation: Activation = .sigmoid
  /// The activation of the candidate n (ONNX's g; tanh everywhere else).
  public var candidateActivation: Activation = .tanh
  /// ONNX's cell clip: every gate's and the candidate's pre-activation is clipped to [-c, c].
  public var clip: Double?
  /// A bidirectional ONNX GRU may give its backward pass activations of its own.
  public var backwardGateActivation: Activation?
  public var backwardCandidateActivation: Activation?

  /// The layer as direction `d` computes it: with the backward activations on the backward pass.
  public func direction(_ d: Int) -> GRULayer {
    guard d == 1 else { return self }
    var l = self
    l.gateActivation = backwardGateActivation ?? gateActivation
    l.candidateActivation = backwardCandidateActivation ?? candidateActivation
    return l
  }
  public var range: SourceRange
  /// Where the source says `hidden N`: a weights file made for another size is reported there.
  public var hiddenRange: SourceRange = .none

  public var directions: Int { direction == .bidirectional ? 2 : 1 }
}

/// A head expression after name resolution.
public indirect enum HeadExpr: Sendable {
  /// The value of an earlier declaration: the input, a GRU layer's output sequence, or a `let`.
  case ref(String, SourceRange)
  /// The final state of a GRU layer (forward then backward for a bidirectional layer).
  case state(layer: String, SourceRange)
  /// A dense layer whose weights are named after the binding it appears in.
  case dense(HeadExpr, units: Int, unshared: Bool, SourceRange)
  case activation(Activation, HeadExpr, SourceRange)
  case reduce(Reduction, HeadExpr, SourceRange)

  public var range: SourceRange {
    switch self {
    case .ref(_, let r), .state(_, let r), .dense(_, _, _, let r), .activation(_, _, let r), .reduce(_, _, let r):
      return r
    }
  }
}

/// A `let` or `output` binding.
public struct ValueDef: Sendable {
  public var name: String
  public var value: HeadExpr
  public var isOutput: Bool
  public var range: SourceRange
}

/// A declaration that defines a name, in source order.
public enum Definition: Sendable {
  case gru(GRULayer)
  /// conv1d, pad, pool: a layer over the time axis that is not a recurrence (SequenceLayers.swift).
  case sequence(SequenceLayer)
  case norm(NormLayer)
  case value(ValueDef)

  public var name: String {
    switch self {
    case .gru(let l): return l.name
    case .sequence(let l): return l.name
    case .norm(let l): return l.name
    case .value(let v): return v.name
    }
  }
}

/// Random distributions for `init` rules.
public enum Distribution: Sendable, Equatable {
  case normal(mean: Double, std: Double)
  /// Values more than two standard deviations from the mean are drawn again (TensorFlow's rule).
  case truncatedNormal(mean: Double, std: Double)
  case uniform(low: Double, high: Double)
  /// A random orthogonal matrix (QR of a normal matrix) times `gain`; for square blocks per gate.
  case orthogonal(gain: Double)
  case constant(Double)
  /// uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)): PyTorch's default for nn.GRU and nn.Linear.
  case fanInUniform
}

/// `init PATTERNS DISTRIBUTION`: the last rule whose pattern matches a parameter wins.
public struct InitRule: Sendable {
  public var patterns: [String]
  public var distribution: Distribution
  public var range: SourceRange
}

/// The naming and layout convention of a weights file (Specs/LANGUAGE.md, "Weights").
public enum WeightsFormat: String, Sendable, CaseIterable {
  /// grucc's own names, one tensor per gate, `[out, in]`.
  case grucc
  /// A PyTorch `state_dict`: `weight_ih_l{k}[_reverse]` `[3H, I]`, gates r, z, n; Linear `weight`, `bias`.
  case pytorch
  /// Keras: `kernel` `[I, 3H]`, `recurrent_kernel` `[H, 3H]`, `bias` `[3H]` or `[2, 3H]`, gates z, r, h.
  case keras
  /// ONNX GRU inputs: `W` `[D, 3H, I]`, `R` `[D, 3H, H]`, `B` `[D, 6H]`, gates z, r, h.
  case onnx
  /// TF1 `GRUCell`: `gates/kernel` `[I+H, 2H]` (r, u), `candidate/kernel` `[I+H, H]`.
  case tf1
}

/// `map TARGET = "SOURCE"`: where in the weights file a layer, a dense binding or one tensor is.
public struct WeightMap: Sendable {
  public enum Target: Sendable, Equatable {
    /// A gru layer: SOURCE is the prefix of its tensors in the file's convention.
    case layer(String)
    /// A binding holding a dense: SOURCE is the prefix of its weight and bias.
    case dense(String)
    /// One of grucc's tensor names (`h.w_r`): SOURCE is the file's tensor name.
    case tensor(String)
  }
  public var target: Target
  public var source: String
  /// PyTorch's layer index (`weight_ih_l{k}`), for a layer target.
  public var layerIndex: Int?
  /// For a tensor target: the file stores the matrix transposed (`[in, out]`).
  public var transposed: Bool
  /// For a tensor target: the block of the file tensor's rows (its second-to-last axis, or the
  /// elements of a vector) and columns (its last axis) that holds the tensor.
  public var rows: IndexRange? = nil
  public var columns: IndexRange? = nil
  public var range: SourceRange
}

/// `rows 0:32`: indices `start ..< end` of one axis, as in a numpy slice; nil ends are the axis's.
public struct IndexRange: Sendable, Equatable {
  public var start: Int?
  public var end: Int?
  /// `rows` or `columns`, for messages.
  public var option: String
  public var range: SourceRange

  /// The indices on an axis of `length`, or nil when they do not fit in it.
  public func indices(in length: Int) -> Range<Int>? {
    let (s, e) = (start ?? 0, end ?? length)
    return s < e && e <= length ? s..<e : nil
  }

  /// As written: `columns 0:32`.
  public var spelling: String { "\(option) \(start.map(String.init) ?? ""):\(end.map(String.init) ?? "")" }
}

/// `weights "file"`: where the trained weights live.
public struct WeightsSpec: Sendable {
  public var path: String
  public var format: WeightsFormat
  public var maps: [WeightMap] = []
  public var range: SourceRange
}

/// A checked model, ready for IR generation.
public struct Model: Sendable {
  public var name: String
  public var precision: Precision
  /// `weights-storage`: f32 unless the model says otherwise.
  public var weightElement: WeightElement = .f32
  public var input: InputSpec
  public var definitions: [Definition]
  public var weights: WeightsSpec?
  public var initSeed: UInt64
  public var initRules: [InitRule]
  public var range: SourceRange

  public var layers: [GRULayer] {
    definitions.compactMap { if case .gru(let l) = $0 { return l } else { return nil } }
  }

  public var outputs: [ValueDef] {
    definitions.compactMap { if case .value(let v) = $0, v.isOutput { return v } else { return nil } }
  }

  public func layer(named name: String) -> GRULayer? { layers.first { $0.name == name } }

  public var sequenceLayers: [SequenceLayer] {
    definitions.compactMap { if case .sequence(let l) = $0 { return l } else { return nil } }
  }
}
