// What an importer makes of a framework's model file: a .gru program that says the same thing,
// the weights it names (in grucc's own tensor names), and how grucc's inputs and outputs relate
// to the original's. `grucc import` writes the program and the weights; `grucc model.onnx`
// compiles them directly.

public struct ImportedModel: Sendable {
  /// The .gru text, with a `weights` statement naming `weightsFile`.
  public var source: String
  var tensors: [NamedTensor]
  public var weightsFile: String
  /// Differences the user should know about (layouts of outputs and initial states).
  public var notes: [String]
  /// How each of grucc's inputs is taken from the framework's inputs (one framework input may
  /// feed several: a stacked GRU's h0 gives each layer its own), and each of grucc's outputs
  /// from the framework's outputs.
  public var inputs: [ImportedTensorMap]
  public var outputs: [ImportedTensorMap]
}

/// How one grucc input or output lies inside a framework tensor: which framework axes are the
/// batch and the time, and where each of grucc's feature columns is among the others.
public struct ImportedTensorMap: Sendable, Equatable {
  public enum Axis: Sendable, Equatable {
    case batch, time
    case fixed(Int)
  }

  /// grucc's name: the input, the lengths, `LAYER.h0`, or an output.
  public var grucc: String
  /// The framework's (ONNX graph input or output) name.
  public var framework: String
  /// The framework tensor's axes, in its order.
  public var axes: [Axis]
  /// For each of grucc's feature columns, its row-major position among the framework tensor's
  /// fixed-size axes. Empty for the lengths (a vector with no feature axis).
  public var columns: [Int]

  /// grucc's array (`[B, T, F]` or `[T, B, F]` by `layout` for sequences, `[B, F]` otherwise,
  /// `[B]` for lengths) made from the framework's array of shape `shape`.
  public func gruccArray(from values: [Double], shape: [Int], timeMajor: Bool) -> ArrayValue? {
    guard shape.count == axes.count else { return nil }
    guard let batchAxis = axes.firstIndex(of: .batch) else { return nil }
    let timeAxis = axes.firstIndex(of: .time)
    let fixedAxes = axes.indices.filter { if case .fixed = axes[$0] { true } else { false } }
    for a in fixedAxes { if case .fixed(let n) = axes[a], shape[a] != n { return nil } }
    var strides = [Int](repeating: 1, count: shape.count)
    for k in stride(from: shape.count - 2, through: 0, by: -1) { strides[k] = strides[k + 1] * shape[k + 1] }
    let fixedDims = fixedAxes.map { shape[$0] }
    // The framework offset of each fixed position.
    var fixedOffsets: [Int] = []
    var index = [Int](repeating: 0, count: fixedDims.count)
    for _ in 0..<max(1, fixedDims.reduce(1, *)) {
      fixedOffsets.append(zip(fixedAxes, index).map { strides[$0] * $1 }.reduce(0, +))
      var k = fixedDims.count - 1
      while k >= 0 {
        index[k] += 1
        if index[k] < fixedDims[k] { break }
        index[k] = 0
        k -= 1
      }
    }
    let batch = shape[batchAxis]
    let steps = timeAxis.map { shape[$0] } ?? 1
    let columns = self.columns.isEmpty ? [0] : self.columns
    guard columns.allSatisfy({ $0 < fixedOffsets.count }) else { return nil }
    var out: [Double] = []
    out.reserveCapacity(batch * steps * columns.count)
    let outer = timeMajor && timeAxis != nil ? (steps, batch) : (batch, steps)
    for i in 0..<outer.0 {
      for j in 0..<outer.1 {
        let (b, t) = timeMajor && timeAxis != nil ? (j, i) : (i, j)
        let base = b * strides[batchAxis] + (timeAxis.map { t * strides[$0] } ?? 0)
        for c in columns { out.append(values[base + fixedOffsets[c]]) }
      }
    }
    var outShape = timeAxis == nil ? [batch] : (timeMajor ? [steps, batch] : [batch, steps])
    if !self.columns.isEmpty { outShape.append(columns.count) }
    return ArrayValue(shape: outShape, values: out)
  }
}

/// An import that cannot be done, with the node it concerns.
public struct ImportError: Error, Sendable, CustomStringConvertible, Equatable {
  public var node: String?
  public var message: String
  /// How far the import got (nodes evaluated): of two attempts, the further one's error is shown.
  var progress: Int = 0
  /// Whether the error only says the input's assumed layout does not fit: the other attempt's
  /// error, wherever it arose, says more.
  var layoutMismatch = false

  /// Whether this error, from one attempt, is more to the point than `other`.
  func ranks(above other: ImportError) -> Bool {
    (layoutMismatch ? 0 : 1, progress) > (other.layoutMismatch ? 0 : 1, other.progress)
  }

  public var description: String { node.map { "\($0): \(message)" } ?? message }
}

/// A DSL program being written, one statement per line, with unique identifiers.
struct ProgramWriter {
  private(set) var lines: [String] = []
  private var used: Set<String> = []

  mutating func line(_ s: String) { lines.append(s) }

  func isUsed(_ name: String) -> Bool { used.contains(name) }

  /// A valid, unused .gru name close to `hint`: letters, digits and `_`, at most 48 characters.
  mutating func name(_ hint: String, fallback: String) -> String {
    var candidate = Self.identifier(hint) ?? fallback
    let s = candidate
    var k = 2
    while used.contains(candidate) {
      candidate = "\(s)_\(k)"
      k += 1
    }
    used.insert(candidate)
    return candidate
  }

  /// `hint` as a .gru (and C) identifier: other characters become `_`; nil if nothing usable
  /// is left, or it is too long or a word the language reserves.
  static func identifier(_ hint: String) -> String? {
    var s = String(hint.unicodeScalars.map { c -> Character in
      c.isASCII && (("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "_")
        ? Character(c) : "_"
    })
    while s.hasPrefix("_") { s.removeFirst() }
    while s.hasSuffix("_") { s.removeLast() }
    if s.isEmpty || s.first!.isNumber || s.count > 48 || reserved.contains(s) { return nil }
    return s
  }

  /// Names the .gru language gives a meaning of its own.
  static let reserved: Set<String> = Set(Parser.statementKeywords + ["hidden", "steps", "seed"])
}
