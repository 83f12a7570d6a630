// The constant/shape folder: ONNX operators evaluated on tensors known at import time
// (FoldedTensor). Exporters compute shapes, indices and zero states with these around every
// GRU; folding them here, symbolically in B and T, replaces matching the exporters' patterns one
// by one. Every number that becomes an axis, index, count or dimension is checked first: a NaN,
// an infinity, a fraction or an absurd size is an error, never a trap.

/// An error of the folder; the importer adds the node.
func importFailure(_ message: String) -> ImportError { ImportError(node: nil, message: message) }

enum ShapeFolder {
  // MARK: Numbers that must be integers

  /// The elements as Ints; each must be a whole number (of an integer or a float tensor).
  static func integers(_ t: FoldedTensor, _ what: String) throws(ImportError) -> [Int] {
    var out: [Int] = []
    out.reserveCapacity(t.count)
    for e in t.elements {
      switch e {
      case .symbol(let s):
        throw importFailure("\(what): \(s) depends on the batch size or the number of steps; it must be a constant here")
      case .number(let d):
        guard let n = wholeNumber(d) else { throw importFailure("\(what): \(numberText(d)) is not a whole number below 2^53") }
        out.append(n)
      }
    }
    return out
  }

  /// The elements as symbolic integers (shapes may depend on B and T).
  static func symbolicIntegers(_ t: FoldedTensor, _ what: String) throws(ImportError) -> [SymbolicInt] {
    var out: [SymbolicInt] = []
    for e in t.elements {
      guard let s = e.symbolic else { throw importFailure("\(what): \(e) is not a whole number below 2^53") }
      out.append(s)
    }
    return out
  }

  /// Slice starts and ends: whole numbers, where exporters write ±2^63-1 for "to the end", which
  /// the ONNX reader keeps as the nearest double. Magnitudes past 2^62 clamp there.
  static func bounds(_ t: FoldedTensor, _ what: String) throws(ImportError) -> [Int] {
    var out: [Int] = []
    for e in t.elements {
      guard case .number(let d) = e, !d.isNaN, d == d.rounded(.towardZero) || d.isInfinite else {
        throw importFailure("\(what): \(e) is not a whole number")
      }
      let limit = Double(1 << 62)
      out.append(d >= limit ? 1 << 62 : d <= -limit ? -(1 << 62) : Int(d))
    }
    return out
  }

  /// A possibly negative axis of a tensor of `rank` axes, checked against both ends.
  static func axis(_ a: Int, rank: Int, _ what: String = "axis") throws(ImportError) -> Int {
    guard a >= -rank && a < rank else {
      throw importFailure("\(what) \(a) is out of range for a tensor of \(rank) axes (from \(-rank) to \(rank - 1))")
    }
    return a < 0 ? a + rank : a
  }

  /// Distinct axes, each checked.
  static func axes(_ list: [Int], rank: Int, _ what: String = "axis") throws(ImportError) -> [Int] {
    var out: [Int] = []
    for a in list {
      let n = try axis(a, rank: rank, what)
      if let twice = out.firstIndex(of: n) {
        throw importFailure(list[twice] == a ? "\(what) \(a) is listed twice" : "axes \(list[twice]) and \(a) are the same axis")
      }
      out.append(n)
    }
    return out
  }

  /// The element count of `dims`, bounded by `FoldedTensor.maxElements`.
  static func count(_ dims: [Int], _ what: String) throws(ImportError) -> Int {
    guard dims.allSatisfy({ $0 >= 0 }) else { throw importFailure("\(what) \(shapeText(dims)) has a negative dimension") }
    guard let n = Checked.elementCount(dims), n <= FoldedTensor.maxElements else {
      throw importFailure("\(what) \(shapeText(dims)) would have more than \(FoldedTensor.maxElements) elements")
    }
    return n
  }

  // MARK: Indexing

  static func strides(_ dims: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: dims.count)
    var k = dims.count - 1
    while k > 0 {
      s[k - 1] = s[k] * dims[k]
      k -= 1
    }
    return s
  }

  /// Calls `body` with every multi-index of `dims` in row-major order.
  static func forEachIndex(_ dims: [Int], _ body: ([Int]) throws(ImportError) -> Void) throws(ImportError) {
    if dims.contains(0) { return }
    var index = [Int](repeating: 0, count: dims.count)
    while true {
      try body(index)
      var k = dims.count - 1
      while k >= 0 {
        index[k] += 1
        if index[k] < dims[k] { break }
        index[k] = 0
        k -= 1
      }
      if k < 0 { return }
    }
  }

  /// numpy's broadcasting of two shapes.
  static func broadcast(_ a: [Int], _ b: [Int]) throws(ImportError) -> [Int] {
    let rank = max(a.count, b.count)
    let pa = [Int](repeating: 1, count: rank - a.count) + a
    let pb = [Int](repeating: 1, count: rank - b.count) + b
    var out: [Int] = []
    for (x, y) in zip(pa, pb) {
      guard x == y || x == 1 || y == 1 else {
        throw importFailure("shapes \(shapeText(a)) and \(shapeText(b)) do not broadcast")
      }
      out.append(x == 1 ? y : x)
    }
    return out
  }

  /// The element of `t` that broadcasting places at `index` of a tensor of `rank` axes.
  static func element(_ t: FoldedTensor, at index: [Int], strides s: [Int]) -> FoldedScalar {
    let offset = index.count - t.dims.count
    var flat = 0
    for k in t.dims.indices where t.dims[k] != 1 { flat += index[offset + k] * s[k] }
    return t.elements[flat]
  }

  // MARK: Elementwise

  /// `op` applied elementwise over the broadcast of `inputs`.
  static func elementwise(
    _ inputs: [FoldedTensor], kind: FoldedKind, _ op: ([FoldedScalar]) throws(ImportError) -> FoldedScalar
  ) throws(ImportError) -> FoldedTensor {
    var dims: [Int] = []
    for t in inputs { dims = try broadcast(dims, t.dims) }
    _ = try count(dims, "the result")
    let s = inputs.map { strides($0.dims) }
    var out: [FoldedScalar] = []
    try forEachIndex(dims) { (index: [Int]) throws(ImportError) in
      out.append(try op(inputs.indices.map { element(inputs[$0], at: index, strides: s[$0]) }))
    }
    return FoldedTensor(dims: dims, kind: kind, elements: out)
  }

  /// A result of integer arithmetic must stay exact in a double.
  private static func exact(_ d: Double, _ op: String) throws(ImportError) -> FoldedScalar {
    guard abs(d) < 9_007_199_254_740_992 else { throw importFailure("\(op) overflows: \(numberText(d)) is too large") }
    return .number(d)
  }

  private static func symbols(_ a: FoldedScalar, _ b: FoldedScalar, _ op: String) throws(ImportError) -> (SymbolicInt, SymbolicInt) {
    guard let x = a.symbolic, let y = b.symbolic else {
      throw importFailure("\(op) of \(a) and \(b): a value that depends on the batch size or the number of steps meets one that is not a whole number")
    }
    return (x, y)
  }

  private static func symbolic(_ s: SymbolicInt?, _ op: String) throws(ImportError) -> FoldedScalar {
    guard let s else { throw importFailure("\(op) overflows") }
    return .of(s)
  }

  /// Add, Sub, Mul, Div, Mod, Min, Max, Pow on two scalars of `kind`.
  static func arithmetic(_ op: String, _ a: FoldedScalar, _ b: FoldedScalar, kind: FoldedKind, fmod: Bool = false) throws(ImportError) -> FoldedScalar {
    if case .number(let x) = a, case .number(let y) = b {
      let integer = kind != .float
      switch op {
      case "Add": return integer ? try exact(x + y, op) : .number(x + y)
      case "Sub": return integer ? try exact(x - y, op) : .number(x - y)
      case "Mul": return integer ? try exact(x * y, op) : .number(x * y)
      case "Div":
        guard integer else { return .number(x / y) }
        guard y != 0 else { throw importFailure("Div divides the integer \(numberText(x)) by zero") }
        return .number((x / y).rounded(.towardZero))
      case "Mod":
        if integer && y == 0 { throw importFailure("Mod takes the integer \(numberText(x)) modulo zero") }
        let r = x.truncatingRemainder(dividingBy: y)
        // fmod=0 takes the divisor's sign, as Python's %; fmod=1 the dividend's, as C's fmod.
        return .number(fmod || r == 0 || (r < 0) == (y < 0) ? r : r + y)
      case "Min": return .number(x.isNaN || y.isNaN ? .nan : min(x, y))
      case "Max": return .number(x.isNaN || y.isNaN ? .nan : max(x, y))
      case "Pow":
        let p = Foundation.pow(x, y)
        return integer ? try exact(p.rounded(.towardZero), op) : .number(p)
      default: throw importFailure("operator \(op) is not folded")
      }
    }
    let (x, y) = try symbols(a, b, op)
    switch op {
    case "Add": return try symbolic(x + y, op)
    case "Sub": return try symbolic(x - y, op)
    case "Mul": return try symbolic(x * y, op)
    case "Div":
      guard let q = x.dividedExactly(by: y) else {
        throw importFailure("Div of \(x) by \(y) is not a whole number for every batch size and number of steps")
      }
      return .of(q)
    case "Min", "Max":
      guard let d = x - y, let xIsLarger = d.isNonNegative else {
        throw importFailure("\(op) of \(x) and \(y) depends on the batch size or the number of steps")
      }
      return .of(xIsLarger == (op == "Max") ? x : y)
    default:
      throw importFailure("\(op) of \(a) and \(b) depends on the batch size or the number of steps")
    }
  }

  /// Equal, Less, LessOrEqual, Greater, GreaterOrEqual: 1 or 0, decided for every B, T ≥ 1.
  static func compare(_ op: String, _ a: FoldedScalar, _ b: FoldedScalar) throws(ImportError) -> FoldedScalar {
    if case .number(let x) = a, case .number(let y) = b {
      let result: Bool
      switch op {
      case "Equal": result = x == y
      case "Less": result = x < y
      case "LessOrEqual": result = x <= y
      case "Greater": result = x > y
      default: result = x >= y
      }
      return .number(result ? 1 : 0)
    }
    let (x, y) = try symbols(a, b, op)
    // The difference's range over B, T ≥ 1 decides, or the comparison depends on them.
    let undecided = importFailure("\(op) compares \(x) with \(y), which depends on the batch size or the number of steps")
    guard let d = x - y else { throw undecided }
    let (low, high) = d.bounds
    func decide(_ whenTrue: Bool, _ whenFalse: Bool) throws(ImportError) -> FoldedScalar {
      if whenTrue { return .number(1) }
      if whenFalse { return .number(0) }
      throw undecided
    }
    let positive = low.map { $0 > 0 } ?? false, nonNegative = low.map { $0 >= 0 } ?? false
    let negative = high.map { $0 < 0 } ?? false, nonPositive = high.map { $0 <= 0 } ?? false
    switch op {
    case "Equal": return try decide(d == SymbolicInt(0), positive || negative)
    case "Less": return try decide(negative, nonNegative)
    case "LessOrEqual": return try decide(nonPositive, positive)
    case "Greater": return try decide(positive, nonPositive)
    default: return try decide(nonNegative, negative)
    }
  }

  static func truth(_ s: FoldedScalar, _ what: String) throws(ImportError) -> Bool {
    switch s {
    case .number(let d): return d != 0
    case .symbol(let x):
      guard let sign = x.sign else { throw importFailure("\(what) \(x) is zero for some batch sizes and not for others") }
      return sign != 0
    }
  }

  static func unary(_ op: String, _ a: FoldedScalar, kind: FoldedKind) throws(ImportError) -> FoldedScalar {
    if case .symbol(let x) = a {
      switch op {
      case "Neg": return try symbolic(-x, op)
      case "Abs":
        guard let sign = x.sign else { throw importFailure("Abs of \(x) depends on the batch size") }
        return sign >= 0 ? a : try symbolic(-x, op)
      case "Floor", "Ceil", "Round", "Identity": return a
      default: throw importFailure("\(op) of \(x), which depends on the batch size or the number of steps, is not folded")
      }
    }
    guard case .number(let d) = a else { return a }
    switch op {
    case "Neg": return .number(-d)
    case "Abs": return .number(abs(d))
    case "Floor": return .number(d.rounded(.down))
    case "Ceil": return .number(d.rounded(.up))
    case "Round": return .number(d.rounded(.toNearestOrEven))
    case "Sqrt": return .number(d.squareRoot())
    case "Reciprocal": return .number(kind == .float ? 1 / d : try arithmetic("Div", .number(1), a, kind: kind).number!)
    case "Sign": return .number(d > 0 ? 1 : d < 0 ? -1 : 0)
    case "Not": return .number(d == 0 ? 1 : 0)
    case "Identity": return a
    default: throw importFailure("operator \(op) is not folded")
    }
  }

  /// Cast to an ONNX type: to an integer type truncates toward zero (a NaN, an infinity or a value
  /// out of range is an error), to BOOL tests for non-zero.
  static func cast(_ t: FoldedTensor, to type: OnnxDataType) throws(ImportError) -> FoldedTensor {
    let kind = FoldedKind(type)
    var out = t
    out.kind = kind
    switch kind {
    case .float:
      if type == .float { out.elements = t.elements.map { if case .number(let d) = $0 { .number(Double(Float(d))) } else { $0 } } }
    case .bool:
      out.elements = try t.elements.map { (e) throws(ImportError) in .number(try truth(e, "Cast to BOOL of") ? 1 : 0) }
    case .integer:
      out.elements = try t.elements.map { (e) throws(ImportError) -> FoldedScalar in
        guard case .number(let d) = e else { return e }
        let v = d.rounded(.towardZero)
        guard v.isFinite, abs(v) < 9_007_199_254_740_992 else {
          throw importFailure("Cast of \(numberText(d)) to \(type.name) has no integer value grucc can use")
        }
        return .number(v)
      }
    }
    return out
  }

  // MARK: Structure

  static func transpose(_ t: FoldedTensor, perm: [Int]?) throws(ImportError) -> FoldedTensor {
    let rank = t.dims.count
    let p = perm ?? Array((0..<rank).reversed())
    guard p.sorted() == Array(0..<rank) else {
      throw importFailure("attribute 'perm' \(p) is not a permutation of the \(rank) axes")
    }
    let dims = p.map { t.dims[$0] }
    let s = strides(t.dims)
    var out: [FoldedScalar] = []
    out.reserveCapacity(t.count)
    try forEachIndex(dims) { (index: [Int]) throws(ImportError) in
      var flat = 0
      for (k, a) in p.enumerated() { flat += index[k] * s[a] }
      out.append(t.elements[flat])
    }
    return FoldedTensor(dims: dims, kind: t.kind, elements: out)
  }

  /// ONNX Gather: `indices` (any shape) pick entries along `axis`; negative indices count from
  /// the end.
  static func gather(_ t: FoldedTensor, axis rawAxis: Int, indices: FoldedTensor) throws(ImportError) -> FoldedTensor {
    guard !t.dims.isEmpty else { throw importFailure("Gather of a scalar") }
    let axis = try axis(rawAxis, rank: t.dims.count)
    let n = t.dims[axis]
    let picks = try integers(indices, "the index").map { (i) throws(ImportError) -> Int in
      guard i >= -n && i < n else { throw importFailure("index \(i) is out of range for an axis of size \(n)") }
      return i < 0 ? i + n : i
    }
    let dims = Array(t.dims[..<axis]) + indices.dims + Array(t.dims[(axis + 1)...])
    _ = try count(dims, "the result")
    let outer = t.dims[..<axis].reduce(1, *)
    let inner = t.dims[(axis + 1)...].reduce(1, *)
    var out: [FoldedScalar] = []
    for o in 0..<outer {
      for p in picks {
        let base = (o * n + p) * inner
        out.append(contentsOf: t.elements[base..<(base + inner)])
      }
    }
    return FoldedTensor(dims: dims, kind: t.kind, elements: out)
  }

  /// The index range ONNX Slice selects on an axis of size `n`.
  static func sliceRange(start: Int, end: Int, step: Int, size n: Int) throws(ImportError) -> [Int] {
    let (s, e, count) = try sliceBounds(start: start, end: end, step: step, size: n)
    guard count <= FoldedTensor.maxElements else {
      throw importFailure("a slice of \(count) positions; grucc folds at most \(FoldedTensor.maxElements)")
    }
    return count == 0 ? [] : Array(stride(from: s, to: e, by: step))
  }

  /// ONNX Slice's clamped start and end on an axis of size `n`, and how many positions it takes,
  /// computed without listing them (the axis of a fill may be huge).
  static func sliceBounds(start: Int, end: Int, step: Int, size n: Int) throws(ImportError) -> (start: Int, end: Int, count: Int) {
    guard step != 0 else { throw importFailure("a slice step of 0") }
    guard n >= 0 else { throw importFailure("a slice of an axis of size \(n)") }
    var s = start < 0 ? start + n : start
    var e = end < 0 ? end + n : end
    if step > 0 {
      s = min(max(s, 0), n)
      e = min(max(e, 0), n)
      return (s, e, s < e ? (e - s - 1) / step + 1 : 0)
    }
    s = min(max(s, 0), n - 1)
    e = min(max(e, -1), n - 1)
    return (s, e, s > e ? (s - e - 1) / -step + 1 : 0)
  }

  static func slice(
    _ t: FoldedTensor, starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?
  ) throws(ImportError) -> FoldedTensor {
    guard starts.count == ends.count, axes.map({ $0.count == starts.count }) ?? true,
      steps.map({ $0.count == starts.count }) ?? true
    else { throw importFailure("starts, ends, axes and steps have different lengths") }
    let axisList = try Self.axes(axes ?? Array(0..<starts.count), rank: t.dims.count)
    var ranges = t.dims.map { Array(0..<$0) }
    for (k, a) in axisList.enumerated() {
      ranges[a] = try sliceRange(start: starts[k], end: ends[k], step: steps?[k] ?? 1, size: t.dims[a])
    }
    return try select(t, ranges)
  }

  /// The sub-tensor of the given index lists per axis.
  static func select(_ t: FoldedTensor, _ ranges: [[Int]]) throws(ImportError) -> FoldedTensor {
    let dims = ranges.map(\.count)
    let s = strides(t.dims)
    var out: [FoldedScalar] = []
    try forEachIndex(dims) { (index: [Int]) throws(ImportError) in
      var flat = 0
      for k in index.indices { flat += ranges[k][index[k]] * s[k] }
      out.append(t.elements[flat])
    }
    return FoldedTensor(dims: dims, kind: t.kind, elements: out)
  }

  static func concat(_ ts: [FoldedTensor], axis rawAxis: Int) throws(ImportError) -> FoldedTensor {
    guard let first = ts.first else { throw importFailure("Concat of nothing") }
    guard !first.dims.isEmpty else { throw importFailure("Concat of scalars") }
    let axis = try axis(rawAxis, rank: first.dims.count)
    for t in ts where t.dims.count != first.dims.count || t.dims.indices.contains(where: { $0 != axis && t.dims[$0] != first.dims[$0] }) {
      throw importFailure("Concat of \(shapeText(first.dims)) and \(shapeText(t.dims)) along axis \(axis)")
    }
    var dims = first.dims
    dims[axis] = ts.map { $0.dims[axis] }.reduce(0, +)
    _ = try count(dims, "the result")
    let outer = first.dims[..<axis].reduce(1, *)
    var out: [FoldedScalar] = []
    for o in 0..<outer {
      for t in ts {
        let block = t.dims[axis...].reduce(1, *)
        out.append(contentsOf: t.elements[(o * block)..<((o + 1) * block)])
      }
    }
    let kind = ts.contains { $0.kind == .float } ? FoldedKind.float : first.kind
    return FoldedTensor(dims: dims, kind: kind, elements: out)
  }

  static func unsqueeze(_ dims: [Int], axes raw: [Int]) throws(ImportError) -> [Int] {
    let rank = dims.count + raw.count
    let axes = try axes(raw, rank: rank).sorted()
    var out = dims
    for a in axes { out.insert(1, at: a) }
    return out
  }

  static func squeeze(_ dims: [Int], axes raw: [Int]?) throws(ImportError) -> [Int] {
    guard let raw else { return dims.filter { $0 != 1 } }
    let axes = try axes(raw, rank: dims.count)
    for a in axes where dims[a] != 1 {
      throw importFailure("axis \(a) has size \(dims[a]), not 1")
    }
    return dims.indices.filter { !axes.contains($0) }.map { dims[$0] }
  }

  /// ONNX Reshape's target: 0 copies the input's dimension (unless allowzero), one -1 takes the
  /// rest. Works on symbolic sizes, for data tensors as for constants.
  static func reshapeTarget(
    _ input: [SymbolicInt], _ target: [SymbolicInt], allowZero: Bool
  ) throws(ImportError) -> [SymbolicInt] {
    var out: [SymbolicInt] = []
    var rest: Int?
    for (k, d) in target.enumerated() {
      if d == SymbolicInt(0) && !allowZero {
        guard k < input.count else { throw importFailure("the new shape copies dimension \(k) (a 0), which the input does not have") }
        out.append(input[k])
      } else if d == SymbolicInt(-1) {
        guard rest == nil else { throw importFailure("the new shape has more than one -1") }
        rest = k
        out.append(SymbolicInt(1))
      } else {
        guard let sign = d.sign, sign >= 0 else { throw importFailure("the new shape has the dimension \(d)") }
        out.append(d)
      }
    }
    guard let total = product(input) else { throw importFailure("the input's size overflows") }
    if let rest {
      guard let known = product(out), let r = total.dividedExactly(by: known) else {
        throw importFailure("the new shape \(symbolicShapeText(target)) does not divide the input's \(symbolicShapeText(input))")
      }
      out[rest] = r
    }
    guard product(out) == total else {
      throw importFailure("the new shape \(symbolicShapeText(target)) does not hold the input's \(symbolicShapeText(input))")
    }
    return out
  }

  static func product(_ dims: [SymbolicInt]) -> SymbolicInt? {
    var p = SymbolicInt(1)
    for d in dims {
      guard let q = p * d else { return nil }
      p = q
    }
    return p
  }

  /// Expand's output shape: the input's shape broadcast against `shape` (numpy's rules, both ways).
  static func expandShape(
    _ input: [SymbolicInt], _ shape: [SymbolicInt], sizes: DeclaredSizes = DeclaredSizes()
  ) throws(ImportError) -> [SymbolicInt] {
    let rank = max(input.count, shape.count)
    let a = [SymbolicInt](repeating: SymbolicInt(1), count: rank - input.count) + input
    let b = [SymbolicInt](repeating: SymbolicInt(1), count: rank - shape.count) + shape
    var out: [SymbolicInt] = []
    for d in shape where d.isNonNegative != true {
      throw importFailure("the shape \(symbolicShapeText(shape)) has the dimension \(d)")
    }
    for (x, y) in zip(a, b) {
      if x == y || y == SymbolicInt(1) {
        out.append(x)
      } else if x == SymbolicInt(1) {
        out.append(y)
      } else if let a = sizes.number(x), a == sizes.number(y) {
        // A constant the graph was exported with, meeting the size it stands for: keep the symbol.
        out.append(x.constant == nil ? x : y)
      } else {
        throw importFailure("shape \(symbolicShapeText(input)) does not expand to \(symbolicShapeText(shape))")
      }
    }
    return out
  }

  /// ReduceProd, ReduceSum, ReduceMin, ReduceMax, ReduceMean over `axes` (nil: all).
  static func reduce(_ op: String, _ t: FoldedTensor, axes raw: [Int]?, keepDims: Bool) throws(ImportError) -> FoldedTensor {
    let rank = t.dims.count
    let axes = try raw.map { (r) throws(ImportError) in try Self.axes(r, rank: rank) } ?? Array(0..<rank)
    var dims: [Int] = []
    for k in 0..<rank {
      if axes.contains(k) { if keepDims { dims.append(1) } } else { dims.append(t.dims[k]) }
    }
    let kept = (0..<rank).filter { !axes.contains($0) }
    let keptDims = kept.map { t.dims[$0] }
    var groups: [[FoldedScalar]] = Array(repeating: [], count: keptDims.reduce(1, *))
    let keptStrides = strides(keptDims)
    var flat = 0
    try forEachIndex(t.dims) { (index: [Int]) throws(ImportError) in
      var g = 0
      for (k, a) in kept.enumerated() { g += index[a] * keptStrides[k] }
      groups[g].append(t.elements[flat])
      flat += 1
    }
    let arithmeticOp = ["ReduceProd": "Mul", "ReduceSum": "Add", "ReduceMin": "Min", "ReduceMax": "Max", "ReduceMean": "Add"][op]!
    var out: [FoldedScalar] = []
    for g in groups {
      guard var acc = g.first else {
        guard op == "ReduceProd" || op == "ReduceSum" else { throw importFailure("\(op) over an empty axis") }
        out.append(.number(op == "ReduceProd" ? 1 : 0))
        continue
      }
      for e in g.dropFirst() { acc = try arithmetic(arithmeticOp, acc, e, kind: t.kind) }
      if op == "ReduceMean" { acc = try arithmetic("Div", acc, .number(Double(g.count)), kind: t.kind) }
      out.append(acc)
    }
    return FoldedTensor(dims: dims, kind: t.kind, elements: out)
  }

  /// Range(start, limit, delta) on numbers.
  static func range(_ start: Double, _ limit: Double, _ delta: Double, kind: FoldedKind) throws(ImportError) -> FoldedTensor {
    guard start.isFinite, limit.isFinite, delta.isFinite, delta != 0 else {
      throw importFailure("Range(\(numberText(start)), \(numberText(limit)), \(numberText(delta))) has no finite length")
    }
    let n = max(0, ((limit - start) / delta).rounded(.up))
    guard n <= Double(FoldedTensor.maxElements) else {
      throw importFailure("Range(\(numberText(start)), \(numberText(limit)), \(numberText(delta))) would have \(numberText(n)) elements")
    }
    return FoldedTensor(dims: [Int(n)], kind: kind, numbers: (0..<Int(n)).map { start + Double($0) * delta })
  }
}

import Foundation
