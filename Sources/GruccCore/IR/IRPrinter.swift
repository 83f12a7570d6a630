// Prints a module as stable, diff-friendly text: the format of `--emit ir` and of the golden
// files. One line per node: name, op, operands, attributes in fixed order, types, hint, location.

public enum IRPrinter {
  public static func print(_ module: Module) -> String {
    var out = "module @\(module.name) : \(module.precision.rawValue), \(module.layout.rawValue)"
    if let steps = module.steps { out += ", steps \(steps)" }
    out += ", from \(module.sourceName)\n"
    for p in module.parameters {
      out += "parameter @\(p.name) : \(module.dtype.rawValue)\(shapeText(p.shape))  # \(p.role)\n"
    }
    out += "graph {\n"
    printGraph(module.graph, depth: 0, indent: "  ", module: module, into: &out)
    for o in module.graph.outputs { out += "  output \(o.name) = \(name(o.value, in: module.graph, depth: 0))\n" }
    out += "}\n"
    return out
  }

  private static func prefix(_ depth: Int) -> String { "%" + String(repeating: "t", count: depth) }

  private static func name(_ v: ValueRef, in graph: Graph, depth: Int) -> String {
    let base = prefix(depth) + String(v.node)
    // The printer also dumps graphs the verifier rejected, whose operands may point anywhere.
    guard graph.nodes.indices.contains(v.node) else { return "\(base)#\(v.result)?" }
    return graph.nodes[v.node].types.count > 1 ? "\(base)#\(v.result)" : base
  }

  private static func printGraph(_ graph: Graph, depth: Int, indent: String, module: Module, into out: inout String) {
    for (i, node) in graph.nodes.enumerated() {
      var line = indent + prefix(depth) + String(i)
      if node.types.count > 1 { line += ":\(node.types.count)" }
      line += " = " + node.op.mnemonic
      let operands = node.operands.map { name($0, in: graph, depth: depth) }
      let head = headText(node.op)
      if !head.isEmpty { line += " " + head }
      if !operands.isEmpty { line += " " + operands.joined(separator: ", ") }
      let attributes = attributeText(node.op)
      if !attributes.isEmpty { line += " {" + attributes + "}" }
      line += " : " + node.types.map { $0?.description ?? "?" }.joined(separator: ", ")
      var trailer: [String] = []
      if let hint = node.hint { trailer.append(hint) }
      if !node.range.isNone { trailer.append("\(module.sourceName):\(node.range.start.line):\(node.range.start.column)") }
      if !trailer.isEmpty { line += "  # " + trailer.joined(separator: ", ") }
      if case .scan(let scan) = node.op {
        out += line + " {\n"
        printGraph(scan.body, depth: depth + 1, indent: indent + "  ", module: module, into: &out)
        let yields = scan.body.outputs.map { name($0.value, in: scan.body, depth: depth + 1) }
        out += indent + "  yield " + yields.joined(separator: ", ") + "\n"
        out += indent + "}\n"
      } else if case .fused(let fusion) = node.op {
        out += line + " {\n"
        printFusion(fusion, indent: indent + "  ", into: &out)
        out += indent + "}\n"
      } else {
        out += line + "\n"
      }
    }
  }

  /// A fused op's steps, one per line: `$k` is the op's operand k, `sN` the result of step N.
  private static func printFusion(_ fusion: Fusion, indent: String, into out: inout String) {
    for (i, step) in fusion.steps.enumerated() {
      let inputs = step.inputs.map { input -> String in
        switch input {
        case .operand(let k): return "$\(k)"
        case .step(let j): return "s\(j)"
        }
      }
      var line = indent + "s\(i) = \(step.op.mnemonic) " + inputs.joined(separator: ", ")
      let attributes = attributeText(step.op)
      if !attributes.isEmpty { line += " {" + attributes + "}" }
      if let hint = step.hint { line += "  # " + hint }
      out += line + "\n"
    }
  }

  /// Text printed right after the mnemonic (before operands).
  private static func headText(_ op: Op) -> String {
    switch op {
    case .argument(let name, _): return "\"\(name)\""
    case .parameter(let name): return "@\(name)"
    case .scan(let s): return s.direction.rawValue
    case .zeros, .gru, .dense, .sequenceLayer, .norm, .linear, .packedLinear, .linearUnshared, .activation, .add, .mul, .scale, .blend, .slice,
      .concat, .reduce, .mask, .hold, .reverseTime, .fused, .gradient:
      return ""
    }
  }

  /// Attributes in a fixed order, so dumps are stable.
  private static func attributeText(_ op: Op) -> String {
    switch op {
    case .gru(let g):
      let l = g.layer
      var parts = [
        "layer = \(l.name)", "hidden = \(l.hidden)", "reset = \(l.reset.rawValue)", "update = \(l.update.rawValue)",
        "bias = \(l.bias.rawValue)", "direction = \(l.direction.rawValue)",
      ]
      if l.direction == .bidirectional { parts.append("merge = \(l.merge.rawValue)") }
      parts.append("initial = \(l.initial.rawValue)")
      if l.gateActivation != .sigmoid { parts.append("gate-activation = \(l.gateActivation.spelling)") }
      if l.candidateActivation != .tanh { parts.append("candidate-activation = \(l.candidateActivation.spelling)") }
      if let a = l.backwardGateActivation { parts.append("backward-gate-activation = \(a.spelling)") }
      if let a = l.backwardCandidateActivation { parts.append("backward-candidate-activation = \(a.spelling)") }
      if let c = l.clip { parts.append("clip = \(c)") }
      if l.outputActivation != .identity { parts.append("output-activation = \(l.outputActivation.spelling)") }
      if l.pastEnd != .zero { parts.append("past-end = \(l.pastEnd.rawValue)") }
      if l.outputOrder != .input { parts.append("output-order = \(l.outputOrder.rawValue)") }
      if l.padding != .skipped { parts.append("padding = \(l.padding.rawValue)") }
      return parts.joined(separator: ", ")
    case .sequenceLayer(let l):
      return (["name = \(l.name)"] + l.kind.options.map { "\($0.0) = \($0.1)" }).joined(separator: ", ")
    case .dense(let d):
      return "name = \(d.name), units = \(d.units)" + (d.unshared ? ", unshared" : "")
    case .norm(let n): return n.attributeText
    case .scan(let s):
      return "name = \(s.name), sequences = \(s.sequences), states = \(s.states)" + (s.hasLengths ? ", lengths" : "")
    case .scale(let f): return "factor = \(f)"
    case .slice(let start, let count): return "start = \(start), count = \(count)"
    case .concat(let axis): return "axis = \(axis)"
    case .packedLinear(let p): return "outputs = \(p.outputs), panel = \(p.panel)"
    case .activation(let a):
      guard let form = Activation.form(named: a.name) else { return "" }
      return zip(form.parameters, a.parameters).map { "\($0) = \($1)" }.joined(separator: ", ")
    case .argument, .parameter, .zeros, .linear, .linearUnshared, .add, .mul, .blend, .reduce, .mask, .hold,
      .reverseTime, .fused, .gradient:
      return ""
    }
  }
}
