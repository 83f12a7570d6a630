// Lowers each high-level `gru` op to primitive ops: one `scan` per direction whose body is one
// time step of the variant's equations, then the output activation and the bidirectional merge.

/// Requires: shapes inferred, weights bound. Guarantees: no `gru` op remains; each direction is a
/// scan over the layer's input with one carried state, whose body reads, in equation order:
///
///     r  = sigmoid(W_r x + b_ir + U_r h + b_hr)          (absent with reset none)
///     z  = sigmoid(W_z x + b_iz + U_z h + b_hz)
///     n  = tanh(W_n x + b_in + U_n (r * h) + b_hn)        reset before
///     n  = tanh(W_n x + b_in + r * (U_n h + b_hn))        reset after
///     n  = tanh(W_n x + b_in + U_n h + b_hn)              reset none
///     h' = blend(z, h, n) = z * h + (1 - z) * n           update keeps-state
///     h' = blend(z, n, h) = (1 - z) * h + z * n           update takes-candidate
///
/// with `b_i*` and `b_h*` present or absent as the bias layout says (single: `b_*` on the input side).
public struct LowerGRU: Pass {
  public let name = "lower-gru"

  public init() {}

  public func run(_ module: Module, diagnostics: inout DiagnosticEngine) -> Module {
    var result = module
    result.graph = GraphRewriter.rewrite(module.graph, module: module) { r, _, node in
      guard case .gru(let g) = node.op else { return nil }
      return lower(g, node, &r, module: module)
    }
    return result
  }

  private func lower(_ g: GRUOp, _ node: Node, _ r: inout GraphRewriter, module: Module) -> [ValueRef] {
    let layer = g.layer
    let range = node.range
    let operands = r.mapped(node)
    let x = operands[0]
    let lengths = g.hasLengths ? operands[1] : nil
    let h0 = g.hasInitialState ? operands[operands.count - 1] : nil
    let xType = r.builder.type(of: x) ?? TensorType(module.dtype, [.batch, .time, .fixed(1)])
    let stateType = TensorType(module.dtype, [.batch, .fixed(layer.hidden)])

    var finals: [ValueRef] = []
    var sequences: [ValueRef] = []
    // A layer that processes the padding runs every scan over all T steps; a reverse pass then
    // reads the input as tf.reverse_sequence arranges it and yields its outputs in that order.
    let processesPadding = layer.padding == .processed && lengths != nil
    for (d, prefix) in g.directionPrefixes.enumerated() {
      let reversePass = layer.direction == .reverse || d == 1
      var direction: ScanDirection = reversePass ? .reverse : .forward
      var source = x
      if processesPadding && reversePass {
        source = r.builder.add(.reverseTime, [x, lengths!], range: range, hint: "\(prefix).in")
        direction = .forward
      }
      var initial: ValueRef
      if let h0 {
        initial = layer.directions == 1
          ? h0 : r.builder.add(.slice(start: d * layer.hidden, count: layer.hidden), [h0], range: range, hint: "\(prefix).h0")
      } else {
        initial = r.builder.add(.zeros(stateType), [], range: range, hint: "\(prefix).h0")
      }
      let body = stepBody(layer.direction(d), prefix: prefix, xStep: xType.stepType, stateType: stateType, module: module, range: range)
      let scanLengths = processesPadding ? nil : lengths
      var scan = Scan(
        name: prefix, direction: direction, sequences: 1, states: 1, hasLengths: scanLengths != nil, body: body)
      scan.summary = LowerGRU.equations(layer.direction(d), name: prefix, direction: direction)
      if processesPadding && reversePass {
        scan.summary[0] += "; it reads each valid prefix backwards, then the padding (tf.reverse_sequence)"
      }
      let s = r.builder.add(.scan(scan), [source, initial] + (scanLengths.map { [$0] } ?? []), range: range, hint: prefix)
      var output = ValueRef(s.node, 1)
      if layer.outputActivation != .identity {
        output = r.builder.add(.activation(layer.outputActivation), [output], range: range, hint: "\(prefix).out")
        if !layer.outputActivation.preservesZero, let scanLengths {
          output = r.builder.add(.mask, [output, scanLengths], range: range, hint: "\(prefix).out")
        }
      }
      // A forward pass visits the steps past each end after its last valid one, which `hold`
      // repeats; a reverse pass visits them first, before it has output anything: they stay zero.
      if layer.pastEnd == .hold, !reversePass, let scanLengths {
        output = r.builder.add(.hold, [output, scanLengths], range: range, hint: "\(prefix).out")
      }
      if reversePass {
        switch (layer.outputOrder, processesPadding) {
        case (.processing, false):
          output = r.builder.add(.reverseTime, [output], range: range, hint: "\(prefix).out")
        case (.input, true):
          output = r.builder.add(.reverseTime, [output, lengths!], range: range, hint: "\(prefix).out")
        case (.processing, true), (.input, false):
          break
        }
      }
      finals.append(ValueRef(s.node, 0))
      sequences.append(output)
    }
    guard layer.direction == .bidirectional else { return [sequences[0], finals[0]] }

    let name = layer.name
    let merged: ValueRef
    switch layer.merge {
    case .concat: merged = r.builder.add(.concat(axis: 2), sequences, range: range, hint: name)
    case .sum: merged = r.builder.add(.add, sequences, range: range, hint: name)
    case .mul: merged = r.builder.add(.mul, sequences, range: range, hint: name)
    case .mean:
      let sum = r.builder.add(.add, sequences, range: range, hint: "\(name).sum")
      merged = r.builder.add(.scale(0.5), [sum], range: range, hint: name)
    }
    let final = r.builder.add(.concat(axis: 1), finals, range: range, hint: "\(name).state")
    return [merged, final]
  }

  /// The step's equations as comments for the generated C, in the notation of Specs/LANGUAGE.md.
  static func equations(_ layer: GRULayer, name: String, direction: ScanDirection) -> [String] {
    func input(_ g: Gate) -> String {
      "W_\(g.rawValue) x" + (layer.inputBias(g).map { " + \($0.name)" } ?? "")
    }
    func recurrent(_ g: Gate, _ h: String) -> String {
      "U_\(g.rawValue) \(h)" + (layer.recurrentBias(g).map { " + \($0.name)" } ?? "")
    }
    var lines = ["gru '\(name)', one step \(direction == .forward ? "forward" : "backward") in time "
      + "(reset \(layer.reset.rawValue), update \(layer.update.rawValue), bias \(layer.bias.rawValue)):"]
    let clip = layer.clip.map { "clip\(Activation.format($0))" }
    func apply(_ a: Activation, _ pre: String) -> String {
      clip.map { "\(a.spelling)(\($0)(\(pre)))" } ?? "\(a.spelling)(\(pre))"
    }
    let f = layer.gateActivation
    let g = layer.candidateActivation
    if layer.reset != .none { lines.append("  r  = \(apply(f, "\(input(.r)) + \(recurrent(.r, "h"))"))") }
    lines.append("  z  = \(apply(f, "\(input(.z)) + \(recurrent(.z, "h"))"))")
    switch layer.reset {
    case .before: lines.append("  n  = \(apply(g, "\(input(.n)) + \(recurrent(.n, "(r * h)"))"))")
    case .after: lines.append("  n  = \(apply(g, "\(input(.n)) + r * (\(recurrent(.n, "h")))"))")
    case .none: lines.append("  n  = \(apply(g, "\(input(.n)) + \(recurrent(.n, "h"))"))")
    }
    if let c = layer.clip { lines.append("  clip\(Activation.format(c))(v) = min(max(v, -\(c)), \(c))") }
    switch layer.update {
    case .keepsState: lines.append("  h' = z * h + (1 - z) * n")
    case .takesCandidate: lines.append("  h' = (1 - z) * h + z * n")
    }
    return lines
  }

  /// One time step of one direction, as a scan body: arguments (x_t, h), yields (h', h').
  private func stepBody(
    _ layer: GRULayer, prefix: String, xStep: TensorType, stateType: TensorType, module: Module, range: SourceRange
  ) -> Graph {
    var b = GraphBuilder(module: module)
    let x = b.argument("x_t", xStep, range: range)
    let h = b.argument("h", stateType, range: range)

    func linear(_ input: ValueRef, _ weight: CellParameter, _ bias: CellParameter?, hint: String) -> ValueRef {
      var operands = [input, b.add(.parameter(name: weight.name(in: prefix)), [], range: range)]
      if let bias { operands.append(b.add(.parameter(name: bias.name(in: prefix)), [], range: range)) }
      return b.add(.linear, operands, range: range, hint: hint)
    }
    // ONNX's cell clip bounds every pre-activation before its activation.
    func activate(_ a: Activation, _ pre: ValueRef, hint: String) -> ValueRef {
      var v = pre
      if let c = layer.clip { v = b.add(.activation(.clip(c)), [v], range: range, hint: "\(hint)_clip") }
      return b.add(.activation(a), [v], range: range, hint: hint)
    }
    func gate(_ g: Gate) -> ValueRef {
      let fromInput = linear(x, .init(.inputWeight, g), layer.inputBias(g), hint: "x_\(g.rawValue)")
      let fromState = linear(h, .init(.recurrentWeight, g), layer.recurrentBias(g), hint: "h_\(g.rawValue)")
      let sum = b.add(.add, [fromInput, fromState], range: range, hint: "\(g.rawValue)_pre")
      return activate(layer.gateActivation, sum, hint: g.rawValue)
    }

    let reset = layer.reset == .none ? nil : gate(.r)
    let z = gate(.z)
    let un = CellParameter(.recurrentWeight, .n)
    let xn = linear(x, .init(.inputWeight, .n), layer.inputBias(.n), hint: "x_n")
    var candidateInput: ValueRef
    switch layer.reset {
    case .before:
      let rh = b.add(.mul, [reset!, h], range: range, hint: "rh")
      candidateInput = linear(rh, un, layer.recurrentBias(.n), hint: "h_n")
    case .after:
      let hn = linear(h, un, layer.recurrentBias(.n), hint: "h_n")
      candidateInput = b.add(.mul, [reset!, hn], range: range, hint: "r_h_n")
    case .none:
      candidateInput = linear(h, un, layer.recurrentBias(.n), hint: "h_n")
    }
    let pre = b.add(.add, [xn, candidateInput], range: range, hint: "n_pre")
    let n = activate(layer.candidateActivation, pre, hint: "n")
    let next: ValueRef
    switch layer.update {
    case .keepsState: next = b.add(.blend, [z, h, n], range: range, hint: "h_next")
    case .takesCandidate: next = b.add(.blend, [z, n, h], range: range, hint: "h_next")
    }
    b.output("state", next)
    b.output("output", next)
    return b.graph
  }
}
