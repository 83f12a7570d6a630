// Sequence layers before, between and after GRUs: ONNX Conv, BatchNormalization, Pad,
// AveragePool, MaxPool and LayerNormalization over time become grucc's conv1d, batchnorm, pad,
// pool and layernorm lines. PyTorch runs its 1-D layers on [B, C, T]: the layout tracker says
// which axis is the time and which the channels, so the transposes around them need no rule.
// ONNX's explicit padding is matched to grucc's causal / same / valid where it is the same
// arithmetic for every number of steps, and otherwise written as a `pad` line before a valid
// layer; what neither can say exactly is refused.

/// A Conv whose line waits for a following activation (Relu after a Conv is its `activation`).
struct PendingConv {
  /// The module's name, if the graph keeps it.
  var name: String?
  var source: String
  var filters: Int
  var kernel: Int
  /// `padding ...` and the stride, dilation and groups options, as written.
  var options: [String]
  var weight: [Double]
  var bias: [Double]?
  var activation: Activation?
}

/// A Pad over time whose line waits: a Conv reading it takes the zeros into its own padding
/// (F.pad(x, (E-1, 0)) before a Conv1d is a causal convolution).
struct PendingPad {
  /// The module's name, if the graph keeps it.
  var name: String?
  var source: Int
  var sourceName: String
  var before: Int
  var after: Int
}

/// How one ONNX padding of the time axis reads in grucc.
enum TimePadding: Equatable {
  case valid, causal, same
  /// Zeros before and after, then a valid layer.
  case explicit(before: Int, after: Int)
}

extension OnnxImportSession {
  /// The largest kernel, stride, dilation or padding read: far beyond any model, small enough
  /// that step counts computed from them cannot overflow.
  static let maxWindow = 1 << 20

  // MARK: Shared checks

  /// A [batch, channels, time] tensor (ONNX's N, C, L) holding one sequence whole, and that sequence's part.
  private mutating func channelsFirst(_ node: OnnxNode, _ x: ImportValue) throws(ImportError) -> (value: DataValue, part: Int) {
    guard case .data(let v) = x else {
      throw importFailure("X is \(x.kindDescription); it must be computed from the input")
    }
    guard v.slots.count == 3, v.slots[0] == .batch, v.slots[1].fixedSize != nil, v.slots[2] == .time else {
      throw importFailure("X is \(slotsText(v.slots)); grucc's \(grucc(node)) runs over time on [batch, channels, time] "
        + "(PyTorch's layout: transpose [batch, time, features] with perm [0, 2, 1] before it)")
    }
    return (v, try sequenceSource(node, v))
  }

  /// The one sequence part a layer reads, with the checks every sequence layer shares.
  private mutating func sequenceSource(_ node: OnnxNode, _ v: DataValue) throws(ImportError) -> Int {
    guard v.order.isIdentity else {
      throw importFailure("its input has the sequences \(v.order); grucc's \(grucc(node)) reads them in the input's order")
    }
    guard !usesLengths else {
      throw importFailure("grucc's \(grucc(node)) after a GRU with sequence lengths would read the padding past each end as ONNX does not")
    }
    let p = try wholePart(v, for: "\(node.opType)")
    guard parts[p].isSequence, v.hasTime else {
      throw importFailure("its input is a vector per sequence (\(parts[p].text)); grucc's \(grucc(node)) runs over the steps of a sequence")
    }
    return p
  }

  private func grucc(_ node: OnnxNode) -> String {
    switch node.opType {
    case "Conv": return "conv1d"
    case "BatchNormalization": return "batchnorm"
    case "LayerNormalization": return "layernorm"
    case "Pad": return "pad"
    default: return "pool"
    }
  }

  /// PyTorch's module name where the graph keeps it ("c.weight", "/c/Conv"), or nil.
  private func moduleName(_ node: OnnxNode) -> String? {
    if node.inputs.count > 1, node.inputs[1].hasSuffix(".weight") {
      let module = String(node.inputs[1].dropLast(".weight".count))
      return module.split(separator: ".").last.map(String.init) ?? module
    }
    let path = node.name.split(separator: "/")
    return path.count >= 2 ? String(path[path.count - 2]) : nil
  }

  /// A layer's name when its line is written: the module's, else `stem` numbered by the lines
  /// of that kind so far ("pad1"), so both exporters' graphs of one model read alike.
  mutating func layerIdentifier(_ hint: String?, stem: String) -> String {
    if let hint, ProgramWriter.identifier(hint) != nil { return program.name(hint, fallback: hint) }
    var n = (layerNumbers[stem] ?? 0) + 1
    while program.isUsed("\(stem)\(n)") { n += 1 }
    layerNumbers[stem] = n
    return program.name("\(stem)\(n)", fallback: "\(stem)\(n)")
  }

  /// A one-element INTS attribute (the 1-D kernel_shape, strides, dilations), or `d`.
  private func single(_ node: OnnxNode, _ name: String, default d: Int) throws(ImportError) -> Int {
    guard let v = try ints(node, name) else { return d }
    guard v.count == 1, v[0] >= 1, v[0] <= Self.maxWindow else {
      throw importFailure("attribute \(quoted(name)) is \(v); grucc's layers run over one axis, time, with a value from 1 to \(Self.maxWindow)")
    }
    return v[0]
  }

  /// `pads` [begin, end] over time (zeros when absent), never negative.
  private func timePads(_ node: OnnxNode) throws(ImportError) -> (Int, Int) {
    guard let p = try ints(node, "pads") else { return (0, 0) }
    guard p.count == 2, p.allSatisfy({ $0 >= 0 && $0 <= Self.maxWindow }) else {
      throw importFailure("attribute 'pads' is \(p); a 1-D layer takes [begin, end], neither negative nor above \(Self.maxWindow)")
    }
    return (p[0], p[1])
  }

  private func autoPad(_ node: OnnxNode) throws(ImportError) -> String {
    switch attribute(node, "auto_pad") {
    case nil: return "NOTSET"
    case .string(let s)?:
      guard ["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"].contains(s) else {
        throw importFailure("attribute 'auto_pad' is \(quoted(s)); ONNX knows NOTSET, VALID, SAME_UPPER and SAME_LOWER")
      }
      return s
    case let v?: throw importFailure("attribute 'auto_pad' is \(v.typeName), expected STRING")
    }
  }

  /// ONNX's padding of a window `span` steps wide moving by `stride`, in grucc's words.
  /// SAME_UPPER puts the odd zero after, which is TensorFlow's split and grucc's `same`, for every
  /// T; SAME_LOWER puts it before, the same only when the total is even, which for stride 1 is E - 1.
  private func timePadding(_ node: OnnxNode, span: Int, stride: Int, allowCausal: Bool) throws(ImportError) -> TimePadding {
    let mode = try autoPad(node)
    switch mode {
    case "VALID": return .valid
    case "SAME_UPPER": return .same
    case "SAME_LOWER":
      guard stride == 1, (span - 1) % 2 == 0 else {
        throw importFailure("auto_pad SAME_LOWER puts the odd zero before the steps; grucc's `same` puts it after (TensorFlow's split), "
          + "and they agree only for stride 1 and an odd window")
      }
      return .same
    default:
      let (before, after) = try timePads(node)
      if before == 0 && after == 0 { return .valid }
      if allowCausal && before == span - 1 && after == 0 { return .causal }
      if stride == 1 && before == (span - 1) / 2 && after == span - 1 - before { return .same }
      return .explicit(before: before, after: after)
    }
  }

  /// The number of steps ONNX's layer makes from `steps`: exact in T for stride 1, a fresh opaque
  /// count otherwise.
  private mutating func stepsAfter(_ steps: SymbolicInt, padding: TimePadding, span: Int, stride: Int) -> SymbolicInt {
    let added: Int
    switch padding {
    case .valid: added = 0
    case .causal, .same: added = span - 1
    case .explicit(let b, let a): added = b + a
    }
    guard stride == 1 else {
      // A graph exported with a fixed T holds this layer's steps as a number: keep it, so that
      // the graph's constants are recognised as the layer's steps.
      opaqueLayers += 1
      let n = sizes.number(steps).map { t in
        padding == .same ? (t + stride - 1) / stride : (t + added - span) >= 0 ? (t + added - span) / stride + 1 : 0
      }
      sizes.opaque.append(n)
      return .opaqueSteps(opaqueLayers)
    }
    return (steps + SymbolicInt(added - (span - 1))) ?? steps
  }

  /// A layer's output: `v`'s arrangement with the channels axis holding the new part's `features`.
  private mutating func layerOutput(from v: DataValue, text: String, kind: Part.Kind = .expression,
                                    features: Int, steps: SymbolicInt) -> DataValue {
    let q = addPart(Part(text: text, kind: kind, features: features, isSequence: true, zeroPastEnd: false))
    var out = v
    if let c = out.slots.firstIndex(where: { $0.fixedSize != nil && $0 != .fixed(1) }) ?? out.slots.firstIndex(where: { $0.fixedSize != nil }) {
      out.slots[c] = .fixed(features)
    }
    out.elements = (0..<features).map { Element(part: q, column: $0) }
    out.steps = steps
    out.layered = true
    return out
  }

  private func vector(_ node: OnnxNode, _ index: Int, _ what: String, count: Int) throws(ImportError) -> [Double]? {
    guard let t = try folded(node, index, what) else { return nil }
    guard let n = t.numbers, n.count == count, t.dims.filter({ $0 != 1 }).count <= 1 else {
      throw importFailure("\(what) is \(t.shapeDescription); grucc needs a constant of \(count) values, one per channel")
    }
    return n
  }

  private var dtype: TensorDType { precision == .f32 ? .f32 : .f64 }

  /// A `pad` line writing part `p`'s zeros, as a pad part of its own.
  private mutating func padLine(_ pad: PendingPad) -> String {
    let name = layerIdentifier(pad.name, stem: "pad")
    body.append("pad \(name) = \(pad.sourceName) -> before \(pad.before)" + (pad.after > 0 ? ", after \(pad.after)" : ""))
    return name
  }

  // MARK: Conv

  mutating func conv(_ node: OnnxNode) throws(ImportError) {
    try onlyAttributes(node, ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"])
    let (x, p) = try channelsFirst(node, try required(node, 0))
    let channels = parts[p].features
    guard let wt = try folded(node, 1, "W"), let w = wt.numbers else { throw importFailure("W must be a constant (an initializer)") }
    guard wt.dims.count == 3, wt.dims.allSatisfy({ $0 > 0 }) else {
      throw importFailure("W is \(wt.shapeDescription); a 1-D convolution's W is [filters, channels/group, kernel]")
    }
    let (filters, kernel) = (wt.dims[0], wt.dims[2])
    guard kernel <= Self.maxWindow else { throw importFailure("W's kernel of \(kernel) taps is above \(Self.maxWindow)") }
    let group = try int(node, "group", default: 1)
    guard group >= 1, channels % group == 0, filters % group == 0, wt.dims[1] == channels / group else {
      throw importFailure("W \(wt.shapeDescription) with group \(group) does not fit \(channels) input channels "
        + "(W must be [filters, channels/group, kernel], both counts divisible by group)")
    }
    if let k = try ints(node, "kernel_shape"), k != [kernel] {
      throw importFailure("attribute 'kernel_shape' \(k) disagrees with W \(wt.shapeDescription)")
    }
    let stride = try single(node, "strides", default: 1)
    let dilation = try single(node, "dilations", default: 1)
    let bias = try vector(node, 2, "B", count: filters)
    let span = (kernel - 1) * dilation + 1
    let onnxPadding = try timePadding(node, span: span, stride: stride, allowCausal: true)
    let steps = stepsAfter(x.steps, padding: onnxPadding, span: span, stride: stride)

    // A pending Pad before the Conv adds its zeros to the Conv's own (F.pad + Conv1d).
    var source = p
    var padding = onnxPadding
    if case .pendingPad(let pad) = parts[p].kind {
      let own: (Int, Int)?
      switch onnxPadding {
      case .valid: own = (0, 0)
      case .causal: own = (span - 1, 0)
      case .explicit(let b, let a): own = (b, a)
      case .same: own = nil
      }
      if let (b, a) = own {
        source = pad.source
        let (before, after) = (pad.before + b, pad.after + a)
        padding = before == 0 && after == 0 ? .valid : before == span - 1 && after == 0 ? .causal
          : stride == 1 && before == (span - 1) / 2 && after == span - 1 - before ? .same : .explicit(before: before, after: after)
      }
    }
    let hint = moduleName(node)
    var sourceName = try nameOf(source, for: "a Conv", hint: "\(hint ?? "conv")_in")
    let mode: String
    switch padding {
    case .valid: mode = "valid"
    case .causal: mode = "causal"
    case .same: mode = "same"
    case .explicit(let before, let after):
      sourceName = padLine(PendingPad(name: hint.map { "\($0)_pad" }, source: source, sourceName: sourceName,
                                      before: before, after: after))
      mode = "valid"
    }
    var options = ["padding \(mode)"]
    if stride != 1 { options.append("stride \(stride)") }
    if dilation != 1 { options.append("dilation \(dilation)") }
    if group != 1 { options.append("groups \(group)") }
    let pending = PendingConv(name: hint, source: sourceName, filters: filters, kernel: kernel,
                              options: options, weight: w, bias: bias, activation: nil)
    set(node, .data(layerOutput(from: x, text: "", kind: .pendingConv(pending), features: filters, steps: steps)))
  }

  /// Writes a pending Conv's line and tensors.
  mutating func writeConv(_ c: PendingConv) -> String {
    let name = layerIdentifier(c.name, stem: "conv")
    var line = "conv1d \(name) = \(c.source) -> filters \(c.filters), kernel \(c.kernel), " + c.options.joined(separator: ", ")
    if c.bias == nil { line += ", bias no" }
    if let a = c.activation, a != .identity { line += ", activation \(a.spelling)" }
    body.append(line)
    tensors.append(NamedTensor(name: "\(name).w", dtype: dtype, shape: [c.filters, c.weight.count / (c.filters * c.kernel), c.kernel],
                               values: c.weight))
    if let b = c.bias { tensors.append(NamedTensor(name: "\(name).b", dtype: dtype, shape: [c.filters], values: b)) }
    return name
  }

  /// An activation right after a Conv is the conv1d's `activation`: the part becomes a pending
  /// Conv with it. Nil when `p` is not such a Conv.
  mutating func fusedActivation(_ p: Int, _ f: Activation) -> Int? {
    guard case .pendingConv(var c) = parts[p].kind, c.activation == nil, !f.normalisesFeatures else { return nil }
    c.activation = f
    return addPart(Part(text: "", kind: .pendingConv(c), features: parts[p].features, isSequence: true, zeroPastEnd: false))
  }

  // MARK: Normalisation layers

  mutating func batchNormalization(_ node: OnnxNode) throws(ImportError) {
    try onlyAttributes(node, ["epsilon", "momentum", "training_mode", "spatial"])
    guard try int(node, "training_mode", default: 0) == 0 else {
      throw importFailure("training_mode is 1 (statistics of the batch); grucc's batchnorm is the inference form, with the running mean and variance")
    }
    guard try int(node, "spatial", default: 1) == 1 else { throw importFailure("spatial is 0; grucc normalises per channel") }
    guard case .data(let v) = try required(node, 0) else {
      throw importFailure("X is \(try required(node, 0).kindDescription); it must be computed from the input")
    }
    guard v.slots.count >= 2, v.slots[0] == .batch, case .fixed(let c) = v.slots[1], v.slots.dropFirst(2).allSatisfy({ $0 == .time || $0 == .fixed(1) }) else {
      throw importFailure("X is \(slotsText(v.slots)); ONNX normalises axis 1, and grucc's batchnorm needs it to be the channels of "
        + "[batch, channels, time] (PyTorch's BatchNorm1d layout)")
    }
    let p = try sequenceSource(node, v)
    guard let gamma = try vector(node, 1, "scale", count: c), let beta = try vector(node, 2, "B", count: c),
      let mean = try vector(node, 3, "input_mean", count: c), let variance = try vector(node, 4, "input_var", count: c)
    else { throw importFailure("scale, B, input_mean and input_var must all be given") }
    let epsilon = try normEpsilon(node)
    let hint = moduleName(node)
    let source = try nameOf(p, for: "a BatchNormalization", hint: "\(hint ?? "bn")_in")
    let name = layerIdentifier(hint, stem: "bn")
    body.append("batchnorm \(name) = \(source) -> epsilon \(Activation.format(epsilon))")
    for (suffix, values) in [("gamma", gamma), ("beta", beta), ("mean", mean), ("variance", variance)] {
      tensors.append(NamedTensor(name: "\(name).\(suffix)", dtype: dtype, shape: [c], values: values))
    }
    set(node, .data(layerOutput(from: v, text: name, features: c, steps: v.steps)))
  }

  /// A norm's `epsilon` attribute (ONNX's default 1e-5), which grucc takes finite and above 0.
  func normEpsilon(_ node: OnnxNode) throws(ImportError) -> Double {
    let epsilon = try float(node, "epsilon") ?? 1e-5
    guard epsilon > 0, epsilon.isFinite else {
      throw importFailure("attribute 'epsilon' is \(numberText(epsilon)); grucc's \(grucc(node)) takes a finite epsilon above 0")
    }
    return epsilon
  }

  mutating func layerNormalization(_ node: OnnxNode) throws(ImportError) {
    try onlyAttributes(node, ["axis", "epsilon", "stash_type"])
    guard case .data(let v) = try required(node, 0) else {
      throw importFailure("X is \(try required(node, 0).kindDescription); it must be computed from the input")
    }
    let axis = try ShapeFolder.axis(try int(node, "axis", default: -1), rank: v.slots.count)
    let over = v.slots[axis...]
    guard over.allSatisfy({ $0.fixedSize != nil }), v.slots[..<axis].allSatisfy({ $0.fixedSize == nil || $0 == .fixed(1) }) else {
      throw importFailure("it normalises axes \(axis)... of \(slotsText(v.slots)); grucc's layernorm normalises the features of each step, "
        + "the last axis of [batch, time, features]")
    }
    let p = try sequenceSource(node, v)
    let c = parts[p].features
    guard let gamma = try vector(node, 1, "Scale", count: c) else { throw importFailure("Scale is missing") }
    let beta = try vector(node, 2, "B", count: c)
    let epsilon = try normEpsilon(node)
    let hint = moduleName(node)
    let source = try nameOf(p, for: "a LayerNormalization", hint: "\(hint ?? "ln")_in")
    let name = layerIdentifier(hint, stem: "ln")
    body.append("layernorm \(name) = \(source) -> epsilon \(Activation.format(epsilon))" + (beta == nil ? ", center no" : ""))
    tensors.append(NamedTensor(name: "\(name).gamma", dtype: dtype, shape: [c], values: gamma))
    if let beta { tensors.append(NamedTensor(name: "\(name).beta", dtype: dtype, shape: [c], values: beta)) }
    set(node, .data(layerOutput(from: v, text: name, features: c, steps: v.steps)))
  }

  // MARK: Pad and pool

  mutating func padNode(_ node: OnnxNode) throws(ImportError) {
    try onlyAttributes(node, ["mode", "pads", "value"])
    var mode = "constant"
    if case .string(let s)? = attribute(node, "mode") { mode = s }
    guard mode == "constant" else {
      throw importFailure("mode \(quoted(mode)); grucc pads with zeros only (mode constant)")
    }
    let input = try required(node, 0)
    guard case .data(let v) = input else { throw importFailure("Pad of \(input.kindDescription) is not folded") }
    let rank = v.slots.count
    var pads: [Int]
    if let p = try ints(node, "pads") {
      pads = p
    } else {
      guard let t = try folded(node, 1, "pads") else { throw importFailure("pads are missing") }
      pads = try ShapeFolder.integers(t, "pads")
    }
    var value = try float(node, "value") ?? 0
    if let t = try folded(node, 2, "constant_value") {
      guard let n = t.numbers, n.count == 1 else { throw importFailure("constant_value must be one number") }
      value = n[0]
    }
    let axes: [Int]
    if let t = try folded(node, 3, "axes") {
      axes = try ShapeFolder.integers(t, "axes").map { (a) throws(ImportError) in try ShapeFolder.axis(a, rank: rank) }
    } else {
      axes = Array(0..<rank)
    }
    guard pads.count == 2 * axes.count else {
      throw importFailure("pads has \(pads.count) values for \(axes.count) axes; ONNX needs a begin and an end per axis")
    }
    var before = 0
    var after = 0
    for (k, a) in axes.enumerated() {
      let (b, e) = (pads[k], pads[k + axes.count])
      if b == 0 && e == 0 { continue }
      guard v.slots[a] == .time else {
        throw importFailure("it pads axis \(a) of \(slotsText(v.slots)), which is \(v.slots[a] == .batch ? "the batch" : "not time"); grucc pads over time only")
      }
      guard b >= 0, e >= 0 else { throw importFailure("it pads time by [\(b), \(e)]; grucc adds zero steps, it does not cut any") }
      guard b <= Self.maxWindow, e <= Self.maxWindow else { throw importFailure("it pads time by [\(b), \(e)]; grucc pads at most \(Self.maxWindow) steps") }
      (before, after) = (b, e)
    }
    if before == 0 && after == 0 {
      set(node, input)
      return
    }
    guard value == 0 else {
      throw importFailure("it pads with \(numberText(value)); grucc's pad adds zero steps")
    }
    let p = try sequenceSource(node, v)
    let hint = moduleName(node)
    let sourceName = try nameOf(p, for: "a Pad", hint: "\(hint ?? "pad")_in")
    let pad = PendingPad(name: hint, source: p, sourceName: sourceName, before: before, after: after)
    let steps = (v.steps + SymbolicInt(before + after)) ?? v.steps
    let out = layerOutput(from: v, text: "", kind: .pendingPad(pad), features: parts[p].features, steps: steps)
    set(node, .data(out))
  }

  mutating func pool(_ node: OnnxNode) throws(ImportError) {
    let average = node.opType == "AveragePool"
    try onlyAttributes(node, average ? ["auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides"]
      : ["auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"])
    if node.outputs.count > 1, !node.outputs[1].isEmpty { throw importFailure("its Indices output is not supported") }
    let (x, p) = try channelsFirst(node, try required(node, 0))
    guard try ints(node, "kernel_shape") != nil else { throw importFailure("attribute 'kernel_shape' is missing") }
    let size = try single(node, "kernel_shape", default: 1)
    let stride = try single(node, "strides", default: 1)
    guard try single(node, "dilations", default: 1) == 1 else { throw importFailure("a dilated pool; grucc's pools read adjacent steps") }
    let ceil = try int(node, "ceil_mode", default: 0)
    guard ceil == 0 || stride == 1 else {
      throw importFailure("ceil_mode 1 with stride \(stride) adds a partial last window; grucc's valid pool drops it")
    }
    let countPads = average ? try int(node, "count_include_pad", default: 0) == 1 : false
    let what = average ? "average" : "max"
    let onnxPadding = try timePadding(node, span: size, stride: stride, allowCausal: false)
    var padding = onnxPadding
    switch onnxPadding {
    case .same where countPads:
      // The zeros count in the average: the same as padding them explicitly, which needs the split.
      let (b, a) = try timePads(node)
      guard try autoPad(node) == "NOTSET" else {
        throw importFailure("auto_pad with count_include_pad 1 counts zeros whose split depends on the number of steps; "
          + "grucc's `same` pool leaves them out of the average")
      }
      padding = .explicit(before: b, after: a)
    case .explicit(let b, let a) where !countPads:
      throw importFailure("it pads time by [\(b), \(a)] and leaves the padding out of the \(what)"
        + "; grucc's pool does that only as `padding same` (TensorFlow's split: \((size - 1) / 2) before, \(size - 1 - (size - 1) / 2) after, stride 1)")
    default: break
    }
    let steps = stepsAfter(x.steps, padding: onnxPadding, span: size, stride: stride)
    let hint = moduleName(node)
    var sourceName = try nameOf(p, for: "a \(node.opType)", hint: "\(hint ?? "pool")_in")
    if case .explicit(let before, let after) = padding {
      sourceName = padLine(PendingPad(name: hint.map { "\($0)_pad" }, source: p, sourceName: sourceName, before: before, after: after))
    }
    let name = layerIdentifier(hint, stem: "pool")
    body.append("pool \(name) = \(sourceName) -> \(what) \(size)" + (stride != size ? ", stride \(stride)" : "")
      + (padding == .same ? ", padding same" : ""))
    set(node, .data(layerOutput(from: x, text: name, features: parts[p].features, steps: steps)))
  }

  // MARK: L2 normalisation

  /// LpNormalization with p 2 over the features is grucc's l2norm (ONNX divides by the norm
  /// itself; grucc by max(norm, 1e-12), the same wherever ONNX's result is a number).
  mutating func lpNormalization(_ node: OnnxNode) throws(ImportError) {
    try onlyAttributes(node, ["axis", "p"])
    guard case .data(let v) = try required(node, 0) else { throw importFailure("LpNormalization of a constant is not folded") }
    guard try int(node, "p", default: 2) == 2 else { throw importFailure("p is \(try int(node, "p", default: 2)); grucc's l2norm is the 2-norm") }
    let p = try featureAxisPart(v, axis: try int(node, "axis", default: -1), user: "LpNormalization")
    let q = addPart(Part(text: "l2norm(\(parts[p].text))", kind: .expression, features: parts[p].features,
                         isSequence: parts[p].isSequence, zeroPastEnd: parts[p].zeroPastEnd))
    var out = v
    out.elements = v.elements.map { Element(part: q, column: $0.column) }
    set(node, .data(out))
  }

  /// The part whose features lie whole along `axis`, the last one (others of size 1 or batch/time).
  private mutating func featureAxisPart(_ v: DataValue, axis raw: Int, user: String) throws(ImportError) -> Int {
    let axis = try ShapeFolder.axis(raw, rank: v.slots.count)
    guard axis == v.slots.count - 1, v.slots[axis].fixedSize != nil, v.fixedDims.dropLast().allSatisfy({ $0 == 1 }) else {
      throw importFailure("\(user) over axis \(axis) of \(slotsText(v.slots)); grucc's l2norm runs over the features, the last axis")
    }
    let p = try wholePart(v, for: user)
    try materialise(p, for: user)
    return p
  }

  /// ReduceL2 over the features: the first step of F.normalize (x / max(‖x‖, ε), exported as
  /// ReduceL2, Clip or Max, Expand, Div). The norm is a part that only that Div may use.
  mutating func reduceL2(_ node: OnnxNode) throws(ImportError) {
    try onlyAttributes(node, ["axes", "keepdims", "noop_with_empty_axes"])
    let input = try required(node, 0)
    guard case .data(let v) = input else { throw importFailure("ReduceL2 of \(input.kindDescription) is not folded") }
    guard let axes = try axesArgument(node), axes.count == 1 else {
      throw importFailure("ReduceL2 over several axes of \(slotsText(v.slots)); grucc's l2norm runs over the features, the last axis")
    }
    let p = try featureAxisPart(v, axis: axes[0], user: "ReduceL2")
    let q = addPart(Part(text: "", kind: .norm(source: p, epsilon: nil), features: 1, isSequence: parts[p].isSequence, zeroPastEnd: false))
    var out = v
    if try int(node, "keepdims", default: 1) == 1 { out.slots[out.slots.count - 1] = .fixed(1) } else { out.slots.removeLast() }
    out.elements = [Element(part: q, column: 0)]
    set(node, .data(out))
  }

  /// The norm's parts when every element of `v` is one, else nil.
  func normParts(_ v: DataValue) -> [Int]? {
    let used = v.parts
    guard !used.isEmpty, used.allSatisfy({ if case .norm = parts[$0].kind { true } else { false } }) else { return nil }
    return used
  }

  /// Clip(norm, min: ε) or Max(norm, ε): F.normalize's floor under the norm.
  mutating func clampNorm(_ node: OnnxNode, _ v: DataValue, low: Double?, high: Double?) throws(ImportError) {
    // ONNX's floats, written as the float's shortest decimal (1e-12, not 9.999999960041972e-13).
    let low = low.map { precision == .f32 ? Double(Float($0).description) ?? $0 : $0 }
    guard let low, low > 0, low.isFinite, high == nil || high == .infinity else {
      throw importFailure("\(node.opType) of an L2 norm to [\(low.map(numberText) ?? "-inf"), \(high.map(numberText) ?? "inf")]; "
        + "grucc's l2norm divides by max(norm, ε) with ε > 0 and no upper bound")
    }
    var out = v
    var mapped: [Int: Int] = [:]
    for p in normParts(v) ?? [] {
      guard case .norm(let source, let e) = parts[p].kind, e == nil else {
        throw importFailure("\(node.opType) of an L2 norm that already has a floor")
      }
      mapped[p] = addPart(Part(text: "", kind: .norm(source: source, epsilon: low), features: 1, isSequence: parts[p].isSequence, zeroPastEnd: false))
    }
    out.elements = v.elements.map { Element(part: mapped[$0.part]!, column: $0.column) }
    set(node, .data(out))
  }

  /// Expand of a norm [.., 1] to the features' shape: each feature is divided by the same norm.
  func broadcastNorm(_ v: DataValue, to shape: [SymbolicInt]) throws(ImportError) -> DataValue? {
    guard normParts(v) != nil, shape.count == v.slots.count else { return nil }
    var out = v
    var repeats = 1
    for (k, (d, s)) in zip(shape, v.slots).enumerated() {
      if v.matches(d, s, sizes) { continue }
      guard s == .fixed(1), let n = d.constant, n >= 1, n <= Sema.maxSize, k == v.slots.count - 1 else { return nil }
      out.slots[k] = .fixed(n)
      repeats = n
    }
    out.elements = v.elements.flatMap { [Element](repeating: $0, count: repeats) }
    return out
  }

  /// x / norm(x): grucc's l2norm of x, with the floor the norm was clamped to.
  mutating func divideByNorm(_ x: DataValue, _ d: DataValue) throws(ImportError) -> DataValue? {
    guard normParts(d) != nil else { return nil }
    guard x.slots == d.slots, x.elements.count == d.elements.count, x.order == d.order else {
      throw importFailure("Div of \(slotsText(x.slots)) by an L2 norm \(slotsText(d.slots)); grucc's l2norm divides each vector by its own norm")
    }
    var out = x
    var made: [Int: Int] = [:]
    for (i, e) in x.elements.enumerated() {
      guard case .norm(let source, let epsilon) = parts[d.elements[i].part].kind, source == e.part else {
        throw importFailure("Div by the L2 norm of another tensor; grucc's l2norm divides a vector by its own norm")
      }
      if made[e.part] == nil {
        let eps = epsilon.map { $0 == 1e-12 ? "" : ", \(Activation.format($0))" } ?? ""
        made[e.part] = addPart(Part(text: "l2norm(\(parts[e.part].text)\(eps))", kind: .expression, features: parts[e.part].features,
                                    isSequence: parts[e.part].isSequence, zeroPastEnd: parts[e.part].zeroPastEnd))
      }
      out.elements[i] = Element(part: made[e.part]!, column: e.column)
    }
    return out
  }
}
