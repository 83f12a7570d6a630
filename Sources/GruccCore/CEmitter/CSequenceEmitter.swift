// The whole-sequence function: runs the optimised graph over one sequence of one batch element,
// op by op, in graph order. Sequences live in the caller's scratch memory, vectors on the stack.

enum CSequenceEmitter {
  /// Emits `static void <model>_sequence(...)`, whose parameters are: x, x_stride, T, len, the
  /// initial states, each output (with a row stride for sequences), scratch.
  static func emit(
    iface: CInterface, steps: [Int: CStepFunction], code: inout CVectorCode, w: inout CWriter
  ) {
    let graph = iface.module.graph
    let real = iface.real
    var locals = LocalNames(reserved: ["i", "t", "T", "len", "scratch", "x", "x_stride"] + iface.outputs.map { CNames.parameter($0.name) })
    var values = [[CValue]](repeating: [], count: graph.nodes.count)
    var scratchOffset = 0
    var parameters = ["const \(real) *x", "size_t x_stride", "int T", "int len"]
    for s in iface.initialStates { parameters.append("const \(real) *\(CNames.parameter(s.name))") }
    for o in iface.outputs {
      parameters.append("\(real) *\(CNames.parameter(o.name))")
      if o.isSequence { parameters.append("size_t \(CNames.parameter(o.name))_stride") }
    }
    parameters.append("\(real) *scratch")

    /// A new sequence buffer in scratch: `features` values per step.
    func sequenceBuffer(_ hint: String, _ features: Int, _ w: inout CWriter) -> String {
      let name = locals.fresh(hint)
      w.line("\(real) *\(name) = scratch + (size_t)T * \(scratchOffset);")
      scratchOffset += features
      return name
    }
    func row(_ v: CValue, _ t: String = "t") -> String {
      if case .sequence(let p, let stride) = v { return "\(p) + (size_t)\(t) * \(stride)" }
      return v.pointer
    }

    /// The time loop of one scan. Returns the values of its results.
    func emitScan(
      _ scan: Scan, node: Node, operands: [CValue], step: CStepFunction, _ w: inout CWriter
    ) -> [CValue] {
      let name = scan.name
      w.comment(["\(name): \(scan.direction == .forward ? "forward" : "backward") over the \(scan.hasLengths ? "valid steps" : "steps")"])
      var results: [CValue] = []
      var states: [String] = []
      for j in 0..<scan.states {
        let f = node.types[j]?.features ?? 0
        let state = locals.fresh("\(name)_state")
        w.line("\(real) \(state)[\(f)];")
        let initial = operands[scan.sequences + j]
        if case .zero = initial { w.line("memset(\(state), 0, sizeof \(state));") }
        else { w.line("memcpy(\(state), \(initial.pointer), sizeof \(state));") }
        states.append(state)
        results.append(.vector(state))
      }
      var outputs: [String] = []
      for k in 0..<scan.outputs {
        let f = node.types[scan.states + k]?.features ?? 0
        let buffer = sequenceBuffer("\(name)_out", f, &w)
        outputs.append(buffer)
        results.append(.sequence(pointer: buffer, stride: String(f)))
      }
      // Where each yielded value goes: an output row if one is yielded as an output, else a temporary.
      var destinations: [String] = []
      for (k, v) in step.yields.enumerated() {
        if let o = (0..<scan.outputs).first(where: { step.yieldIndex[scan.states + $0] == k }) {
          let f = node.types[scan.states + o]?.features ?? 0
          destinations.append("\(outputs[o]) + (size_t)t * \(f)")
        } else {
          let temp = locals.fresh("\(name)_next")
          w.line("\(real) \(temp)[\(scan.body.type(of: v)?.features ?? 0)];")
          destinations.append(temp)
        }
      }
      let n = scan.hasLengths ? "len" : "T"
      let loop = scan.direction == .forward ? "for (int t = 0; t < \(n); t++)" : "for (int t = \(n) - 1; t >= 0; t--)"
      w.block(loop) { w in
        var args: [String] = []
        for k in 0..<scan.sequences { args.append(row(operands[k])) }
        args += states
        args += destinations
        w.line("\(step.name)(\(args.joined(separator: ", ")));")
        for j in 0..<scan.states {
          w.line("memcpy(\(states[j]), \(destinations[step.yieldIndex[j]]), sizeof \(states[j]));")
        }
        for o in 0..<scan.outputs where !destinations[step.yieldIndex[scan.states + o]].hasPrefix(outputs[o]) {
          let f = node.types[scan.states + o]?.features ?? 0
          w.line("memcpy(\(outputs[o]) + (size_t)t * \(f), \(destinations[step.yieldIndex[scan.states + o]]), sizeof(\(real)) * \(f));")
        }
      }
      if scan.hasLengths {
        for (o, buffer) in outputs.enumerated() {
          let f = node.types[scan.states + o]?.features ?? 0
          w.line("if (len < T) memset(\(buffer) + (size_t)len * \(f), 0, sizeof(\(real)) * (size_t)(T - len) * \(f));")
        }
      }
      return results
    }

    w.comment([
      "One sequence of one batch element: x has T rows of \(iface.input.features) values, row t at x + t * x_stride;",
      "only the first len steps are valid. Sequences live in scratch, \(iface.scratchPerStep) values per step.",
    ])
    w.block("static void \(iface.names.global("sequence"))(\(parameters.joined(separator: ", ")))") { w in
      if iface.lengths == nil { w.line("(void)len; /* the model takes no lengths: every step is valid */") }
      for (i, node) in graph.nodes.enumerated() {
        let operands = node.operands.map { values[$0.node][$0.result] }
        let type = node.types[0]
        let features = type?.features ?? 0
        let hint = node.hint ?? "v\(i)"
        switch node.op {
        case .argument(let name, let t):
          if t.isSequence { values[i] = [.sequence(pointer: "x", stride: "x_stride")] }
          else if t.dtype == .i32 { values[i] = [.lengths] }
          else { values[i] = [.vector(CNames.parameter(name))] }
        case .parameter(let name):
          values[i] = [.weights(iface.names.global(name))]
        case .zeros:
          values[i] = [.zero]
        case .slice(let start, _):
          if case .sequence(let p, let stride) = operands[0] {
            values[i] = [.sequence(pointer: "(\(p) + \(start))", stride: stride)]
          } else {
            values[i] = [.vector("(\(operands[0].pointer) + \(start))")]
          }
        case .scan(let scan):
          values[i] = emitScan(scan, node: node, operands: operands, step: steps[i]!, &w)
        case .reduce(let r):
          let name = locals.fresh(hint)
          let x = operands[0]
          let n = node.operands.count > 1 ? "len" : "T"
          w.comment(["\(name) = \(r.rawValue) over the \(n == "len" ? "valid steps" : "steps") of \(x.pointer)"])
          w.line("\(real) \(name)[\(features)];")
          w.line("memset(\(name), 0, sizeof \(name));")
          switch r {
          case .mean:
            w.line("for (int t = 0; t < \(n); t++) for (int i = 0; i < \(features); i++) \(name)[i] += (\(row(x)))[i];")
            w.line("if (\(n) > 0) for (int i = 0; i < \(features); i++) \(name)[i] /= (\(real))\(n);")
          case .max:
            w.block("if (\(n) > 0)") { w in
              w.line("memcpy(\(name), \(row(x, "0")), sizeof \(name));")
              w.line("for (int t = 1; t < \(n); t++) for (int i = 0; i < \(features); i++) if ((\(row(x)))[i] > \(name)[i]) \(name)[i] = (\(row(x)))[i];")
            }
          case .last:
            // The step index is parenthesised: `(size_t)len - 1 * F` would read the wrong row.
            w.line("if (\(n) > 0) memcpy(\(name), \(row(x, "(\(n) - 1)")), sizeof \(name));")
          }
          values[i] = [.vector(name)]
        case .mask:
          let name = sequenceBuffer(hint, features, &w)
          w.line("for (int t = 0; t < len; t++) memcpy(\(name) + (size_t)t * \(features), \(row(operands[0])), sizeof(\(real)) * \(features));")
          w.line("if (len < T) memset(\(name) + (size_t)len * \(features), 0, sizeof(\(real)) * (size_t)(T - len) * \(features));")
          values[i] = [.sequence(pointer: name, stride: String(features))]
        case .linearUnshared:
          code.kernels.insert(.linear)
          let name = sequenceBuffer(hint, features, &w)
          let k = graph.type(of: node.operands[0])?.features ?? 0
          let bias = operands.count > 2 ? "\(operands[2].pointer) + (size_t)t * \(features)" : "NULL"
          w.line("for (int t = 0; t < T; t++) \(iface.names.global("linear"))(\(name) + (size_t)t * \(features), "
            + "\(operands[1].pointer) + (size_t)t * \(features * k), \(bias), \(row(operands[0])), \(features), \(k));")
          values[i] = [.sequence(pointer: name, stride: String(features))]
        case .gru, .dense:
          preconditionFailure("high-level op '\(node.op.mnemonic)' reached the C emitter")
        case .linear, .activation, .add, .mul, .scale, .blend, .concat:
          if type?.isSequence == true {
            let name = sequenceBuffer(hint, features, &w)
            w.block("for (int t = 0; t < T; t++)") { w in
              let rows = operands.map { v -> CValue in
                if case .weights = v { return v }
                return .vector("(\(row(v)))")
              }
              code.emit(node, graph: graph, operands: rows, dest: "(\(name) + (size_t)t * \(features))", w: &w)
            }
            values[i] = [.sequence(pointer: name, stride: String(features))]
          } else {
            let name = locals.fresh(hint)
            w.line("\(real) \(name)[\(features)];")
            let inputs = code.materialisingZeros(operands, of: node, graph: graph, locals: &locals, w: &w)
            code.emit(node, graph: graph, operands: inputs, dest: name, w: &w)
            values[i] = [.vector(name)]
          }
        }
      }
      w.comment(["outputs"])
      for o in iface.outputs {
        let v = values[o.value.node][o.value.result]
        let name = CNames.parameter(o.name)
        if o.isSequence {
          w.line("for (int t = 0; t < T; t++) memcpy(\(name) + (size_t)t * \(name)_stride, \(row(v)), sizeof(\(real)) * \(o.features));")
        } else if case .zero = v {
          w.line("memset(\(name), 0, sizeof(\(real)) * \(o.features));")
        } else {
          w.line("memcpy(\(name), \(v.pointer), sizeof(\(real)) * \(o.features));")
        }
      }
    }
    w.line()

  }
}
