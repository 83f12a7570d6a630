// Types of IR values: an element type and a shape whose batch and time dimensions may be symbolic.

/// Element types. Lengths are the only integer values.
public enum DType: String, Sendable, Hashable {
  case f32, f64, i32

  public init(_ precision: Precision) { self = precision == .f32 ? .f32 : .f64 }
}

/// One dimension of a shape: the batch size B, the sequence length T (both chosen by the caller
/// at run time), or a number fixed at compile time.
public enum Dim: Sendable, Hashable, CustomStringConvertible {
  case batch
  case time
  case fixed(Int)

  public var description: String {
    switch self {
    case .batch: return "B"
    case .time: return "T"
    case .fixed(let n): return String(n)
    }
  }

  public var fixedValue: Int? { if case .fixed(let n) = self { return n } else { return nil } }
}

/// The type of a value. Activations are `[B, T, F]` (sequences) or `[B, F]` (vectors and per-step
/// values inside a scan); parameters have fixed shapes.
public struct TensorType: Sendable, Hashable, CustomStringConvertible {
  public var dtype: DType
  public var dims: [Dim]

  public init(_ dtype: DType, _ dims: [Dim]) {
    self.dtype = dtype
    self.dims = dims
  }

  public var rank: Int { dims.count }

  /// A batch of sequences: `[B, T, F]` (T may be fixed).
  public var isSequence: Bool { rank == 3 && dims[0] == .batch && dims[2].fixedValue != nil }

  /// A batch of vectors: `[B, F]`.
  public var isVector: Bool { rank == 2 && dims[0] == .batch && dims[1].fixedValue != nil }

  /// The size of the last axis, which is always fixed for activations.
  public var features: Int { dims.last?.fixedValue ?? 0 }

  /// For a parameter: its shape as numbers (nil if any dimension is symbolic).
  public var fixedShape: [Int]? {
    var shape: [Int] = []
    for d in dims {
      guard let n = d.fixedValue else { return nil }
      shape.append(n)
    }
    return shape
  }

  public func withFeatures(_ n: Int) -> TensorType {
    var t = self
    t.dims[t.dims.count - 1] = .fixed(n)
    return t
  }

  /// The per-step type of a sequence: `[B, T, F]` → `[B, F]`.
  public var stepType: TensorType { TensorType(dtype, [dims[0], dims[2]]) }

  public var description: String { "\(dtype.rawValue)[\(dims.map(\.description).joined(separator: ", "))]" }

  /// How a value is described to users in shape diagnostics.
  public var userDescription: String {
    if isSequence { return "a sequence of \(features)-vectors" }
    if isVector { return "a \(features)-vector" }
    return description
  }
}
