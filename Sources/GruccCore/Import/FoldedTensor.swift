// The values the constant/shape folder computes with: tensors whose every element is known at
// import time, either a number or an integer in terms of the batch size and the number of steps
// (a shape computed from Shape(x)); broadcast fills whose shape may be symbolic (the zero
// initial state an exporter builds with Expand or ConstantOfShape); and per-sequence vectors
// (the lengths input and the permutations that sort a batch by them).

import Foundation

/// One element of a folded tensor.
enum FoldedScalar: Hashable, CustomStringConvertible {
  case number(Double)
  case symbol(SymbolicInt)

  /// A symbol that does not depend on B or T is a number.
  static func of(_ s: SymbolicInt) -> FoldedScalar {
    if let c = s.constant { return .number(Double(c)) }
    return .symbol(s)
  }

  /// The value as a symbolic integer, when it is one (a number must be a whole number).
  var symbolic: SymbolicInt? {
    switch self {
    case .symbol(let s): return s
    case .number(let d): return wholeNumber(d).map { SymbolicInt($0) }
    }
  }

  var number: Double? {
    if case .number(let d) = self { return d }
    return nil
  }

  var description: String {
    switch self {
    case .number(let d): return numberText(d)
    case .symbol(let s): return s.description
    }
  }
}

/// `d` as an Int when it is a whole number an Int (and a Double, exactly) can hold; nil for NaN,
/// infinities, fractions and magnitudes of 2^53 or more.
func wholeNumber(_ d: Double) -> Int? {
  guard d.isFinite, d == d.rounded(.towardZero), abs(d) < 9_007_199_254_740_992 else { return nil }
  return Int(d)
}

/// A number as messages print it: integers without a fraction, others as Swift prints them.
func numberText(_ d: Double) -> String {
  if let n = wholeNumber(d) { return String(n) }
  if d.isNaN { return "NaN" }
  if d.isInfinite { return d > 0 ? "inf" : "-inf" }
  // Past 2^53 every double is a whole number; up to 2^64 print it as the integer it came from.
  if d == d.rounded(.towardZero) && abs(d) < 1.8e19 { return String(format: "%.0f", d) }
  return "\(d)"
}

/// Which ONNX element types a folded tensor came from: the arithmetic differs (integer division
/// truncates) and Cast converts between them.
enum FoldedKind: Equatable {
  case float, integer, bool

  init(_ type: OnnxDataType) {
    switch type {
    case .float, .double, .float16, .bfloat16: self = .float
    case .bool: self = .bool
    default: self = .integer
    }
  }
}

/// A tensor known at import time. Large ones (weights) hold plain numbers; shapes may hold
/// symbols.
struct FoldedTensor: Equatable {
  var dims: [Int]
  var kind: FoldedKind
  var elements: [FoldedScalar]

  /// The most elements the folder makes (by Expand, ConstantOfShape, Range, Tile...): far more
  /// than any shape computation needs, far less than would exhaust memory.
  static let maxElements = 1 << 22

  init(dims: [Int], kind: FoldedKind, elements: [FoldedScalar]) {
    self.dims = dims
    self.kind = kind
    self.elements = elements
  }

  init(dims: [Int], kind: FoldedKind, numbers: [Double]) {
    self.init(dims: dims, kind: kind, elements: numbers.map(FoldedScalar.number))
  }

  init(_ t: OnnxTensor) {
    self.init(dims: t.dims, kind: FoldedKind(t.dataType), numbers: t.values)
  }

  static func scalar(_ s: FoldedScalar, kind: FoldedKind) -> FoldedTensor { FoldedTensor(dims: [], kind: kind, elements: [s]) }

  static func vector(_ s: [FoldedScalar], kind: FoldedKind = .integer) -> FoldedTensor {
    FoldedTensor(dims: [s.count], kind: kind, elements: s)
  }

  var count: Int { elements.count }

  /// Every element as a number, or nil if one is symbolic.
  var numbers: [Double]? {
    var out: [Double] = []
    out.reserveCapacity(elements.count)
    for e in elements {
      guard case .number(let d) = e else { return nil }
      out.append(d)
    }
    return out
  }

  var isSymbolic: Bool { elements.contains { if case .symbol = $0 { return true } else { return false } } }

  /// The shape, for messages: "[2, 3]" or "a scalar".
  var shapeDescription: String { dims.isEmpty ? "a scalar" : shapeText(dims) }

  /// The values, for messages: "[2, batch, 6]" (at most 8 shown).
  var valueDescription: String {
    let shown = elements.prefix(8).map(\.description).joined(separator: ", ")
    let text = elements.count > 8 ? shown + ", … (\(elements.count) values)" : shown
    return dims.isEmpty ? text : "[\(text)]"
  }
}

/// A tensor filled with one value, of a shape that may depend on B and T: what Expand and
/// ConstantOfShape make of a constant, kept unexpanded.
struct FilledTensor: Equatable {
  var value: Double
  var kind: FoldedKind
  var shape: [SymbolicInt]
}

/// Which original sequence each row of a batch holds: a word of permutations, each a sort of the
/// lengths (TopK's indices) or the inverse of one. The empty word is the input's own order.
struct BatchOrder: Equatable, CustomStringConvertible {
  struct Step: Equatable {
    /// Which sort: the name of the TopK output that made it, so two sorts of the same lengths
    /// by different nodes are not assumed to agree.
    var sort: String
    var inverted: Bool
  }

  private(set) var steps: [Step] = []

  static let identity = BatchOrder()

  init() {}
  init(sort: String) { steps = [Step(sort: sort, inverted: false)] }

  var isIdentity: Bool { steps.isEmpty }

  /// Rows taken by `index` from a batch in this order: row i is this order's row index[i].
  func then(_ index: BatchOrder) -> BatchOrder {
    var out = self
    for s in index.steps {
      if let last = out.steps.last, last.sort == s.sort, last.inverted != s.inverted {
        out.steps.removeLast()
      } else {
        out.steps.append(s)
      }
    }
    return out
  }

  /// The order that undoes this one.
  var inverse: BatchOrder {
    var out = BatchOrder()
    out.steps = steps.reversed().map { Step(sort: $0.sort, inverted: !$0.inverted) }
    return out
  }

  var description: String {
    isIdentity ? "the input's order"
      : "sorted by length" + (steps.count > 1 || steps[0].inverted ? " (and reordered again)" : "")
  }
}

/// A vector with one value per sequence of the batch (ONNX shape [batch], possibly with size-1
/// axes around it): the lengths input, a permutation of the batch, or 0, 1, ..., B-1.
struct SequenceVector: Equatable {
  enum Kind: Equatable {
    /// The lengths graph input.
    case lengths
    /// Indices that reorder a batch: gathering a batch in order o by them gives order o.then(order).
    case permutation(BatchOrder)
    /// Range(0, B, 1).
    case iota
  }

  var kind: Kind
  /// For lengths: which sequence each row belongs to.
  var order: BatchOrder
  /// The ONNX shape: exactly one batch axis, the others of size 1.
  var axes: [Slot]
  var elementKind: FoldedKind

  var shape: [SymbolicInt] { axes.map { $0 == .batch ? .batch : SymbolicInt(1) } }
}

/// One axis of a data tensor or a per-sequence vector, as the ONNX graph orders them.
enum Slot: Equatable, CustomStringConvertible {
  case batch, time
  case fixed(Int)
  /// The batch and time axes flattened into one (Keras' TimeDistributed reshapes [B, T, F] to
  /// [B·T, F] around its layer), batch-major or time-major.
  case merged(batchFirst: Bool)

  var size: SymbolicInt {
    switch self {
    case .batch: return .batch
    case .time: return .time
    case .fixed(let n): return SymbolicInt(n)
    case .merged: return (SymbolicInt.batch * SymbolicInt.time)!
    }
  }

  var fixedSize: Int? {
    if case .fixed(let n) = self { return n }
    return nil
  }

  var description: String {
    switch self {
    case .batch: return "batch"
    case .time: return "time"
    case .fixed(let n): return String(n)
    case .merged(let batchFirst): return batchFirst ? "batch·time" : "time·batch"
    }
  }
}

func slotsText(_ slots: [Slot]) -> String { "[" + slots.map(\.description).joined(separator: ", ") + "]" }
func symbolicShapeText(_ shape: [SymbolicInt]) -> String { "[" + shape.map(\.description).joined(separator: ", ") + "]" }
