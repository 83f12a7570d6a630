// The operations of grucc's IR. High-level ops (gru, dense) come from IRGen; lowering replaces
// them with primitive ops, and a GRU's time loop becomes a `scan` whose body is a nested graph.

/// A high-level GRU layer: operands are the input sequence, then lengths and the initial state if
/// the layer has them. Results: the output sequence and the final state.
public struct GRUOp: Sendable {
  public var layer: GRULayer
  public var hasLengths: Bool
  public var hasInitialState: Bool

  /// The parameter-name prefixes of the layer's directions: `h`, or `h.fw` and `h.bw`.
  public var directionPrefixes: [String] {
    layer.direction == .bidirectional ? ["\(layer.name).fw", "\(layer.name).bw"] : [layer.name]
  }
}

/// A high-level dense layer named after its binding: `y = x W^T + b`, on each step of a sequence
/// (shared weights, or one weight set per step when `unshared`) or on a vector.
public struct DenseOp: Sendable {
  public var name: String
  public var units: Int
  public var unshared: Bool
}

/// Which way a scan walks the time axis.
public enum ScanDirection: String, Sendable {
  case forward, reverse
}

/// A loop over time. Operands: `sequences` sequences `[B, T, F]`, then `states` initial states
/// `[B, F]`, then the lengths if `hasLengths`. The body's arguments are one step of each sequence,
/// then the carried states; it yields the new states, then the per-step outputs. Results: the final
/// states, then each per-step output stacked into a sequence.
///
/// With lengths, a batch element whose sequence has ended keeps its state and outputs zeros, and a
/// reverse scan starts at each element's own last valid step (as ONNX `sequence_lens` and
/// `tf.reverse_sequence` do).
public struct Scan: Sendable {
  public var name: String
  public var direction: ScanDirection
  public var sequences: Int
  public var states: Int
  public var hasLengths: Bool
  public var body: Graph
  /// What one step computes, in words and equations, for comments in the generated C.
  public var summary: [String] = []

  public var outputs: Int { body.outputs.count - states }
}

/// A `linear` whose weights are stored in panels for SIMD: `W` holds the `[outputs, K]` matrix's
/// values in panels of `panel` rows, the last panel holding what is left (`lastPanel` rows, no
/// zeros added): panel p's element `[k, l]` is row `p·panel + l`, column k, at `p·panel·K + k·width
/// + l` with `width` that panel's rows. One panel's rows are contiguous for each k, so the
/// product runs down k once per panel with `width` independent sums: vector lanes, with no
/// reassociation of any sum.
public struct PackedLinear: Sendable, Hashable {
  public var outputs: Int
  public var panel: Int

  /// How many panels hold `outputs` rows.
  public var panels: Int { (outputs + panel - 1) / panel }
  /// The rows of the last panel.
  public var lastPanel: Int { outputs - (panels - 1) * panel }
}

/// Where one step of a fused loop reads a value: an operand of the fused op, or an earlier step.
public enum FusionInput: Sendable, Hashable {
  case operand(Int)
  case step(Int)
}

/// One elementwise op inside a fused loop.
public struct FusionStep: Sendable {
  public var op: Op
  public var inputs: [FusionInput]
  public var hint: String?
}

/// A chain of elementwise ops on values of one type, computed in one pass over the elements: the
/// result is the last step. Steps read the operands and earlier steps only.
public struct Fusion: Sendable {
  public var steps: [FusionStep]
}

/// The ops that only gradient graphs (Autodiff) use: the adjoints of the forward ops that are not
/// forward ops themselves. `..., N` is any number of leading axes (batch, time).
public enum GradientOp: Sendable, Equatable {
  /// `dx = dy W`: operands dy `[..., N]`, W `[N, K]`; result `[..., K]`.
  case linearInput
  /// `dW = Σ_rows dy^T x`: operands x `[..., K]`, dy `[..., N]`; result `[N, K]`, summed over
  /// every leading axis (batch and time).
  case linearWeight
  /// `db = Σ_rows dy`: operand dy `[..., N]`; result `[N]`.
  case sumRows
  /// Per-step weights: operands dy `[B, T, N]`, W `[T, N, K]`; result `[B, T, K]`.
  case unsharedInput
  /// Per-step weights: operands x `[B, T, K]`, dy `[B, T, N]`; result `[T, N, K]`.
  case unsharedWeight
  /// Operand dy `[B, T, N]`; result `[T, N]`, summed over the batch.
  case sumBatch
  /// `dx = f'(x) · dy` (softmax: its Jacobian applied to dy): operands x, dy.
  case activation(Activation)
  /// The adjoint of a reduction over time: operands x `[B, T, F]`, dy `[B, F]`, and the lengths
  /// if the reduction had them; result `[B, T, F]`, zero past each length.
  case reduce(Reduction)
  /// The adjoint of `hold`: operands dy `[B, T, F]`, lengths; step L−1 receives the sum of dy over
  /// steps L−1 … T−1, earlier steps their own dy, later steps zero.
  case hold

  public var mnemonic: String {
    switch self {
    case .linearInput: return "linear_grad_input"
    case .linearWeight: return "linear_grad_weight"
    case .sumRows: return "sum_rows"
    case .unsharedInput: return "linear_unshared_grad_input"
    case .unsharedWeight: return "linear_unshared_grad_weight"
    case .sumBatch: return "sum_batch"
    case .activation(let a): return String(a.name.map { $0 == "-" ? "_" : $0 }) + "_grad"
    case .reduce(let r): return "reduce_\(r.rawValue)_grad"
    case .hold: return "hold_grad"
    }
  }
}

/// One operation. Every `switch` over `Op` is exhaustive, so a new op is a compile error in each
/// stage (printer, verifier, type rules, interpreter, C emitter) until it is handled.
public enum Op: Sendable {
  /// A value supplied by the caller (graph) or by the scan (body). The type is declared here.
  case argument(name: String, type: TensorType)
  /// A weight tensor, by name, from the module's parameter table.
  case parameter(name: String)
  /// A zero-filled value of the given type (an initial state).
  case zeros(TensorType)
  case gru(GRUOp)
  case dense(DenseOp)
  /// conv1d (pad, pool): a layer over the time axis that is not a recurrence (SequenceLayerOp.swift).
  case sequenceLayer(SequenceLayerOp)
  /// `batchnorm` or `layernorm` over the features of each step (NormOps.swift).
  case norm(NormOp)
  case scan(Scan)
  /// `x W^T (+ b)` over the last axis. Operands: x `[..., K]`, W `[N, K]`, optional b `[N]`.
  case linear
  /// `linear` with panel-packed weights. Operands: x `[..., K]`, W `[panels, K, panel]`, optional b `[N]`.
  case packedLinear(PackedLinear)
  /// Per-step weights. Operands: x `[B, T, K]`, W `[T, N, K]`, optional b `[T, N]`; T fixed.
  case linearUnshared
  case activation(Activation)
  case add
  case mul
  /// `x * factor`
  case scale(Double)
  /// `z * a + (1 - z) * b`: the GRU state update, either convention.
  case blend
  /// Features `start ..< start + count` of the last axis.
  case slice(start: Int, count: Int)
  /// Joins its operands along `axis`.
  case concat(axis: Int)
  /// Reduces a sequence over time. Operands: x and, if the model has lengths, the lengths.
  case reduce(Reduction)
  /// Zeros the steps of each sequence past its length. Operands: x, lengths.
  case mask
  /// Steps at or past each sequence's length repeat step L−1 (zeros when L = 0): a forward pass's
  /// output with `past-end hold`. Operands: x, lengths.
  case hold
  /// Reverses the first L steps of each sequence and leaves the rest in place
  /// (`tf.reverse_sequence`); without lengths, all T steps. Its own inverse. Operands: x [, lengths].
  case reverseTime
  /// Elementwise ops computed in one loop. Operands: the values the steps read.
  case fused(Fusion)
  /// An adjoint op of a gradient graph (Autodiff); the interpreter runs it, the C backend does not.
  case gradient(GradientOp)

  /// The op's name in IR dumps.
  public var mnemonic: String {
    switch self {
    case .argument: return "argument"
    case .parameter: return "parameter"
    case .zeros: return "zeros"
    case .gru: return "gru"
    case .dense: return "dense"
    case .sequenceLayer(let l): return l.kind.keyword
    case .norm(let n): return n.mnemonic
    case .scan: return "scan"
    case .linear: return "linear"
    case .linearUnshared: return "linear_unshared"
    case .packedLinear: return "linear_packed"
    case .activation(let a): return String(a.name.map { $0 == "-" ? "_" : $0 })
    case .add: return "add"
    case .mul: return "mul"
    case .scale: return "scale"
    case .blend: return "blend"
    case .slice: return "slice"
    case .concat: return "concat"
    case .reduce(let r): return "reduce_\(r.rawValue)"
    case .mask: return "mask"
    case .hold: return "hold"
    case .reverseTime: return "reverse_time"
    case .fused: return "fused"
    case .gradient(let g): return g.mnemonic
    }
  }

  /// How many results the op produces.
  public var resultCount: Int {
    switch self {
    case .gru: return 2
    case .scan(let s): return s.body.outputs.count
    case .argument, .parameter, .zeros, .dense, .sequenceLayer, .norm, .linear, .packedLinear, .linearUnshared, .activation, .add, .mul,
      .scale, .blend, .slice, .concat, .reduce, .mask, .hold, .reverseTime, .fused, .gradient:
      return 1
    }
  }

  /// Whether the op maps each element of its operands (all of one type) to the same element of
  /// its result, so it can join a fused loop.
  public var isElementwise: Bool {
    switch self {
    case .activation(let a): return !a.normalisesFeatures
    case .add, .mul, .scale, .blend: return true
    case .argument, .parameter, .zeros, .gru, .dense, .sequenceLayer, .norm, .scan, .linear, .packedLinear, .linearUnshared,
      .slice, .concat, .reduce, .mask, .hold, .reverseTime, .fused, .gradient:
      return false
    }
  }
}
