// The GRU operator: its attributes become a `gru` line, W, R and B become grucc's tensors (cut
// as the onnx weight convention says, in the one call below), sequence_lens must be the lengths
// input and initial_h zeros or part of a graph input (which becomes the layer's `h0`).

extension OnnxImportSession {
  mutating func gru(_ node: OnnxNode) throws(ImportError) {
    try onlyAttributes(node, ["activation_alpha", "activation_beta", "activations", "clip", "direction", "hidden_size",
                              "layout", "linear_before_reset"])
    let layoutAttr = try int(node, "layout", default: 0)
    guard layoutAttr == 0 || layoutAttr == 1 else { throw importFailure("attribute 'layout' must be 0 or 1, found \(layoutAttr)") }
    guard case .data(let x) = try required(node, 0) else {
      throw importFailure("X is \(try required(node, 0).kindDescription); it must be computed from the input")
    }
    let expected: [Slot] = layoutAttr == 0 ? [.time, .batch] : [.batch, .time]
    guard x.slots.count == 3, Array(x.slots.prefix(2)) == expected, case .fixed(let features) = x.slots[2] else {
      var e = importFailure("X is \(slotsText(x.slots)), but layout=\(layoutAttr) needs [\(expected.map(\.description).joined(separator: ", ")), features]")
      e.layoutMismatch = true
      throw e
    }
    guard let wt = try folded(node, 1, "W"), let w = wt.numbers, let rt = try folded(node, 2, "R"), let r = rt.numbers else {
      throw importFailure("W and R must be constants (initializers)")
    }
    var direction = "forward"
    if case .string(let s)? = attribute(node, "direction") { direction = s }
    guard ["forward", "reverse", "bidirectional"].contains(direction) else {
      throw importFailure("attribute 'direction' is \(quoted(direction)); expected forward, reverse or bidirectional")
    }
    let d = direction == "bidirectional" ? 2 : 1
    guard wt.dims.count == 3, wt.dims[0] == d, wt.dims[1] % 3 == 0, wt.dims[1] > 0, wt.dims[2] == features else {
      throw importFailure("W has shape \(shapeText(wt.dims)), expected [\(d), 3·hidden_size, \(features)]")
    }
    let h = wt.dims[1] / 3
    let hiddenAttr = try int(node, "hidden_size", default: h)
    guard hiddenAttr == h, rt.dims == [d, 3 * h, h] else {
      throw importFailure("hidden_size \(hiddenAttr) and R \(shapeText(rt.dims)) disagree with W \(shapeText(wt.dims))")
    }
    let bt = try folded(node, 3, "B")
    if let bt, bt.dims != [d, 6 * h] || bt.numbers == nil {
      throw importFailure("B has shape \(shapeText(bt.dims)), expected [\(d), \(6 * h)]")
    }
    let lbr = try int(node, "linear_before_reset", default: 0)
    guard lbr == 0 || lbr == 1 else { throw importFailure("attribute 'linear_before_reset' must be 0 or 1") }

    var options = ["reset \(lbr == 1 ? "after" : "before")", "update keeps-state", "bias \(bt == nil ? "none" : "separate")"]
    if d == 2 { options.append("direction bidirectional") } else if direction == "reverse" { options.append("direction reverse") }
    let acts = try gruActivations(node, directions: d)
    let (f, g) = (acts[0], acts[1])
    if f != .sigmoid { options.append("gate-activation \(f.spelling)") }
    if g != .tanh { options.append("candidate-activation \(g.spelling)") }
    if d == 2 && acts[2] != f { options.append("backward-gate-activation \(acts[2].spelling)") }
    if d == 2 && acts[3] != g { options.append("backward-candidate-activation \(acts[3].spelling)") }
    if let clip = try float(node, "clip") {
      guard clip > 0, clip.isFinite else { throw importFailure("attribute 'clip' must be positive, found \(numberText(clip))") }
      options.append("clip \(clip)")
    }

    switch try value(node, 4) {
    case nil: break
    case .perSequence(let s)? where s.kind == .lengths:
      guard !x.layered else {
        throw importFailure("sequence_lens with a convolution, pad, pool or normalisation layer before the GRU: their steps "
          + "are not the input's, so the lengths do not say which are padding")
      }
      guard s.order == x.order else {
        throw importFailure("sequence_lens are in another order of the batch (\(s.order)) than X (\(x.order))")
      }
      guard s.axes == [.batch] else { throw importFailure("sequence_lens must be a vector [batch]") }
      usesLengths = true
      if let input = lengthsInput, lengthsName == nil {
        lengthsName = program.name(input, fallback: "lengths")
        usedInputs.insert(input)
        inputMaps.append(ImportedTensorMap(grucc: lengthsName!, framework: input, axes: [.batch], columns: []))
      }
    case let v?:
      throw importFailure("sequence_lens is \(v.kindDescription); grucc takes the lengths as a graph input [batch] (grucc's `lengths`)")
    }

    layerCount += 1
    let name = program.name("gru\(layerCount)", fallback: "gru\(layerCount)")
    var initialGiven = false
    switch try value(node, 5) {
    case nil: break
    case .filled(let fill)? where fill.value == 0: break
    case .folded(let t)? where t.numbers?.allSatisfy({ $0 == 0 }) == true: break
    case .data(let v)?:
      try initialState(v, layer: name, directions: d, hidden: h, layoutAttr: layoutAttr, order: x.order)
      initialGiven = true
      options.append("initial given")
    case let v?:
      throw importFailure("initial_h is \(v.kindDescription); grucc's initial state is zero or given as a graph input (`initial given`)")
    }

    let xPart = try wholePart(x, for: "the GRU's input X")
    let source = try nameOf(xPart, for: "a GRU", hint: "\(name)_in")
    body.append("gru \(name) = \(source) -> hidden \(h), " + options.joined(separator: ", "))
    try layerWeights(
      name: name, hidden: h, inputs: features, reset: lbr == 1 ? .after : .before, hasBias: bt != nil,
      direction: d == 2 ? .bidirectional : (direction == "reverse" ? .reverse : .forward), gateActivation: f,
      initialGiven: initialGiven, w: w, r: r, b: bt?.numbers)

    // Y is [T, D, B, H] (layout 0) or [B, T, D, H]; Y_h [D, B, H] or [B, D, H]. Direction k's
    // column j is grucc's column k·H + j: merge concat puts forward, then backward.
    let y = addPart(Part(text: name, kind: .expression, features: d * h, isSequence: true, zeroPastEnd: usesLengths))
    let state = addPart(Part(text: "state(\(name))", kind: .expression, features: d * h, isSequence: false, zeroPastEnd: false))
    let yElements = (0..<(d * h)).map { Element(part: y, column: $0) }
    let hElements = (0..<(d * h)).map { Element(part: state, column: $0) }
    let ySlots: [Slot] = layoutAttr == 0 ? [.time, .fixed(d), .batch, .fixed(h)] : [.batch, .time, .fixed(d), .fixed(h)]
    let hSlots: [Slot] = layoutAttr == 0 ? [.fixed(d), .batch, .fixed(h)] : [.batch, .fixed(d), .fixed(h)]
    set(node, .data(DataValue(slots: ySlots, elements: yElements, order: x.order, steps: x.steps)), output: 0)
    set(node, .data(DataValue(slots: hSlots, elements: hElements, order: x.order)), output: 1)
  }

  /// initial_h drawn from a graph input: the layer's `h0` input, whose column k·H + j is the
  /// element the GRU reads for direction k, unit j.
  private mutating func initialState(
    _ v: DataValue, layer: String, directions d: Int, hidden h: Int, layoutAttr: Int, order: BatchOrder
  ) throws(ImportError) {
    let expected: [Slot] = layoutAttr == 0 ? [.fixed(d), .batch, .fixed(h)] : [.batch, .fixed(d), .fixed(h)]
    guard v.slots == expected else {
      throw importFailure("initial_h is \(slotsText(v.slots)), but the GRU needs \(slotsText(expected)) (directions, batch, hidden_size)")
    }
    guard v.order == order else {
      throw importFailure("initial_h is in another order of the batch (\(v.order)) than X (\(order))")
    }
    let used = v.parts
    guard used.count == 1, case .input = parts[used[0]].kind else {
      let what = used.map { parts[$0].text }.joined(separator: ", ")
      throw importFailure("initial_h is computed from \(what); grucc's initial state is zero or taken from one graph input")
    }
    let input = parts[used[0]].text
    usedInputs.insert(input)
    guard case .data(let whole)? = values[input] else { throw importFailure("graph input \(quoted(input)) is not an initial state") }
    let columns = v.elements.map(\.column)
    inputMaps.append(ImportedTensorMap(
      grucc: "\(layer).h0", framework: input, axes: whole.slots.map(Self.mapAxis), columns: columns))
    let fixed = whole.fixedDims
    let whole1 = columns == Array(0..<(d * h)) && fixed == [d, h]
    notes.append("ONNX's initial state \(quoted(input)) \(slotsText(whole.slots)) gives grucc's '\(layer).h0' [B, \(d * h)]"
      + (whole1 ? "" : " from its elements \(rangeText(columns, fixed))")
      + (d == 2 ? " (forward, then backward)" : ""))
  }

  /// "[0:2, 0:6]" when `columns` are a block of the fixed axes `dims` in order, else a count.
  func rangeText(_ columns: [Int], _ dims: [Int]) -> String {
    guard let lo = columns.first, columns == Array(lo..<(lo + columns.count)), !dims.isEmpty else {
      return "(\(columns.count) of them)"
    }
    let inner = dims.dropFirst().reduce(1, *)
    guard lo % inner == 0, columns.count % inner == 0 else { return "(\(columns.count) of them)" }
    let first = lo / inner
    return "[\(first):\(first + columns.count / inner)" + dims.dropFirst().map { ", 0:\($0)" }.joined() + "]"
  }

  /// Writes the layer's tensors in grucc's names, cut from W, R and B by the onnx convention.
  private mutating func layerWeights(
    name: String, hidden h: Int, inputs: Int, reset: ResetPlacement, hasBias: Bool, direction: Direction,
    gateActivation: Activation, initialGiven: Bool, w: [Double], r: [Double], b: [Double]?
  ) throws(ImportError) {
    var layer = GRULayer(
      name: name, source: "", hidden: h, reset: reset, update: .keepsState, bias: hasBias ? .separate : .none,
      direction: direction, merge: .concat, initial: initialGiven ? .given : .zero, outputActivation: .identity, range: .none)
    layer.gateActivation = gateActivation
    let convention = Convention(format: .onnx)
    let op = GRUOp(layer: layer, hasLengths: false, hasInitialState: false)
    let files: [String: [Double]] = ["W": w, "R": r, "B": b ?? []]
    let dtype: TensorDType = precision == .f32 ? .f32 : .f64
    for (k, prefix) in op.directionPrefixes.enumerated() {
      for (tensorName, e) in convention.gru(layer, inputs: inputs, prefix: prefix, group: WeightGroup(prefix: ""), direction: k) {
        guard let file = files[e.tensor] else { throw importFailure("internal: the onnx convention names tensor \(quoted(e.tensor))") }
        let shape = tensorName.contains(".u_") ? [h, h] : tensorName.contains(".w_") ? [h, inputs] : [h]
        tensors.append(NamedTensor(name: tensorName, dtype: dtype, shape: shape, values: e.extract(file)))
      }
    }
  }

  /// ONNX's `activations` list (f, g per direction) with alpha and beta consumed in order by the
  /// activations that take them, as onnxruntime reads them.
  private func gruActivations(_ node: OnnxNode, directions: Int) throws(ImportError) -> [Activation] {
    guard case .strings(let names)? = attribute(node, "activations") else {
      if attribute(node, "activations") != nil { throw importFailure("attribute 'activations' must be STRINGS") }
      return directions == 2 ? [.sigmoid, .tanh, .sigmoid, .tanh] : [.sigmoid, .tanh]
    }
    guard names.count == 2 * directions else {
      throw importFailure("attribute 'activations' has \(names.count) entries; a GRU with \(directions) direction(s) needs \(2 * directions)")
    }
    var alphas: [Double] = []
    var betas: [Double] = []
    if case .floats(let a)? = attribute(node, "activation_alpha") { alphas = a.map(Double.init) }
    if case .floats(let b)? = attribute(node, "activation_beta") { betas = b.map(Double.init) }
    // ONNX's parameters are floats: write them as the float's shortest decimal, which reads
    // back as the same float in an f32 model.
    alphas = alphas.map { Double(Float($0).description) ?? $0 }
    betas = betas.map { Double(Float($0).description) ?? $0 }
    for v in alphas + betas where !v.isFinite {
      throw importFailure("attribute 'activation_alpha' or 'activation_beta' holds \(numberText(v))")
    }
    var made: [Activation] = []
    for name in names {
      func alpha(_ d: Double?) throws(ImportError) -> Double {
        if !alphas.isEmpty { return alphas.removeFirst() }
        guard let d else { throw importFailure("activation \(quoted(name)) needs a value in 'activation_alpha'") }
        return d
      }
      func beta(_ d: Double?) throws(ImportError) -> Double {
        if !betas.isEmpty { return betas.removeFirst() }
        guard let d else { throw importFailure("activation \(quoted(name)) needs a value in 'activation_beta'") }
        return d
      }
      switch name.lowercased() {
      case "sigmoid": made.append(.sigmoid)
      case "tanh": made.append(.tanh)
      case "relu": made.append(.relu)
      case "softsign": made.append(.softsign)
      case "softplus": made.append(.softplus)
      case "hardsigmoid": made.append(.hardSigmoid(alpha: try alpha(0.2), beta: try beta(0.5)))
      case "leakyrelu": made.append(.leakyRelu(alpha: try alpha(0.01)))
      case "thresholdedrelu": made.append(.thresholdedRelu(alpha: try alpha(1.0)))
      case "scaledtanh": made.append(.scaledTanh(alpha: try alpha(nil), beta: try beta(nil)))
      case "affine": made.append(.affine(alpha: try alpha(nil), beta: try beta(nil)))
      case "elu": made.append(.elu(alpha: try alpha(1.0)))
      default: throw importFailure("activation \(quoted(name)) in attribute 'activations' is not an ONNX RNN activation")
      }
    }
    return made
  }
}
