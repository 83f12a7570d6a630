// One static C function per scan: one time step of the recurrence, in equation order. Arguments
// are the step's input rows and the current states; results are written to caller buffers.

/// The C signature of a scan's step function.
struct CStepFunction {
  var name: String
  /// The distinct values the body yields, in order of first appearance; one output pointer each.
  var yields: [ValueRef]
  /// For each body output (states, then per-step outputs), its index in `yields`.
  var yieldIndex: [Int]
}

enum CScanEmitter {
  static func emit(_ scan: Scan, iface: CInterface, code: inout CVectorCode, w: inout CWriter) -> CStepFunction {
    let body = scan.body
    let names = iface.names
    let real = iface.real
    var locals = LocalNames(reserved: ["i", "t"])
    var values = [CValue](repeating: .unavailable, count: body.nodes.count)

    var yields: [ValueRef] = []
    var yieldIndex: [Int] = []
    for o in body.outputs {
      if let k = yields.firstIndex(of: o.value) { yieldIndex.append(k) } else {
        yieldIndex.append(yields.count)
        yields.append(o.value)
      }
    }

    var parameters: [String] = []
    for a in body.argumentNodes {
      let name = locals.fresh(body.nodes[a].hint ?? "arg\(a)")
      values[a] = .vector(name)
      parameters.append("const \(real) *\(name)")
    }
    var yieldNames: [String] = []
    for (k, v) in yields.enumerated() {
      let hint = body.nodes[v.node].hint ?? "out\(k)"
      let name = locals.fresh(hint)
      yieldNames.append(name)
      parameters.append("\(real) *\(name)")
    }

    let function = names.global("\(scan.name)_step")
    w.comment(scan.summary.isEmpty ? ["one step of '\(scan.name)'"] : scan.summary)
    w.block("static void \(function)(\(parameters.joined(separator: ", ")))") { w in
      for (i, node) in body.nodes.enumerated() {
        let operands = node.operands.map { values[$0.node] }
        switch node.op {
        case .argument: continue
        case .parameter(let p):
          values[i] = .weights(names.global(p))
          continue
        case .slice(let start, _):
          let name = locals.fresh(node.hint ?? "s\(i)")
          w.line("const \(real) *\(name) = \(operands[0].pointer) + \(start);")
          values[i] = .vector(name)
          continue
        default: break
        }
        let dest: String
        if let k = yields.firstIndex(where: { $0.node == i }) {
          dest = yieldNames[k]
        } else {
          dest = locals.fresh(node.hint ?? "v\(i)")
          w.line("\(real) \(dest)[\(node.types[0]?.features ?? 0)];")
        }
        code.emit(node, graph: body, operands: operands, dest: dest, w: &w)
        values[i] = .vector(dest)
      }
      // Yielded values the body did not compute (an argument passed through) are copied out.
      for (k, v) in yields.enumerated() {
        if case .vector(let p) = values[v.node], p != yieldNames[k] {
          let f = body.type(of: v)?.features ?? 0
          w.line("memcpy(\(yieldNames[k]), \(p), sizeof(\(real)) * \(f));")
        }
      }
    }
    w.line()
    return CStepFunction(name: function, yields: yields, yieldIndex: yieldIndex)
  }
}
