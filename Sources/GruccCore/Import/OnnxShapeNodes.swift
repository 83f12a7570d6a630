// The importer's structural and arithmetic operators: each takes its inputs as whatever they
// are (constants, fills, per-sequence vectors, data) and folds, regroups or refuses. The
// arithmetic lives in ShapeFolder, the data layout in DataLayout; this file routes.

extension OnnxImportSession {
  // MARK: Constants and shapes

  mutating func constantNode(_ node: OnnxNode) throws(ImportError) {
    guard let a = node.attributes.first, node.attributes.count == 1 else {
      throw importFailure("a Constant needs exactly one value attribute")
    }
    switch a.value {
    case .tensor(let t):
      if let external = t.external { throw importFailure("its value is in the external file \(quoted(external.location)), which was not read") }
      guard t.dataType.elementKind != nil else { throw importFailure("its value has data type \(t.dataType.name), which grucc does not read") }
      set(node, .folded(FoldedTensor(t)))
    case .float(let f): set(node, .folded(.scalar(.number(Double(f)), kind: .float)))
    case .int(let i): set(node, .folded(.scalar(.number(Double(i)), kind: .integer)))
    case .floats(let f): set(node, .folded(FoldedTensor(dims: [f.count], kind: .float, numbers: f.map(Double.init))))
    case .ints(let i): set(node, .folded(FoldedTensor(dims: [i.count], kind: .integer, numbers: i.map(Double.init))))
    default: throw importFailure("attribute \(quoted(a.name)) (\(a.value.typeName)) is not a value grucc reads")
    }
  }

  /// The shape of any value, in terms of B and T where they appear.
  func shapeOf(_ v: ImportValue) -> [SymbolicInt] {
    switch v {
    case .data(let d): return d.shape
    case .folded(let t): return t.dims.map { SymbolicInt($0) }
    case .filled(let f): return f.shape
    case .perSequence(let s): return s.shape
    }
  }

  mutating func shapeNode(_ node: OnnxNode) throws(ImportError) {
    let shape = shapeOf(try required(node, 0))
    if node.opType == "Size" {
      try onlyAttributes(node, [])
      guard let n = ShapeFolder.product(shape) else { throw importFailure("the size overflows") }
      set(node, .folded(.scalar(.of(n), kind: .integer)))
      return
    }
    try onlyAttributes(node, ["start", "end"])
    // Opset 15's start and end: negative counts from the back, both clamped to the rank.
    let rank = shape.count
    func clamp(_ i: Int) -> Int { min(max(i < 0 ? i + rank : i, 0), rank) }
    let start = clamp(try int(node, "start", default: 0))
    let end = clamp(try int(node, "end", default: rank))
    let picked = start < end ? Array(shape[start..<end]) : []
    set(node, .folded(.vector(picked.map(FoldedScalar.of))))
  }

  mutating func castNode(_ node: OnnxNode) throws(ImportError) {
    let type: OnnxDataType
    if node.opType == "CastLike" {
      switch try value(node, 1) {
      case .folded(let t)?: type = t.kind == .float ? (precision == .f64 ? .double : .float) : t.kind == .bool ? .bool : .int64
      case .data?, .filled?: type = precision == .f64 ? .double : .float
      case .perSequence(let s)?: type = s.elementKind == .float ? .float : .int64
      case nil: throw importFailure("CastLike needs its second input")
      }
    } else {
      try onlyAttributes(node, ["to", "saturate", "round_mode"])
      let code = try int(node, "to", default: 0)
      guard let t = OnnxDataType(rawValue: code) else { throw importFailure("attribute 'to' is \(code), not an ONNX data type") }
      type = t
    }
    let kind = FoldedKind(type)
    switch try required(node, 0) {
    case .folded(let t): set(node, .folded(try ShapeFolder.cast(t, to: type)))
    case .filled(var f):
      f.value = try ShapeFolder.cast(.scalar(.number(f.value), kind: f.kind), to: type).numbers![0]
      f.kind = kind
      set(node, .filled(f))
    case .perSequence(var s):
      guard kind != .bool else { throw importFailure("a Cast of \(ImportValue.perSequence(s).kindDescription) to BOOL") }
      s.elementKind = kind
      set(node, .perSequence(s))
    case .data(let d):
      guard kind == .float else {
        throw importFailure("a Cast of the data to \(type.name); grucc computes in \(precision == .f32 ? "FLOAT" : "DOUBLE") throughout")
      }
      let other: OnnxDataType = precision == .f32 ? .double : .float
      if type == other, !notes.contains(where: { $0.hasPrefix("the graph casts") }) {
        notes.append("the graph casts data to \(type.name) at \(quoted(node.name)); grucc computes the whole model in \(precision.rawValue)")
      }
      set(node, .data(d))
    }
  }

  mutating func constantOfShape(_ node: OnnxNode) throws(ImportError) {
    try onlyAttributes(node, ["value"])
    var value = 0.0
    var kind = FoldedKind.float
    if case .tensor(let t)? = attribute(node, "value") {
      guard t.values.count == 1 else { throw importFailure("attribute 'value' must hold one number") }
      value = t.values[0]
      kind = FoldedKind(t.dataType)
    }
    guard let shapeTensor = try folded(node, 0, "the shape") else { throw importFailure("the shape is missing") }
    let shape = try ShapeFolder.symbolicIntegers(shapeTensor, "the shape")
    for d in shape where d.sign.map({ $0 < 0 }) ?? true {
      throw importFailure("the shape \(symbolicShapeText(shape)) has the dimension \(d)")
    }
    set(node, try fill(value, kind: kind, shape: shape))
  }

  /// A constant of one value: folded when small and of known shape, a fill otherwise.
  func fill(_ value: Double, kind: FoldedKind, shape: [SymbolicInt]) throws(ImportError) -> ImportValue {
    let dims = shape.compactMap(\.constant)
    if dims.count == shape.count, let n = Checked.elementCount(dims), n <= 4096 {
      return .folded(FoldedTensor(dims: dims, kind: kind, numbers: [Double](repeating: value, count: n)))
    }
    return .filled(FilledTensor(value: value, kind: kind, shape: shape))
  }

  mutating func rangeNode(_ node: OnnxNode) throws(ImportError) {
    try onlyAttributes(node, [])
    var scalars: [FoldedScalar] = []
    var kind = FoldedKind.integer
    for i in 0..<3 {
      guard let t = try folded(node, i, ["start", "limit", "delta"][i]), t.count == 1 else {
        throw importFailure("Range needs scalar start, limit and delta")
      }
      scalars.append(t.elements[0])
      kind = t.kind
    }
    if let start = scalars[0].number, let limit = scalars[1].number, let delta = scalars[2].number {
      set(node, .folded(try ShapeFolder.range(start, limit, delta, kind: kind)))
    } else if scalars[0] == .number(0), scalars[2] == .number(1), case .symbol(let s) = scalars[1], s.isBatch {
      set(node, .perSequence(SequenceVector(kind: .iota, order: .identity, axes: [.batch], elementKind: kind)))
    } else {
      throw importFailure("Range(\(scalars.map(\.description).joined(separator: ", "))) has a length that depends on the batch size or the "
        + "number of steps; grucc folds only Range(0, batch, 1)")
    }
  }

  // MARK: Rearranging

  mutating func transposeNode(_ node: OnnxNode) throws(ImportError) {
    try onlyAttributes(node, ["perm"])
    let perm = try ints(node, "perm")
    switch try required(node, 0) {
    case .folded(let t): set(node, .folded(try ShapeFolder.transpose(t, perm: perm)))
    case .data(let d): set(node, .data(try DataLayout.transpose(d, perm: perm)))
    case .filled(var f):
      let p = perm ?? Array((0..<f.shape.count).reversed())
      guard p.sorted() == Array(0..<f.shape.count) else { throw importFailure("attribute 'perm' \(p) does not fit rank \(f.shape.count)") }
      f.shape = p.map { f.shape[$0] }
      set(node, .filled(f))
    case .perSequence(var s):
      let p = perm ?? Array((0..<s.axes.count).reversed())
      guard p.sorted() == Array(0..<s.axes.count) else { throw importFailure("attribute 'perm' \(p) does not fit rank \(s.axes.count)") }
      s.axes = p.map { s.axes[$0] }
      set(node, .perSequence(s))
    }
  }

  mutating func squeezeNode(_ node: OnnxNode) throws(ImportError) {
    try onlyAttributes(node, ["axes"])
    let axes = try axesArgument(node)
    let input = try required(node, 0)
    if node.opType == "Unsqueeze" {
      guard let axes else { throw importFailure("Unsqueeze needs its axes") }
      switch input {
      case .folded(var t):
        t.dims = try ShapeFolder.unsqueeze(t.dims, axes: axes)
        set(node, .folded(t))
      case .data(let d): set(node, .data(try DataLayout.unsqueeze(d, axes: axes)))
      case .filled(var f):
        let rank = f.shape.count + axes.count
        for a in try ShapeFolder.axes(axes, rank: rank).sorted() { f.shape.insert(SymbolicInt(1), at: a) }
        set(node, .filled(f))
      case .perSequence(var s):
        let rank = s.axes.count + axes.count
        for a in try ShapeFolder.axes(axes, rank: rank).sorted() { s.axes.insert(.fixed(1), at: a) }
        set(node, .perSequence(s))
      }
      return
    }
    switch input {
    case .folded(var t):
      t.dims = try ShapeFolder.squeeze(t.dims, axes: axes)
      set(node, .folded(t))
    case .data(let d): set(node, .data(try DataLayout.squeeze(d, axes: axes)))
    case .filled(var f):
      let rank = f.shape.count
      let list = try axes.map { (a) throws(ImportError) in try ShapeFolder.axes(a, rank: rank) }
        ?? f.shape.indices.filter { f.shape[$0] == SymbolicInt(1) }
      for a in list where f.shape[a] != SymbolicInt(1) { throw importFailure("axis \(a) of \(symbolicShapeText(f.shape)) is not of size 1") }
      f.shape = f.shape.indices.filter { !list.contains($0) }.map { f.shape[$0] }
      set(node, .filled(f))
    case .perSequence(var s):
      let rank = s.axes.count
      let list = try axes.map { (a) throws(ImportError) in try ShapeFolder.axes(a, rank: rank) }
        ?? s.axes.indices.filter { s.axes[$0] == .fixed(1) }
      for a in list where s.axes[a] != .fixed(1) { throw importFailure("axis \(a) of the per-sequence vector is the batch axis") }
      s.axes = s.axes.indices.filter { !list.contains($0) }.map { s.axes[$0] }
      set(node, .perSequence(s))
    }
  }

  mutating func reshapeNode(_ node: OnnxNode) throws(ImportError) {
    let input = try required(node, 0)
    let inShape = shapeOf(input)
    var target: [SymbolicInt]
    var allowZero = false
    if node.opType == "Flatten" {
      try onlyAttributes(node, ["axis"])
      let axis = try int(node, "axis", default: 1)
      let a = axis < 0 ? axis + inShape.count : axis
      guard a >= 0 && a <= inShape.count else { throw importFailure("axis \(axis) is out of range for \(inShape.count) axes") }
      guard let outer = ShapeFolder.product(Array(inShape[..<a])), let inner = ShapeFolder.product(Array(inShape[a...])) else {
        throw importFailure("the size overflows")
      }
      target = [outer, inner]
    } else {
      try onlyAttributes(node, ["allowzero"])
      allowZero = try int(node, "allowzero", default: 0) == 1
      guard let t = try folded(node, 1, "the shape") else { throw importFailure("the shape is missing") }
      guard t.dims.count == 1 else { throw importFailure("the shape must be a vector, not \(t.shapeDescription)") }
      target = try ShapeFolder.symbolicIntegers(t, "the shape")
    }
    switch input {
    case .folded(var t):
      let shape = try ShapeFolder.reshapeTarget(inShape, target, allowZero: allowZero)
      let dims = try shape.map { (d) throws(ImportError) -> Int in
        guard let n = d.constant else { throw importFailure("reshaping a constant to \(symbolicShapeText(shape))") }
        return n
      }
      t.dims = dims
      set(node, .folded(t))
    case .filled(var f):
      f.shape = try ShapeFolder.reshapeTarget(inShape, target, allowZero: allowZero)
      set(node, .filled(f))
    case .data(let d):
      set(node, .data(try DataLayout.reshape(d, target: target, allowZero: allowZero, sizes: sizes)))
    case .perSequence(var s):
      let shape = try ShapeFolder.reshapeTarget(inShape, target, allowZero: allowZero)
      guard shape.filter({ $0 != SymbolicInt(1) }).count == 1, shape.contains(where: { sizes.matches($0, .batch) && $0 != SymbolicInt(1) }) || sizes.batch == 1 else {
        throw importFailure("reshaping \(ImportValue.perSequence(s).kindDescription) to \(symbolicShapeText(shape))")
      }
      var placed = false
      s.axes = shape.map { d in
        if !placed && (sizes.matches(d, .batch)) && (d != SymbolicInt(1) || !shape.contains(where: { $0 != SymbolicInt(1) })) {
          placed = true
          return .batch
        }
        return .fixed(1)
      }
      if !placed { s.axes[0] = .batch }
      set(node, .perSequence(s))
    }
  }

  // MARK: Picking

  /// Slice starts, ends, axes and steps: inputs from opset 10, attributes before.
  private func sliceArguments(_ node: OnnxNode) throws(ImportError) -> (starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?) {
    if node.attributes.contains(where: { $0.name == "starts" }) {
      try onlyAttributes(node, ["starts", "ends", "axes"])
      guard let s = try ints(node, "starts"), let e = try ints(node, "ends") else { throw importFailure("Slice needs starts and ends") }
      return (s, e, try ints(node, "axes"), nil)
    }
    try onlyAttributes(node, [])
    guard let s = try folded(node, 1, "the starts"), let e = try folded(node, 2, "the ends") else {
      throw importFailure("Slice needs starts and ends")
    }
    let axes = try folded(node, 3, "the axes").map { (t) throws(ImportError) in try ShapeFolder.integers(t, "the axes") }
    let steps = try folded(node, 4, "the steps").map { (t) throws(ImportError) in try ShapeFolder.integers(t, "the steps") }
    return (try ShapeFolder.bounds(s, "the starts"), try ShapeFolder.bounds(e, "the ends"), axes, steps)
  }

  mutating func sliceNode(_ node: OnnxNode) throws(ImportError) {
    let (starts, ends, axes, steps) = try sliceArguments(node)
    guard starts.count == ends.count, axes.map({ $0.count == starts.count }) ?? true, steps.map({ $0.count == starts.count }) ?? true else {
      throw importFailure("starts, ends, axes and steps have different lengths")
    }
    let input = try required(node, 0)
    if case .folded(let t) = input {
      set(node, .folded(try ShapeFolder.slice(t, starts: starts, ends: ends, axes: axes, steps: steps)))
      return
    }
    let shape = shapeOf(input)
    let axisList = try ShapeFolder.axes(axes ?? Array(0..<starts.count), rank: shape.count)
    var result = input
    for (k, a) in axisList.enumerated() {
      let step = steps?[k] ?? 1
      if let n = shape[a].constant {
        let (first, _, count) = try ShapeFolder.sliceBounds(start: starts[k], end: ends[k], step: step, size: n)
        if count == n && (n == 0 || (first == 0 && step == 1)) { continue }
        switch result {
        case .data(let d):
          let picks = try ShapeFolder.sliceRange(start: starts[k], end: ends[k], step: step, size: n)
          result = .data(try DataLayout.select(d, axis: a, picks: picks, keepAxis: true))
        case .filled(var f):
          f.shape[a] = SymbolicInt(count)
          result = .filled(f)
        default: throw importFailure("a Slice of \(result.kindDescription) along axis \(a)")
        }
        continue
      }
      // A batch or time axis: all of it, or (time) the last step.
      let everything = starts[k] == 0 && step == 1 && ends[k] >= (sizes.number(shape[a]) ?? Int(Int32.max))
      if everything { continue }
      guard case .data(let d) = result, d.slots[a] == .time else {
        throw importFailure("a Slice along the \(shape[a].isBatch ? "batch" : "time") axis of \(result.kindDescription) "
          + "(from \(starts[k]) to \(ends[k]) by \(step)); grucc takes whole batches")
      }
      // "To the end" is any end past the last step: exporters write INT32_MAX or INT64_MAX.
      let lastStart = starts[k] == -1 || (sizes.time.map { starts[k] == $0 - 1 } ?? false)
      guard lastStart, step == 1, ends[k] >= (sizes.time ?? Int(Int32.max)) else {
        throw importFailure("a Slice of steps \(starts[k]) to \(ends[k]) (by \(step)) of a sequence; grucc can take only the last step")
      }
      result = .data(try lastStep(d, axis: a, keep: true, user: "Slice"))
    }
    set(node, result)
  }

  mutating func gatherNode(_ node: OnnxNode) throws(ImportError) {
    try onlyAttributes(node, ["axis"])
    let axisAttr = try int(node, "axis", default: 0)
    let input = try required(node, 0)
    let indices = try required(node, 1)
    let rank = shapeOf(input).count
    let axis = try ShapeFolder.axis(axisAttr, rank: rank)
    switch (input, indices) {
    case (.folded(let t), .folded(let i)):
      set(node, .folded(try ShapeFolder.gather(t, axis: axis, indices: i)))
    case (.data(let d), .folded(let i)):
      switch d.slots[axis] {
      case .fixed(let n):
        let picks = try ShapeFolder.integers(i, "the index").map { (k) throws(ImportError) -> Int in
          guard k >= -n && k < n else { throw importFailure("index \(k) is out of range for an axis of size \(n)") }
          return k < 0 ? k + n : k
        }
        guard i.dims.count <= 1 else { throw importFailure("indices of shape \(i.shapeDescription) on a data tensor") }
        set(node, .data(try DataLayout.select(d, axis: axis, picks: picks, keepAxis: !i.dims.isEmpty)))
      case .time:
        let k = try ShapeFolder.integers(i, "the index")
        guard k.count == 1, k[0] == -1 || sizes.time.map({ k[0] == $0 - 1 }) == true else {
          throw importFailure("Gather of step \(k.map(String.init).joined(separator: ", ")) of a sequence; grucc can take only the last step")
        }
        set(node, .data(try lastStep(d, axis: axis, keep: !i.dims.isEmpty, user: "Gather")))
      case .batch:
        throw importFailure("Gather of some sequences of the batch (indices \(i.valueDescription)); grucc takes whole batches")
      case .merged:
        throw importFailure("Gather along the flattened batch and time axis; grucc takes whole batches and sequences")
      }
    case (.data(var d), .perSequence(let p)):
      guard d.slots[axis] == .batch, case .permutation(let order) = p.kind, p.axes == [.batch] else {
        throw importFailure("Gather of the data by \(indices.kindDescription) along axis \(axis)")
      }
      d.order = d.order.then(order)
      set(node, .data(d))
    case (.perSequence(var s), .perSequence(let p)):
      guard case .permutation(let order) = p.kind, p.axes == [.batch], s.axes == [.batch] else {
        throw importFailure("Gather of \(input.kindDescription) by \(indices.kindDescription)")
      }
      switch s.kind {
      case .lengths: s.order = s.order.then(order)
      case .permutation(let o): s.kind = .permutation(o.then(order))
      case .iota: s.kind = .permutation(order)
      }
      set(node, .perSequence(s))
    case (.filled(var f), .folded(let i)):
      f.shape = Array(f.shape[..<axis]) + i.dims.map { SymbolicInt($0) } + Array(f.shape[(axis + 1)...])
      set(node, .filled(f))
    case (.filled(var f), .perSequence(let p)) where f.shape[axis].isBatch && p.axes == [.batch]:
      f.shape[axis] = .batch
      set(node, .filled(f))
    default:
      throw importFailure("Gather of \(input.kindDescription) by \(indices.kindDescription)")
    }
  }

  mutating func concatNode(_ node: OnnxNode) throws(ImportError) {
    try onlyAttributes(node, ["axis"])
    let axis = try int(node, "axis", default: 0)
    var inputs: [ImportValue] = []
    for i in node.inputs.indices where !node.inputs[i].isEmpty { inputs.append(try required(node, i)) }
    guard let first = inputs.first else { throw importFailure("Concat of nothing") }
    let rank = shapeOf(first).count
    let a = try ShapeFolder.axis(axis, rank: rank)
    if inputs.allSatisfy({ if case .folded = $0 { true } else { false } }) {
      set(node, .folded(try ShapeFolder.concat(inputs.map { if case .folded(let t) = $0 { t } else { fatalError() } }, axis: a)))
      return
    }
    if inputs.allSatisfy({ if case .data = $0 { true } else { false } }) {
      set(node, .data(try DataLayout.concat(inputs.map { if case .data(let d) = $0 { d } else { fatalError() } }, axis: a)))
      return
    }
    // Zero states joined: still zeros.
    var fills: [FilledTensor] = []
    for v in inputs {
      switch v {
      case .filled(let f): fills.append(f)
      case .folded(let t) where t.numbers.map({ Set($0).count == 1 }) == true:
        fills.append(FilledTensor(value: t.numbers![0], kind: t.kind, shape: t.dims.map { SymbolicInt($0) }))
      default: throw importFailure("Concat of \(inputs.map(\.kindDescription).joined(separator: " and "))")
      }
    }
    guard Set(fills.map(\.value)).count == 1, fills.allSatisfy({ $0.shape.count == rank }) else {
      throw importFailure("Concat of \(inputs.map(\.kindDescription).joined(separator: " and "))")
    }
    var shape = fills[0].shape
    for f in fills.dropFirst() {
      for k in 0..<rank where k != a && f.shape[k] != shape[k] {
        throw importFailure("Concat of shapes \(symbolicShapeText(shape)) and \(symbolicShapeText(f.shape)) along axis \(a)")
      }
      guard let s = shape[a] + f.shape[a] else { throw importFailure("the size overflows") }
      shape[a] = s
    }
    set(node, try fill(fills[0].value, kind: fills[0].kind, shape: shape))
  }

  mutating func expandNode(_ node: OnnxNode) throws(ImportError) {
    try onlyAttributes(node, [])
    guard let shapeTensor = try folded(node, 1, "the shape") else { throw importFailure("the shape is missing") }
    let target = try ShapeFolder.symbolicIntegers(shapeTensor, "the shape")
    let input = try required(node, 0)
    let shape = try ShapeFolder.expandShape(shapeOf(input), target, sizes: sizes)
    switch input {
    case .folded(let t):
      if let numbers = t.numbers, Set(numbers).count <= 1 {
        set(node, try fill(numbers.first ?? 0, kind: t.kind, shape: shape))
      } else {
        let dims = try shape.map { (d) throws(ImportError) -> Int in
          guard let n = d.constant else { throw importFailure("Expand of a constant that is not all one value to \(symbolicShapeText(shape))") }
          return n
        }
        _ = try ShapeFolder.count(dims, "the result")
        set(node, .folded(try ShapeFolder.elementwise([t, FoldedTensor(dims: dims, kind: t.kind, numbers: [Double](repeating: 0, count: dims.reduce(1, *)))], kind: t.kind) { (x) throws(ImportError) in x[0] }))
      }
    case .filled(var f):
      f.shape = shape
      set(node, .filled(f))
    case .data(let d):
      if let broadcast = try broadcastNorm(d, to: shape) {
        set(node, .data(broadcast))
        return
      }
      guard shape.count == d.slots.count, zip(shape, d.slots).allSatisfy({ d.matches($0, $1, sizes) }) else {
        throw importFailure("Expand of \(slotsText(d.slots)) to \(symbolicShapeText(target)) repeats values; grucc does not broadcast data")
      }
      set(node, .data(d))
    case .perSequence(let s):
      guard shape.count == s.axes.count else { throw importFailure("Expand of \(input.kindDescription) to \(symbolicShapeText(target))") }
      set(node, .perSequence(s))
    }
  }

  // MARK: Sorting the batch by length

  /// TopK over the whole lengths vector sorts the batch: values are the lengths in that order,
  /// indices the permutation.
  mutating func topK(_ node: OnnxNode) throws(ImportError) {
    try onlyAttributes(node, ["axis", "largest", "sorted"])
    guard case .perSequence(let s) = try required(node, 0), s.kind == .lengths, s.axes == [.batch] else {
      throw importFailure("TopK is folded only over the sequence lengths (sorting a batch by length)")
    }
    let axis = try int(node, "axis", default: -1)
    guard axis == 0 || axis == -1 else { throw importFailure("TopK along axis \(axis) of the lengths") }
    guard let k = try folded(node, 1, "K"), k.count == 1, let kv = k.elements[0].symbolic,
      sizes.matches(kv, .batch)
    else {
      throw importFailure("TopK keeps only some of the sequences; grucc folds it only when K is the batch size (a sort)")
    }
    let sort = node.outputs.count > 1 ? node.outputs[1] : (node.outputs.first ?? node.name)
    let order = BatchOrder(sort: "\(sort) (largest \(try int(node, "largest", default: 1)))")
    set(node, .perSequence(SequenceVector(kind: .lengths, order: s.order.then(order), axes: [.batch], elementKind: s.elementKind)), output: 0)
    set(node, .perSequence(SequenceVector(kind: .permutation(order), order: .identity, axes: [.batch], elementKind: .integer)), output: 1)
  }

  /// Scattering 0, 1, ..., B-1 to the places a permutation names inverts it (how exporters undo
  /// the sort after a packed GRU).
  mutating func scatterElements(_ node: OnnxNode) throws(ImportError) {
    try onlyAttributes(node, ["axis", "reduction"])
    guard try int(node, "axis", default: 0) == 0, attribute(node, "reduction").map({ $0 == .string("none") }) ?? true else {
      throw importFailure("ScatterElements is folded only along axis 0 without reduction")
    }
    let data = try required(node, 0)
    // A graph exported for a fixed batch writes 0, 1, ..., B-1 as a constant.
    var iota = false
    switch try required(node, 2) {
    case .perSequence(let u): iota = u.kind == .iota
    case .folded(let t): iota = t.dims.count == 1 && sizes.batch == t.count && t.numbers == (0..<t.count).map(Double.init)
    default: break
    }
    guard case .perSequence(let indices) = try required(node, 1), case .permutation(let order) = indices.kind, iota,
      shapeOf(data).count == 1, shapeOf(data)[0].isBatch || sizes.matches(shapeOf(data)[0], .batch)
    else {
      throw importFailure("ScatterElements is folded only to invert a reordering of the batch (0, 1, ..., B-1 scattered by a permutation)")
    }
    set(node, .perSequence(SequenceVector(kind: .permutation(order.inverse), order: .identity, axes: [.batch], elementKind: .integer)))
  }

  // MARK: Arithmetic

  mutating func whereNode(_ node: OnnxNode) throws(ImportError) {
    try onlyAttributes(node, [])
    guard let c = try folded(node, 0, "the condition"), let a = try folded(node, 1, "the first choice"),
      let b = try folded(node, 2, "the second choice")
    else { throw importFailure("Where needs three inputs") }
    let kind = a.kind == .float || b.kind == .float ? FoldedKind.float : a.kind
    set(node, .folded(try ShapeFolder.elementwise([c, a, b], kind: kind) { (x) throws(ImportError) in
      try ShapeFolder.truth(x[0], "the condition") ? x[1] : x[2]
    }))
  }

  mutating func arithmeticNode(_ node: OnnxNode) throws(ImportError) {
    let op = node.opType
    var inputs: [ImportValue] = []
    for i in node.inputs.indices where !node.inputs[i].isEmpty { inputs.append(try required(node, i)) }
    if inputs.contains(where: { if case .data = $0 { true } else { false } }) || inputs.contains(where: { if case .perSequence = $0 { true } else { false } }) {
      try dataArithmetic(node, inputs)
      return
    }
    try onlyAttributes(node, ["fmod", "broadcast"])
    // A fill with a constant: fold on one element, keep the fill's shape when it is the larger.
    if inputs.contains(where: { if case .filled = $0 { true } else { false } }) {
      var shape: [SymbolicInt] = []
      var scalars: [FoldedTensor] = []
      for v in inputs {
        switch v {
        case .filled(let f):
          shape = try ShapeFolder.expandShape(shape, f.shape, sizes: sizes)
          scalars.append(.scalar(.number(f.value), kind: f.kind))
        case .folded(let t):
          guard let n = t.numbers, Set(n).count <= 1, let first = n.first else {
            throw importFailure("\(op) of \(inputs.map(\.kindDescription).joined(separator: " and "))")
          }
          shape = try ShapeFolder.expandShape(shape, t.dims.map { SymbolicInt($0) }, sizes: sizes)
          scalars.append(.scalar(.number(first), kind: t.kind))
        default: break
        }
      }
      let r = try foldArithmetic(op, scalars, node: node)
      set(node, try fill(r.numbers![0], kind: r.kind, shape: shape))
      return
    }
    let tensors = inputs.map { if case .folded(let t) = $0 { t } else { fatalError() } }
    set(node, .folded(try foldArithmetic(op, tensors, node: node)))
  }

  private func foldArithmetic(_ op: String, _ ts: [FoldedTensor], node: OnnxNode) throws(ImportError) -> FoldedTensor {
    let kind = ts.contains { $0.kind == .float } ? FoldedKind.float : (ts.first?.kind ?? .integer)
    if Self.unaryArithmetic.contains(op) {
      guard ts.count == 1 else { throw importFailure("\(op) takes one input") }
      return try ShapeFolder.elementwise(ts, kind: op == "Not" ? .bool : kind) { (x) throws(ImportError) in
        try ShapeFolder.unary(op, x[0], kind: kind)
      }
    }
    if Self.comparisons.contains(op) {
      guard ts.count == 2 else { throw importFailure("\(op) takes two inputs") }
      return try ShapeFolder.elementwise(ts, kind: .bool) { (x) throws(ImportError) in try ShapeFolder.compare(op, x[0], x[1]) }
    }
    if Self.logic.contains(op) {
      guard ts.count == 2 else { throw importFailure("\(op) takes two inputs") }
      return try ShapeFolder.elementwise(ts, kind: .bool) { (x) throws(ImportError) in
        let (a, b) = (try ShapeFolder.truth(x[0], op), try ShapeFolder.truth(x[1], op))
        return .number((op == "And" ? a && b : op == "Or" ? a || b : a != b) ? 1 : 0)
      }
    }
    let fmod = try int(node, "fmod", default: 0) == 1
    guard ts.count >= (op == "Min" || op == "Max" ? 1 : 2), op == "Min" || op == "Max" || ts.count == 2 else {
      throw importFailure("\(op) takes two inputs")
    }
    var result = ts[0]
    for t in ts.dropFirst() {
      result = try ShapeFolder.elementwise([result, t], kind: kind) { (x) throws(ImportError) in
        try ShapeFolder.arithmetic(op, x[0], x[1], kind: kind, fmod: fmod)
      }
    }
    return result
  }
}
