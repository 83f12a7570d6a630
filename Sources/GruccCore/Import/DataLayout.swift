// The layout tracker: what each tensor on the data path holds, element by element. A data tensor
// has a batch axis, maybe a time axis, and fixed-size axes; each position of its fixed axes holds
// one feature (a column) of one grucc expression (a part: a layer's output, its state, a dense
// layer, the h0 graph input...). Transpose, Reshape, Squeeze, Unsqueeze, Slice, Gather, Concat
// and Expand only move these references around, so any arrangement of the same numbers is
// recognised when it reaches an operator that needs a grucc expression.

/// A grucc expression, or a graph input, that data tensors draw their features from.
struct Part {
  enum Kind {
    /// A grucc expression, `text` (a name, or `last(gru1)`, `state(gru2)`, ...).
    case expression
    /// A graph input other than the sequence (a GRU's initial state); `text` is its ONNX name.
    case input
    /// A MatMul or Gemm whose bias may still come from a following Add; written as a `dense`
    /// binding when something else uses it.
    case pendingDense(PendingDense)
    /// ReduceSum over time of `text`: grucc's mean once divided by the lengths.
    case timeSum
    /// A Conv whose `conv1d` line is written when something other than an activation reads it.
    case pendingConv(PendingConv)
    /// A Pad over time, written as a `pad` line unless a Conv takes its zeros.
    case pendingPad(PendingPad)
    /// The L2 norm of part `source` over its features (F.normalize's ReduceL2, then its floor ε).
    case norm(source: Int, epsilon: Double?)
  }

  var text: String
  var kind: Kind
  var features: Int
  var isSequence: Bool
  /// Whether ONNX's value is zero at the steps past each sequence's length: true for a GRU's Y
  /// with sequence_lens, false once, say, a bias is added.
  var zeroPastEnd: Bool
}

struct PendingDense {
  /// The part the dense layer reads (an expression).
  var source: Int
  var weight: [Double]  // [units, inputs], the source's columns
  var bias: [Double]
  var units: Int
  var inputs: Int
  var name: String
}

/// Feature `column` of part `part`.
struct Element: Equatable, Hashable {
  var part: Int
  var column: Int
}

/// A tensor on the data path.
struct DataValue {
  /// The ONNX axes in order: one batch axis, at most one time axis, fixed-size axes.
  var slots: [Slot]
  /// One element per position of the fixed axes, in row-major order over them.
  var elements: [Element]
  /// Which sequence each batch row holds (a sort by length moves them).
  var order: BatchOrder = .identity
  /// How many steps the time axis holds: T, until a convolution, pad or pool changes it.
  var steps: SymbolicInt = .time
  /// Whether a sequence layer (conv1d, batchnorm, pad, pool, layernorm) made it: such steps
  /// are not the input's, so the lengths no longer say which are padding.
  var layered = false

  var hasTime: Bool { slots.contains { $0 == .time || $0 == .merged(batchFirst: true) || $0 == .merged(batchFirst: false) } }
  var fixedDims: [Int] { slots.compactMap(\.fixedSize) }
  var shape: [SymbolicInt] { slots.map { $0 == .time ? steps : $0.size } }

  /// Whether `d` is the size of `slot` here: the time axis has `steps`, the others their own.
  func matches(_ d: SymbolicInt, _ slot: Slot, _ sizes: DeclaredSizes) -> Bool {
    if slot == .time && steps != .time { return d == steps || (sizes.number(steps).map { d.constant == $0 } ?? false) }
    return sizes.matches(d, slot)
  }

  /// The parts referenced, in order of first reference.
  var parts: [Int] {
    var seen: [Int] = []
    for e in elements where !seen.contains(e.part) { seen.append(e.part) }
    return seen
  }

  /// Every column of one part, in order, with the fixed axes last: what a grucc name or
  /// expression stands for.
  func wholePart(features: (Int) -> Int) -> Int? {
    guard let p = elements.first?.part, elements.count == features(p) else { return nil }
    for (k, e) in elements.enumerated() where e != Element(part: p, column: k) { return nil }
    return p
  }

  /// Whether the axes are the batch (and time) axes followed by the fixed ones, in one of grucc's orders.
  var fixedAxesLast: Bool {
    guard let firstFixed = slots.firstIndex(where: { $0.fixedSize != nil }) else { return true }
    return slots[firstFixed...].allSatisfy { $0.fixedSize != nil }
  }
}

/// Where symbolic sizes stand for numbers: the batch size and number of steps the sequence
/// input declares, when it fixes them (a graph exported without dynamic axes).
struct DeclaredSizes {
  var batch: Int?
  var time: Int?

  /// Whether `d` is the size of `slot` for this graph: the same symbol, or the declared number.
  func matches(_ d: SymbolicInt, _ slot: Slot) -> Bool {
    switch slot {
    case .batch: return d == .batch || (batch != nil && d.constant == batch)
    case .time: return d == .time || (time != nil && d.constant == time)
    case .fixed(let n): return d.constant == n
    case .merged: return d == slot.size || (batch != nil && time != nil && d.constant == batch! * time!)
    }
  }

  /// The steps of each opaque (strided) layer at the declared T, where T is declared.
  var opaque: [Int?] = []

  func number(_ d: SymbolicInt) -> Int? { d.evaluate(batch: batch, time: time, opaque: opaque) }
}

enum DataLayout {
  // MARK: Generic rearrangement of an element table over fixed axes

  /// Elements of a row-major table of `dims` picked by index lists per axis.
  static func select<T>(_ elements: [T], dims: [Int], _ ranges: [[Int]]) throws(ImportError) -> [T] {
    let outDims = ranges.map(\.count)
    let s = ShapeFolder.strides(dims)
    var out: [T] = []
    try ShapeFolder.forEachIndex(outDims) { (index: [Int]) throws(ImportError) in
      var flat = 0
      for k in index.indices { flat += ranges[k][index[k]] * s[k] }
      out.append(elements[flat])
    }
    return out
  }

  /// Elements of a row-major table of `dims` with the axes permuted (output axis k is input axis perm[k]).
  static func permute<T>(_ elements: [T], dims: [Int], _ perm: [Int]) throws(ImportError) -> [T] {
    let outDims = perm.map { dims[$0] }
    let s = ShapeFolder.strides(dims)
    var out: [T] = []
    out.reserveCapacity(elements.count)
    try ShapeFolder.forEachIndex(outDims) { (index: [Int]) throws(ImportError) in
      var flat = 0
      for (k, a) in perm.enumerated() { flat += index[k] * s[a] }
      out.append(elements[flat])
    }
    return out
  }

  // MARK: Operators

  static func transpose(_ v: DataValue, perm: [Int]?) throws(ImportError) -> DataValue {
    let rank = v.slots.count
    let p = perm ?? Array((0..<rank).reversed())
    guard p.sorted() == Array(0..<rank) else {
      throw importFailure("attribute 'perm' \(p) is not a permutation of the \(rank) axes of \(slotsText(v.slots))")
    }
    var out = v
    out.slots = p.map { v.slots[$0] }
    // The fixed axes keep their relative order under the permutation restricted to them.
    let fixed = v.slots.indices.filter { v.slots[$0].fixedSize != nil }
    let fixedPerm = p.filter { fixed.contains($0) }.map { fixed.firstIndex(of: $0)! }
    out.elements = try permute(v.elements, dims: v.fixedDims, fixedPerm)
    return out
  }

  static func unsqueeze(_ v: DataValue, axes raw: [Int]) throws(ImportError) -> DataValue {
    let rank = v.slots.count + raw.count
    var out = v
    for a in try ShapeFolder.axes(raw, rank: rank).sorted() { out.slots.insert(.fixed(1), at: a) }
    return out
  }

  static func squeeze(_ v: DataValue, axes raw: [Int]?) throws(ImportError) -> DataValue {
    var out = v
    guard let raw else {
      out.slots.removeAll { $0 == .fixed(1) }
      return out
    }
    let axes = try ShapeFolder.axes(raw, rank: v.slots.count)
    for a in axes where v.slots[a] != .fixed(1) {
      let what = v.slots[a] == .batch ? "the batch axis" : v.slots[a] == .time ? "the time axis" : "of size \(v.slots[a])"
      throw importFailure("axis \(a) of \(slotsText(v.slots)) is \(what), which is not of size 1")
    }
    out.slots = v.slots.indices.filter { !axes.contains($0) }.map { v.slots[$0] }
    return out
  }

  /// Reshape that regroups fixed axes and adds or drops size-1 axes while the batch and time
  /// axes stay whole and in place: the fixed axes between them keep their element order.
  static func reshape(_ v: DataValue, target raw: [SymbolicInt], allowZero: Bool, sizes: DeclaredSizes) throws(ImportError) -> DataValue {
    let source = v.shape
    // 0 copies a dimension, -1 takes what is left.
    var target: [SymbolicInt] = []
    var rest: Int?
    for (k, d) in raw.enumerated() {
      if d == SymbolicInt(0) && !allowZero {
        guard k < source.count else { throw importFailure("the new shape copies dimension \(k) (a 0), which \(slotsText(v.slots)) does not have") }
        target.append(source[k])
      } else if d == SymbolicInt(-1) {
        guard rest == nil else { throw importFailure("the new shape has more than one -1") }
        rest = k
        target.append(SymbolicInt(1))
      } else {
        guard let sign = d.sign, sign > 0 || (sign == 0 && allowZero) else {
          throw importFailure("the new shape \(symbolicShapeText(raw)) has the dimension \(d)")
        }
        target.append(d)
      }
    }
    if let rest {
      guard let total = ShapeFolder.product(source), let known = ShapeFolder.product(target) else {
        throw importFailure("the size of \(slotsText(v.slots)) overflows")
      }
      if let r = total.dividedExactly(by: known) {
        target[rest] = r
      } else if let t = sizes.number(total), let k = sizes.number(known), k > 0, t % k == 0 {
        target[rest] = SymbolicInt(t / k)
      } else {
        throw importFailure("the new shape \(symbolicShapeText(raw)) does not divide \(slotsText(v.slots))")
      }
    }
    let mixes = importFailure(
      "reshaping \(slotsText(v.slots)) to \(symbolicShapeText(target)) mixes the batch or time axis with others; "
        + "grucc can regroup the other axes, add or drop axes of size 1, and flatten batch and time together")
    // The batch and time axes (alone, or flattened together) are anchors; the runs of fixed axes
    // between them must keep their sizes, in any grouping.
    var slots: [Slot] = []
    var j = 0
    let core = v.slots.filter { $0 != .fixed(1) }
    var k = 0
    func anchor(_ d: SymbolicInt, _ s: Slot) -> Bool { v.matches(d, s, sizes) }
    while k <= core.count {
      var product = 1
      while k < core.count, let n = core[k].fixedSize {
        guard let p = Checked.multiply(product, n) else { throw mixes }
        product = p
        k += 1
      }
      // The target's dims for this run, until their product is reached; then its size-1 dims,
      // unless the next anchor is one.
      var have = 1
      while have < product || (j < target.count && target[j] == SymbolicInt(1) && (k == core.count || !anchor(target[j], core[k]))) {
        guard j < target.count, let n = target[j].constant, n > 0, let p = Checked.multiply(have, n), p <= product else { throw mixes }
        slots.append(.fixed(n))
        have = p
        j += 1
      }
      guard have == product else { throw mixes }
      if k < core.count {
        guard j < target.count else { throw mixes }
        let a = core[k]
        let next: Slot? = k + 1 < core.count ? core[k + 1] : nil
        switch a {
        case .batch, .time:
          let flat = Slot.merged(batchFirst: a == .batch)
          if !anchor(target[j], a), next == (a == .batch ? .time : .batch), anchor(target[j], flat) {
            slots.append(flat)
            k += 1
          } else {
            guard anchor(target[j], a) else { throw mixes }
            slots.append(a)
          }
          j += 1
        case .merged(let batchFirst):
          let pair: [Slot] = batchFirst ? [.batch, .time] : [.time, .batch]
          if anchor(target[j], a) {
            slots.append(a)
            j += 1
          } else {
            guard j + 1 < target.count, anchor(target[j], pair[0]), anchor(target[j + 1], pair[1]) else { throw mixes }
            slots += pair
            j += 2
          }
        case .fixed: break
        }
      }
      k += 1
    }
    while j < target.count, target[j] == SymbolicInt(1) {
      slots.append(.fixed(1))
      j += 1
    }
    guard j == target.count else { throw mixes }
    var out = v
    out.slots = slots
    return out
  }

  /// Slice or Gather along a fixed axis: positions `picks` of it (`keepAxis` false drops the axis,
  /// as a scalar Gather index does).
  static func select(_ v: DataValue, axis: Int, picks: [Int], keepAxis: Bool) throws(ImportError) -> DataValue {
    let fixed = v.slots.indices.filter { v.slots[$0].fixedSize != nil }
    guard let f = fixed.firstIndex(of: axis) else { throw importFailure("axis \(axis) is not a fixed-size axis") }
    let dims = v.fixedDims
    var ranges = dims.map { Array(0..<$0) }
    ranges[f] = picks
    var out = v
    out.elements = try select(v.elements, dims: dims, ranges)
    if keepAxis {
      out.slots[axis] = .fixed(picks.count)
    } else {
      out.slots.remove(at: axis)
    }
    return out
  }

  /// Concat along a fixed axis: the other axes must agree.
  static func concat(_ vs: [DataValue], axis: Int) throws(ImportError) -> DataValue {
    let first = vs[0]
    guard first.slots[axis].fixedSize != nil else {
      throw importFailure("Concat along the \(first.slots[axis]) axis; grucc cannot join batches or sequences")
    }
    for v in vs.dropFirst() {
      guard v.slots.count == first.slots.count,
        v.slots.indices.allSatisfy({ $0 == axis ? v.slots[$0].fixedSize != nil : v.slots[$0] == first.slots[$0] })
      else {
        throw importFailure("Concat of \(slotsText(first.slots)) and \(slotsText(v.slots)) along axis \(axis)")
      }
      guard v.order == first.order else {
        throw importFailure("Concat of tensors whose sequences are in different orders (\(first.order) and \(v.order))")
      }
    }
    let fixed = first.slots.indices.filter { first.slots[$0].fixedSize != nil }
    let f = fixed.firstIndex(of: axis)!
    // Outer positions (fixed axes before the concatenated one) each take a block from every input.
    let outer = first.fixedDims[..<f].reduce(1, *)
    var elements: [Element] = []
    for o in 0..<outer {
      for v in vs {
        let block = v.fixedDims[f...].reduce(1, *)
        elements.append(contentsOf: v.elements[(o * block)..<((o + 1) * block)])
      }
    }
    var out = first
    out.slots[axis] = .fixed(vs.map { $0.slots[axis].fixedSize! }.reduce(0, +))
    out.elements = elements
    return out
  }
}
