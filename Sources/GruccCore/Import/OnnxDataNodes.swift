// The importer's operators on the data path that grucc computes: dense layers (Gemm, MatMul and
// the Add of their bias), activations, softmax, reductions over time, the last step, and the
// mean over each sequence's valid steps (a sum over time divided by the lengths).

extension OnnxImportSession {
  // MARK: Dense layers

  /// A dense layer reading part `source` through `columns` (which of its features each of the
  /// K inputs is): the weights land on those columns, zeros elsewhere, so a dense layer on one
  /// direction of a bidirectional state is still one `dense`.
  private mutating func denseValue(
    _ node: OnnxNode, source: Int, columns: [Int], weight: (Int, Int) -> Double, bias: [Double], units: Int,
    slots: [Slot], order: BatchOrder
  ) throws(ImportError) -> DataValue {
    let inputs = parts[source].features
    var w = [Double](repeating: 0, count: units * inputs)
    for n in 0..<units {
      for (k, c) in columns.enumerated() { w[n * inputs + c] += weight(n, k) }
    }
    denseCount += 1
    let dense = PendingDense(source: source, weight: w, bias: bias, units: units, inputs: inputs, name: denseName(node))
    let part = addPart(Part(
      text: "", kind: .pendingDense(dense), features: units, isSequence: parts[source].isSequence, zeroPastEnd: false))
    return DataValue(slots: slots, elements: (0..<units).map { Element(part: part, column: $0) }, order: order)
  }

  /// The one part a dense layer's input reads, and which of its columns each input feature is.
  private mutating func denseSource(_ v: DataValue, user: String) throws(ImportError) -> (part: Int, columns: [Int]) {
    let used = v.parts
    guard used.count == 1 else {
      throw importFailure("\(user) reads features of \(used.count) tensors (\(used.map { parts[$0].text }.joined(separator: ", "))); "
        + "a grucc dense layer reads one")
    }
    try materialise(used[0], for: user)
    return (used[0], v.elements.map(\.column))
  }

  /// The binding's name: PyTorch's module name where the graph keeps it.
  private func denseName(_ node: OnnxNode) -> String {
    // The weight's initializer name ("fc.weight", dynamo) or the node's path ("/fc/Gemm", TorchScript).
    if node.inputs.count > 1, node.inputs[1].hasSuffix(".weight") {
      let stem = String(node.inputs[1].dropLast(".weight".count))
      return stem.split(separator: ".").last.map(String.init) ?? stem
    }
    let parts = node.name.split(separator: "/")
    return parts.count >= 2 ? String(parts[parts.count - 2]) : "dense\(denseCount)"
  }

  mutating func gemm(_ node: OnnxNode) throws(ImportError) {
    try onlyAttributes(node, ["alpha", "beta", "transA", "transB"])
    guard case .data(var a) = try required(node, 0) else { throw importFailure("A must be computed from the input") }
    if try int(node, "transA", default: 0) == 1 { a = try DataLayout.transpose(a, perm: [1, 0]) }
    guard a.slots.count == 2, a.slots[0].fixedSize == nil, case .fixed(let k) = a.slots[1] else {
      throw importFailure("A is \(slotsText(a.slots)); a dense layer reads [batch, features] (or [batch·time, features])")
    }
    guard let b = try folded(node, 1, "B"), b.dims.count == 2, let bv = b.numbers else {
      throw importFailure("B must be a constant matrix")
    }
    let transB = try int(node, "transB", default: 0) == 1
    let (n, bk) = transB ? (b.dims[0], b.dims[1]) : (b.dims[1], b.dims[0])
    guard bk == k else { throw importFailure("B \(shapeText(b.dims)) does not fit A's \(k) features") }
    let alpha = try float(node, "alpha") ?? 1
    let beta = try float(node, "beta") ?? 1
    var bias = [Double](repeating: 0, count: n)
    if let c = try folded(node, 2, "C") {
      guard let cv = c.numbers, cv.count == n || cv.count == 1, c.dims.count <= 2 else {
        throw importFailure("C \(c.shapeDescription) does not broadcast to [\(n)]")
      }
      bias = (0..<n).map { beta * cv[cv.count == 1 ? 0 : $0] }
    }
    let (source, columns) = try denseSource(a, user: "Gemm")
    let v = try denseValue(
      node, source: source, columns: columns,
      weight: { i, j in alpha * (transB ? bv[i * k + j] : bv[j * n + i]) }, bias: bias, units: n,
      slots: [a.slots[0], .fixed(n)], order: a.order)
    set(node, .data(v))
  }

  mutating func matMul(_ node: OnnxNode) throws(ImportError) {
    try onlyAttributes(node, [])
    guard case .data(let a) = try required(node, 0) else { throw importFailure("A must be computed from the input") }
    guard case .fixed(let k)? = a.slots.last, a.fixedDims.dropLast().allSatisfy({ $0 == 1 }) else {
      throw importFailure("A is \(slotsText(a.slots)); a dense layer reads the features on the last axis, one vector per sequence or step")
    }
    guard let b = try folded(node, 1, "B"), b.dims.count == 2, b.dims[0] == k, let bv = b.numbers else {
      throw importFailure("B must be a constant [\(k), N] matrix")
    }
    let n = b.dims[1]
    let (source, columns) = try denseSource(a, user: "MatMul")
    var slots = a.slots
    slots[slots.count - 1] = .fixed(n)
    let v = try denseValue(
      node, source: source, columns: columns, weight: { i, j in bv[j * n + i] },
      bias: [Double](repeating: 0, count: n), units: n, slots: slots, order: a.order)
    set(node, .data(v))
  }

  /// Add, and the Div that makes a sum over time a mean; other arithmetic on data is refused.
  mutating func dataArithmetic(_ node: OnnxNode, _ inputs: [ImportValue]) throws(ImportError) {
    let op = node.opType
    let description = inputs.map(\.kindDescription).joined(separator: " and ")
    if op == "Add", inputs.count == 2 {
      switch (inputs[0], inputs[1]) {
      case (.data(let v), .folded(let c)), (.folded(let c), .data(let v)):
        set(node, .data(try addBias(v, c)))
        return
      default: break
      }
    }
    if op == "Div", inputs.count == 2, case .data(let x) = inputs[0], case .data(let d) = inputs[1],
      let out = try divideByNorm(x, d)
    {
      set(node, .data(out))
      return
    }
    if op == "Max", inputs.count == 2 {
      switch (inputs[0], inputs[1]) {
      case (.data(let v), .folded(let c)), (.folded(let c), .data(let v)):
        if normParts(v) != nil {
          guard let n = c.numbers, n.count == 1 else { throw importFailure("Max of an L2 norm and \(c.shapeDescription); F.normalize's floor is one number") }
          try clampNorm(node, v, low: n[0], high: nil)
          return
        }
      default: break
      }
    }
    if op == "Div", inputs.count == 2, case .data(let v) = inputs[0] {
      set(node, .data(try meanOverTime(v, divisor: inputs[1])))
      return
    }
    throw importFailure("\(op) of \(description): grucc computes with the data only through its layers and heads "
      + "(a constant bias after MatMul, a sum over time divided by the lengths)")
  }

  /// A constant added to a MatMul's result: the dense layer's bias.
  private mutating func addBias(_ v: DataValue, _ c: FoldedTensor) throws(ImportError) -> DataValue {
    guard let p = v.wholePart(features: { parts[$0].features }), case .pendingDense(var dense) = parts[p].kind,
      case .fixed(let n)? = v.slots.last
    else {
      throw importFailure("a constant added to data is folded only as the bias of the MatMul before it")
    }
    guard let cv = c.numbers, cv.count == n || cv.count == 1, c.dims.dropLast().allSatisfy({ $0 == 1 }) else {
      throw importFailure("the bias \(c.shapeDescription) does not broadcast to the \(n) features")
    }
    for i in 0..<n { dense.bias[i] += cv[cv.count == 1 ? 0 : i] }
    var out = v
    let q = addPart(Part(text: "", kind: .pendingDense(dense), features: n, isSequence: parts[p].isSequence, zeroPastEnd: false))
    out.elements = (0..<n).map { Element(part: q, column: $0) }
    return out
  }

  // MARK: Elementwise

  mutating func activation(_ node: OnnxNode) throws(ImportError) {
    if node.opType == "Clip", case .data(let v)? = try value(node, 0), normParts(v) != nil {
      var low = try float(node, "min")
      var high = try float(node, "max")
      try onlyAttributes(node, ["min", "max"])
      if let t = try folded(node, 1, "min") { low = t.numbers?.first }
      if let t = try folded(node, 2, "max") { high = t.numbers?.first }
      try clampNorm(node, v, low: low, high: high)
      return
    }
    let f: Activation
    switch node.opType {
    case "Sigmoid": f = .sigmoid
    case "Tanh": f = .tanh
    case "Relu": f = .relu
    case "Softsign": f = .softsign
    case "Softplus": f = .softplus
    case "LeakyRelu":
      try onlyAttributes(node, ["alpha"])
      f = .leakyRelu(alpha: try float(node, "alpha") ?? 0.01)
    case "Elu":
      try onlyAttributes(node, ["alpha"])
      f = .elu(alpha: try float(node, "alpha") ?? 1)
    case "HardSigmoid":
      try onlyAttributes(node, ["alpha", "beta"])
      f = .hardSigmoid(alpha: try float(node, "alpha") ?? 0.2, beta: try float(node, "beta") ?? 0.5)
    default:
      f = try clipActivation(node)
    }
    if !["LeakyRelu", "Elu", "HardSigmoid", "Clip"].contains(node.opType) { try onlyAttributes(node, []) }
    guard case .data(let v) = try required(node, 0) else {
      throw importFailure("\(node.opType) of \(try required(node, 0).kindDescription) is not folded")
    }
    // Elementwise: each part gets the function, the arrangement stays.
    var out = v
    var mapped: [Int: Int] = [:]
    for p in v.parts {
      if let fused = fusedActivation(p, f) {
        mapped[p] = fused
        continue
      }
      try materialise(p, for: node.opType)
      let text = "\(f.name)(" + ([parts[p].text] + f.parameters.map(Activation.format)).joined(separator: ", ") + ")"
      mapped[p] = addPart(Part(text: text, kind: .expression, features: parts[p].features, isSequence: parts[p].isSequence,
                               zeroPastEnd: parts[p].zeroPastEnd && f.isZeroAtZero))
    }
    out.elements = v.elements.map { Element(part: mapped[$0.part]!, column: $0.column) }
    set(node, .data(out))
  }

  /// ONNX Clip with bounds -c and c is grucc's `clip(x, c)`; other bounds are not.
  private func clipActivation(_ node: OnnxNode) throws(ImportError) -> Activation {
    var low = try float(node, "min")
    var high = try float(node, "max")
    try onlyAttributes(node, ["min", "max"])
    if let t = try folded(node, 1, "min") { low = t.numbers?.first }
    if let t = try folded(node, 2, "max") { high = t.numbers?.first }
    guard let low, let high, low == -high, high > 0 else {
      throw importFailure("Clip to [\(low.map(numberText) ?? "-inf"), \(high.map(numberText) ?? "inf")]: grucc's clip is symmetric, [-c, c]")
    }
    return .clip(high)
  }

  mutating func softmax(_ node: OnnxNode) throws(ImportError) {
    try onlyAttributes(node, ["axis"])
    guard case .data(let v) = try required(node, 0) else { throw importFailure("Softmax of a constant is not folded") }
    let opset = model.opsetVersion(domain: "") ?? 13
    let axis = try ShapeFolder.axis(try int(node, "axis", default: opset >= 13 ? -1 : 1), rank: v.slots.count)
    // Before opset 13 softmax normalises over all axes from `axis` on: the same when the others are size 1.
    let over = opset >= 13 ? [axis] : Array(axis..<v.slots.count)
    guard over.contains(v.slots.count - 1), over.dropLast().allSatisfy({ v.slots[$0] == .fixed(1) }),
      case .fixed = v.slots.last!, v.fixedDims.dropLast().allSatisfy({ $0 == 1 })
    else {
      throw importFailure("softmax over axis \(axis) of \(slotsText(v.slots)); grucc's softmax runs over the features of each vector")
    }
    let p = try wholePart(v, for: "Softmax")
    try materialise(p, for: "Softmax")
    let q = addPart(Part(text: "softmax(\(parts[p].text))", kind: .expression, features: parts[p].features,
                         isSequence: parts[p].isSequence, zeroPastEnd: false))
    var out = v
    out.elements = v.elements.map { Element(part: q, column: $0.column) }
    set(node, .data(out))
  }

  // MARK: Over time

  mutating func reduction(_ node: OnnxNode) throws(ImportError) {
    try onlyAttributes(node, ["axes", "keepdims", "noop_with_empty_axes"])
    let input = try required(node, 0)
    let keep = try int(node, "keepdims", default: 1) == 1
    let axes = try axesArgument(node)
    guard case .data(let v) = input else {
      guard case .folded(let t) = input else { throw importFailure("\(node.opType) of \(input.kindDescription) is not folded") }
      let noop = try int(node, "noop_with_empty_axes", default: 0) == 1
      if axes?.isEmpty ?? true, noop {
        set(node, input)
      } else {
        set(node, .folded(try ShapeFolder.reduce(node.opType, t, axes: axes?.isEmpty == true ? nil : axes, keepDims: keep)))
      }
      return
    }
    let list = try axes.map { (a) throws(ImportError) in try ShapeFolder.axes(a, rank: v.slots.count) } ?? []
    guard list.count == 1, let t = list.first, v.slots[t] == .time else {
      throw importFailure("\(node.opType) over axes \(list) of \(slotsText(v.slots)); grucc reduces over time only")
    }
    let kind: String
    switch node.opType {
    case "ReduceMean": kind = "mean"
    case "ReduceMax": kind = "max"
    case "ReduceSum": kind = "sum"
    default: throw importFailure("\(node.opType) over time; grucc has mean and max over time")
    }
    var out = v
    if keep { out.slots[t] = .fixed(1) } else { out.slots.remove(at: t) }
    var mapped: [Int: Int] = [:]
    for p in v.parts {
      try materialise(p, for: node.opType)
      if usesLengths && kind != "sum" {
        // grucc's mean and max look only at each sequence's valid steps; ONNX's at the padding too.
        throw importFailure("\(node.opType) over time with sequence lengths counts the padded steps, and grucc's \(kind) does not; "
          + (kind == "mean" ? "divide a ReduceSum by the lengths instead (grucc's mean)" : "grucc cannot reproduce it"))
      }
      if kind == "sum" && usesLengths && !parts[p].zeroPastEnd {
        throw importFailure("ReduceSum over time adds the values past each sequence's end, which are not zero here")
      }
      let text = kind == "sum" ? parts[p].text : "\(kind)(\(parts[p].text))"
      mapped[p] = addPart(Part(text: text, kind: kind == "sum" ? .timeSum : .expression, features: parts[p].features,
                               isSequence: false, zeroPastEnd: false))
    }
    out.elements = v.elements.map { Element(part: mapped[$0.part]!, column: $0.column) }
    set(node, .data(out))
  }

  /// A sum over time divided by the lengths (or by the number of steps, without lengths) is
  /// grucc's mean over each sequence's valid steps.
  private mutating func meanOverTime(_ v: DataValue, divisor: ImportValue) throws(ImportError) -> DataValue {
    let sums = v.parts
    guard sums.allSatisfy({ if case .timeSum = parts[$0].kind { true } else { false } }) else {
      throw importFailure("Div of the data: grucc divides only a sum over time, by the lengths or the number of steps, which is its mean")
    }
    switch divisor {
    case .perSequence(let s):
      guard s.kind == .lengths, usesLengths else { throw importFailure("Div of a sum over time by \(divisor.kindDescription)") }
      guard s.order == v.order else { throw importFailure("Div of a sum over time by lengths in another order of the batch") }
      let batchAxis = v.slots.firstIndex(of: .batch)!
      let aligned = s.axes.count <= v.slots.count
        && s.axes.reversed().enumerated().allSatisfy { k, a in
          a == .batch ? v.slots.count - 1 - k == batchAxis : a == .fixed(1)
        }
      guard aligned else { throw importFailure("Div of a sum over time \(slotsText(v.slots)) by lengths shaped \(slotsText(s.axes))") }
    case .folded(let t) where !usesLengths:
      guard t.count == 1, case .symbol(let s) = t.elements[0], s == v.steps else {
        throw importFailure("Div of a sum over time by \(t.valueDescription); grucc's mean divides by the number of steps")
      }
    default:
      throw importFailure("Div of a sum over time by \(divisor.kindDescription)")
    }
    var out = v
    var mapped: [Int: Int] = [:]
    for p in sums {
      mapped[p] = addPart(Part(text: "mean(\(parts[p].text))", kind: .expression, features: parts[p].features,
                               isSequence: false, zeroPastEnd: false))
    }
    out.elements = v.elements.map { Element(part: mapped[$0.part]!, column: $0.column) }
    return out
  }

  /// The last step of a sequence (Gather or Slice of step -1 along time) is grucc's `last`.
  mutating func lastStep(_ v: DataValue, axis: Int, keep: Bool, user: String) throws(ImportError) -> DataValue {
    if usesLengths {
      throw importFailure("\(user) takes step T-1, which with sequence lengths is padding for the shorter sequences; "
        + "use the GRU's final state (Y_h, PyTorch's h_n) instead, grucc's state(...)")
    }
    var out = v
    if keep { out.slots[axis] = .fixed(1) } else { out.slots.remove(at: axis) }
    var mapped: [Int: Int] = [:]
    for p in v.parts {
      try materialise(p, for: user)
      mapped[p] = addPart(Part(text: "last(\(parts[p].text))", kind: .expression, features: parts[p].features,
                               isSequence: false, zeroPastEnd: false))
    }
    out.elements = v.elements.map { Element(part: mapped[$0.part]!, column: $0.column) }
    return out
  }
}

extension Activation {
  /// Whether f(0) = 0, so padding that is zero stays zero.
  var isZeroAtZero: Bool {
    switch self {
    case .tanh, .relu, .softsign, .leakyRelu, .elu, .identity, .clip, .scaledTanh: return true
    case .thresholdedRelu(let alpha): return alpha >= 0
    default: return false
    }
  }
}
