// The checked, resolved model: what Sema makes of the syntax tree. Options are enums here, names
// are resolved, and every declaration keeps its source range for later diagnostics.

/// Floating-point precision of weights and arithmetic.
public enum Precision: String, Sendable, CaseIterable {
  case f32, f64
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

/// Where the state comes from before the first step.
public enum InitialState: String, Sendable, CaseIterable {
  case zero, given
}

/// Elementwise activations (and softmax, which normalises over the features).
public enum Activation: String, Sendable, CaseIterable {
  case identity, sigmoid, tanh, relu, softmax

  /// Whether f(0) = 0, so that zero padding past a sequence's end stays zero.
  public var preservesZero: Bool {
    switch self {
    case .identity, .tanh, .relu: return true
    case .sigmoid, .softmax: return false
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
  public var range: SourceRange

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
  case value(ValueDef)

  public var name: String {
    switch self {
    case .gru(let l): return l.name
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

/// Weight files in the conventions grucc reads.
public enum WeightsFormat: String, Sendable, CaseIterable {
  case grucc
}

/// `weights "file"`: where the trained weights live.
public struct WeightsSpec: Sendable {
  public var path: String
  public var format: WeightsFormat
  public var range: SourceRange
}

/// A checked model, ready for IR generation.
public struct Model: Sendable {
  public var name: String
  public var precision: Precision
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
}
