// One static C function per scan: one time step of the recurrence, in equation order, for `nb`
// batch elements at once, so each recurrent weight is loaded once per step for all of them.
// Arguments are the step's input rows and the current states; results go to caller buffers.

/// The C signature of a scan's step function.
struct CStepFunction {
  var name: String
  /// The distinct values the body yields, in order of first appearance; one output pointer each.
  var yields: [ValueRef]
  /// For each body output (states, then per-step outputs), its index in `yields`.
  var yieldIndex: [Int]
  /// Values of work memory the step needs per batch element, for its temporaries.
  var workPerRow: Int
  /// Where each temporary starts in a row of work memory: the step takes one pointer per
  /// temporary, after the yields, at `work + nb * offset`.
  var temporaries: [Int]

  /// The pointers to pass for the temporaries, in work memory `work` for `nb` rows.
  func temporaryArguments(work: String, nb: String) -> [String] {
    temporaries.map { $0 == 0 ? work : nb == "1" ? "\(work) + \($0)" : "\(work) + (size_t)\(nb) * \($0)" }
  }
}

enum CScanEmitter {
  /// The distinct yielded values and, for each body output, its index among them.
  static func yields(_ body: Graph) -> (yields: [ValueRef], index: [Int]) {
    var yields: [ValueRef] = []
    var index: [Int] = []
    for o in body.outputs {
      if let k = yields.firstIndex(of: o.value) { index.append(k) } else {
        index.append(yields.count)
        yields.append(o.value)
      }
    }
    return (yields, index)
  }

  /// Values of work memory per batch element: one row for each temporary (a computed value that
  /// is not yielded).
  static func workPerRow(_ scan: Scan) -> Int {
    let yielded = Set(yields(scan.body).yields.map(\.node))
    return scan.body.nodes.indices.reduce(0) { sum, i in
      let node = scan.body.nodes[i]
      switch node.op {
      case .argument, .parameter, .slice: return sum
      case .zeros, .linear, .packedLinear, .activation, .add, .mul, .scale, .blend, .concat, .fused:
        return yielded.contains(i) ? sum : sum + (node.types[0]?.features ?? 0)
      case .gru, .dense, .sequenceLayer, .norm, .scan, .linearUnshared, .reduce, .mask, .hold, .reverseTime, .gradient:
        preconditionFailure(notInABody(node.op))
      }
    }
  }

  /// High-level ops are lowered before the C backend, time-axis ops act on whole sequences and
  /// gradient ops are interpreted only: none of them can be in a step of a scan.
  static func notInABody(_ op: Op) -> String { "'\(op.mnemonic)' cannot be in the body of a scan the C backend compiles" }

  /// Emits `static void <model>_<scan>_step(size_t nb, seq, seq_ld, ..., states..., yields...,
  /// temporaries...)`: row b of sequence argument k at `seq_k + b * seq_k_ld`; states, yields and
  /// temporaries are contiguous rows.
  static func emit(_ scan: Scan, iface: CInterface, code: inout CVectorCode, w: inout CWriter) -> CStepFunction {
    let body = scan.body
    let names = iface.names
    let real = iface.real
    var locals = LocalNames(reserved: ["i", "t", "b", "nb", "work"], names: names)
    var values = [CValue](repeating: .unavailable, count: body.nodes.count)
    let (yields, yieldIndex) = self.yields(body)

    // No two pointers overlap (each call passes distinct buffers), and saying so is what lets gcc
    // vectorise the step's loops at -O2. Each temporary is a pointer of its own for the same
    // reason: gcc cannot tell apart two pieces of one restrict buffer.
    let restrict = "\(names.macro)_RESTRICT"
    var parameters = ["size_t nb"] + iface.weightParameter
    for (k, a) in body.argumentNodes.enumerated() {
      let name = locals.fresh(body.nodes[a].hint ?? "arg\(a)")
      parameters.append("const \(real) *\(restrict) \(name)")
      if k < scan.sequences {
        let ld = locals.fresh("\(name)_ld")
        parameters.append("size_t \(ld)")
        values[a] = .rows(name, ld: ld)
      } else {
        values[a] = .vector(name)
      }
    }
    var yieldNames: [String] = []
    for (k, v) in yields.enumerated() {
      let name = locals.fresh(body.nodes[v.node].hint ?? "out\(k)")
      yieldNames.append(name)
      parameters.append("\(real) *\(restrict) \(name)")
    }

    let function = names.stepFunction(scan.name)
    let work = workPerRow(scan)
    var summary = scan.summary.isEmpty ? ["one step of '\(scan.name)'"] : scan.summary
    summary.append("for nb batch elements: row b of each argument at b * its ld (states, yields and temporaries: b * size)")
    w.comment(summary)
    // The body first: it names the temporaries, which are parameters.
    var text = CWriter(depth: 1)
    var temporaries: [Int] = []
    var workOffset = 0
    for (i, node) in body.nodes.enumerated() {
      let operands = node.operands.map { values[$0.node] }
      switch node.op {
      case .argument: continue
      case .parameter(let p):
        values[i] = .weights(iface.weight(p))
        continue
      case .slice(let start, _):
        let name = locals.fresh(node.hint ?? "s\(i)")
        text.line("const \(real) *\(name) = \(operands[0].pointer) + \(start);")
        let ld = operands[0].rowStride ?? String(body.type(of: node.operands[0])?.features ?? 0)
        values[i] = .rows(name, ld: ld)
        continue
      case .zeros, .linear, .packedLinear, .activation, .add, .mul, .scale, .blend, .concat, .fused:
        break
      case .gru, .dense, .sequenceLayer, .norm, .scan, .linearUnshared, .reduce, .mask, .hold, .reverseTime, .gradient:
        preconditionFailure(Self.notInABody(node.op))
      }
      let dest: String
      let features = node.types[0]?.features ?? 0
      if let k = yields.firstIndex(where: { $0.node == i }) {
        dest = yieldNames[k]
      } else {
        dest = locals.fresh(node.hint ?? "v\(i)")
        parameters.append("\(real) *\(restrict) \(dest)")
        temporaries.append(workOffset)
        workOffset += features
      }
      code.emit(node, graph: body, operands: operands, dest: dest, rows: "nb", locals: &locals, w: &text)
      values[i] = .vector(dest)
    }
    // Yielded values the body did not compute (an argument passed through) are copied out.
    for (k, v) in yields.enumerated() where values[v.node].pointer != yieldNames[k] {
      let f = body.type(of: v)?.features ?? 0
      let source = values[v.node]
      if let ld = source.rowStride {
        text.line("for (size_t b = 0; b < nb; b++) memcpy(\(yieldNames[k]) + b * \(f), \(source.pointer) + b * \(ld), sizeof(\(real)) * \(f));")
      } else {
        text.line("memcpy(\(yieldNames[k]), \(source.pointer), sizeof(\(real)) * (size_t)nb * \(f));")
      }
    }
    precondition(workOffset == work, "work per row: emitted \(workOffset), counted \(work)")
    w.line("static void \(function)(\(parameters.joined(separator: ", "))) {")
    w.append(text)
    w.line("}")
    w.line()
    return CStepFunction(
      name: function, yields: yields, yieldIndex: yieldIndex, workPerRow: work, temporaries: temporaries)
  }
}
