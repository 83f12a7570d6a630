// The whole-sequence function: runs the optimised graph over nb sequences at once, op by op, in
// graph order. Each recurrence steps all nb sequences together, so its weights are read once per
// step for the whole batch (a matrix product instead of nb matrix-vector products).
//
// Scratch holds every value: sequences as [T][nb][features] (one step of all sequences is
// contiguous, as the step functions want it), then per-sequence vectors as [nb][features].

enum CSequenceEmitter {
  /// Emits `static void <model>_sequence(...)`, whose parameters are: nb, x with its sequence and
  /// step strides, T, lengths (or NULL), the initial states, each output (with its strides if it
  /// is a sequence), scratch. Returns the scratch values needed per sequence besides the
  /// `iface.scratchPerStep` per step.
  @discardableResult
  static func emit(
    iface: CInterface, steps: [Int: CStepFunction], code: inout CVectorCode, w: inout CWriter
  ) -> Int {
    let graph = iface.module.graph
    let real = iface.real
    var locals = LocalNames(
      reserved: ["i", "t", "b", "nb", "T", "tmax", "lengths", "scratch", "x", "x_b", "x_t", "work"]
        + iface.initialStates.map { iface.names.parameter($0.name) }
        + iface.outputs.flatMap { o in ["", "_b", "_t"].map { iface.names.parameter(o.name) + $0 } },
      names: iface.names)
    var values = [[CValue]](repeating: [], count: graph.nodes.count)
    var sequenceOffset = 0
    var vectorOffset = 0
    var parameters = ["int nb", "const \(real) *x", "size_t x_b", "size_t x_t", "int T", "const int *lengths"]
    for s in iface.initialStates { parameters.append("const \(real) *\(iface.names.parameter(s.name))") }
    for o in iface.outputs {
      let p = iface.names.parameter(o.name)
      parameters.append("\(real) *\(p)")
      if o.isSequence { parameters += ["size_t \(p)_b", "size_t \(p)_t"] }
    }
    parameters.append("\(real) *scratch")

    /// A new sequence in scratch: `features` values per step and sequence.
    func sequenceBuffer(_ hint: String, _ features: Int, _ w: inout CWriter) -> String {
      let name = locals.fresh(hint)
      w.line("\(real) *\(name) = scratch + (size_t)nb * T * \(sequenceOffset);")
      sequenceOffset += features
      return name
    }
    /// New rows in scratch: `features` values per sequence.
    func vectorBuffer(_ hint: String, _ features: Int, _ w: inout CWriter) -> String {
      let name = locals.fresh(hint)
      w.line("\(real) *\(name) = scratch + (size_t)nb * ((size_t)T * \(iface.scratchPerStep) + \(vectorOffset));")
      vectorOffset += features
      return name
    }
    func scratchSequence(_ pointer: String, _ features: Int) -> CValue {
      .sequence(pointer: pointer, stride: "nb * \(features)", element: "\(features)")
    }
    /// Row t of every sequence of a sequence value, as rows `ld` apart.
    func stepRows(_ v: CValue, _ t: String = "t") -> CValue {
      guard case .sequence(let p, let stride, let element) = v else { return v }
      return .rows("\(p) + (size_t)\(t) * \(stride)", ld: element)
    }
    /// Row t of sequence b.
    func row(_ v: CValue, _ t: String = "t", _ b: String = "b") -> String {
      guard case .sequence(let p, let stride, let element) = v else { return v.pointer }
      return t == "0" ? "\(p) + (size_t)\(b) * \(element)" : "\(p) + (size_t)\(t) * \(stride) + (size_t)\(b) * \(element)"
    }
    func materialised(_ operands: [CValue], of node: Node, _ w: inout CWriter) -> [CValue] {
      operands.enumerated().map { k, v in
        guard case .zero = v else { return v }
        let f = graph.type(of: node.operands[k])?.features ?? 0
        let name = vectorBuffer("zeros", f, &w)
        w.line("memset(\(name), 0, sizeof(\(real)) * (size_t)nb * \(f));")
        return .vector(name)
      }
    }

    /// The time loop of one scan, all nb sequences per step. Returns the values of its results.
    func emitScan(_ scan: Scan, node: Node, operands: [CValue], step: CStepFunction, _ w: inout CWriter) -> [CValue] {
      let name = scan.name
      let bounded = scan.hasLengths ? "the valid steps" : "the steps"
      w.comment(["\(name): \(scan.direction == .forward ? "forward" : "backward") over \(bounded) of nb sequences at once"])
      var results: [CValue] = []
      var states: [(String, Int)] = []
      for j in 0..<scan.states {
        let f = node.types[j]?.features ?? 0
        let state = vectorBuffer("\(name)_state", f, &w)
        let initial = operands[scan.sequences + j]
        if case .zero = initial {
          w.line("memset(\(state), 0, sizeof(\(real)) * (size_t)nb * \(f));")
        } else if let ld = initial.rowStride {
          w.line("for (int b = 0; b < nb; b++) memcpy(\(state) + (size_t)b * \(f), \(initial.pointer) + (size_t)b * \(ld), sizeof(\(real)) * \(f));")
        } else {
          w.line("memcpy(\(state), \(initial.pointer), sizeof(\(real)) * (size_t)nb * \(f));")
        }
        states.append((state, f))
        results.append(.vector(state))
      }
      var outputs: [(String, Int)] = []
      for k in 0..<scan.outputs {
        let f = node.types[scan.states + k]?.features ?? 0
        let buffer = sequenceBuffer("\(name)_out", f, &w)
        outputs.append((buffer, f))
        results.append(scratchSequence(buffer, f))
      }
      // Where each yielded value goes: this step's rows of an output if it is one, else temporary rows.
      var destinations: [String] = []
      for (k, v) in step.yields.enumerated() {
        if let o = (0..<scan.outputs).first(where: { step.yieldIndex[scan.states + $0] == k }) {
          destinations.append("\(outputs[o].0) + (size_t)t * nb * \(outputs[o].1)")
        } else {
          destinations.append(vectorBuffer("\(name)_next", scan.body.type(of: v)?.features ?? 0, &w))
        }
      }
      let work = step.workPerRow > 0 ? vectorBuffer("\(name)_work", step.workPerRow, &w) : ""
      let forward = scan.direction == .forward
      // A scan without lengths (a layer that processes the padding) runs over all T steps.
      let end = scan.hasLengths ? "tmax" : "T"
      let loop = forward ? "for (int t = 0; t < \(end); t++)" : "for (int t = \(end) - 1; t >= 0; t--)"
      // Without lengths, a state that is also yielded as an output is that output's previous row:
      // the step reads it there, and the state buffer is written once, after the loop.
      let aliased: [Int?] = (0..<scan.states).map { j in
        scan.hasLengths ? nil : (0..<scan.outputs).first { step.yieldIndex[scan.states + $0] == step.yieldIndex[j] }
      }
      w.block(loop) { w in
        var args = ["nb"]
        for k in 0..<scan.sequences {
          let rows = stepRows(operands[k])
          args += [rows.pointer, rows.rowStride ?? "0"]
        }
        for (j, (state, _)) in states.enumerated() {
          guard let o = aliased[j] else {
            args.append(state)
            continue
          }
          let (buffer, f) = outputs[o]
          args.append(forward
            ? "t == 0 ? \(state) : \(buffer) + (size_t)(t - 1) * nb * \(f)"
            : "t == \(end) - 1 ? \(state) : \(buffer) + (size_t)(t + 1) * nb * \(f)")
        }
        args += destinations + step.temporaryArguments(work: work, nb: "nb")
        w.line("\(step.name)(\(args.joined(separator: ", ")));")
        let next = (0..<scan.states).map { destinations[step.yieldIndex[$0]] }
        if scan.hasLengths {
          // A sequence that has ended keeps its state and outputs zeros.
          w.block("for (int b = 0; b < nb; b++)") { w in
            w.block("if (!lengths || t < lengths[b])") { w in
              for (j, (state, f)) in states.enumerated() {
                w.line("memcpy(\(state) + (size_t)b * \(f), \(next[j]) + (size_t)b * \(f), sizeof(\(real)) * \(f));")
              }
            }
            if !outputs.isEmpty {
              w.block("else") { w in
                for (buffer, f) in outputs {
                  w.line("memset(\(buffer) + ((size_t)t * nb + b) * \(f), 0, sizeof(\(real)) * \(f));")
                }
              }
            }
          }
        } else {
          for (j, (state, f)) in states.enumerated() where aliased[j] == nil {
            w.line("memcpy(\(state), \(next[j]), sizeof(\(real)) * (size_t)nb * \(f));")
          }
        }
        for o in 0..<scan.outputs where !destinations[step.yieldIndex[scan.states + o]].hasPrefix(outputs[o].0 + " ") {
          let (buffer, f) = outputs[o]
          w.line("memcpy(\(buffer) + (size_t)t * nb * \(f), \(destinations[step.yieldIndex[scan.states + o]]), sizeof(\(real)) * (size_t)nb * \(f));")
        }
      }
      for (j, (state, f)) in states.enumerated() {
        guard let o = aliased[j] else { continue }
        let last = forward ? "\(end) - 1" : "0"
        w.line("if (\(end) > 0) memcpy(\(state), \(outputs[o].0) + (size_t)(\(last)) * nb * \(f), sizeof(\(real)) * (size_t)nb * \(f));")
      }
      if scan.hasLengths {
        for (buffer, f) in outputs {
          w.line("if (tmax < T) memset(\(buffer) + (size_t)tmax * nb * \(f), 0, sizeof(\(real)) * (size_t)(T - tmax) * nb * \(f));")
        }
      }
      return results
    }

    w.comment([
      "nb sequences at once: step t of sequence b of x is the \(iface.input.features) values at x + b * x_b + t * x_t;",
      "only the first lengths[b] steps are valid (all T without lengths). Scratch holds",
      "nb * (T * \(iface.scratchPerStep) + vectors) values: sequences as [T][nb][features], then vectors as [nb][features].",
    ])
    w.block("static void \(iface.names.global("sequence"))(\(parameters.joined(separator: ", ")))") { w in
      // Scans with lengths stop after the longest sequence; the others run over all T steps.
      let scansStopEarly = graph.nodes.contains { node in
        if case .scan(let s) = node.op { return s.hasLengths } else { return false }
      }
      if iface.lengths == nil {
        w.line("(void)lengths; /* the model takes no lengths: every step is valid */")
      } else if scansStopEarly {
        w.line("int tmax = T;")
        w.block("if (lengths)") { w in
          w.line("tmax = 0;")
          w.line("for (int b = 0; b < nb; b++) if (lengths[b] > tmax) tmax = lengths[b];")
        }
      } else {
        w.line("(void)lengths; /* every layer processes the padding too: lengths only reorder steps, if anything */")
      }
      for (i, node) in graph.nodes.enumerated() {
        let operands = node.operands.map { values[$0.node][$0.result] }
        let type = node.types[0]
        let features = type?.features ?? 0
        let hint = node.hint ?? "v\(i)"
        switch node.op {
        case .argument(let name, let t):
          if t.isSequence { values[i] = [.sequence(pointer: "x", stride: "x_t", element: "x_b")] }
          else if t.dtype == .i32 { values[i] = [.lengths] }
          else { values[i] = [.vector(iface.names.parameter(name))] }
        case .parameter(let name):
          values[i] = [.weights(iface.names.weight(name))]
        case .zeros:
          values[i] = [.zero]
        case .slice(let start, _):
          let source = graph.type(of: node.operands[0])?.features ?? 0
          switch operands[0] {
          case .sequence(let p, let stride, let element):
            values[i] = [.sequence(pointer: "(\(p) + \(start))", stride: stride, element: element)]
          case .zero:
            values[i] = [.zero]
          default:
            values[i] = [.rows("(\(operands[0].pointer) + \(start))", ld: operands[0].rowStride ?? String(source))]
          }
        case .scan(let scan):
          values[i] = emitScan(scan, node: node, operands: operands, step: steps[i]!, &w)
        case .reduce(let r):
          let name = vectorBuffer(hint, features, &w)
          let x = operands[0]
          let valid = node.operands.count > 1 ? "(lengths ? lengths[b] : T)" : "T"
          w.comment(["\(name) = \(r.rawValue) over the \(valid == "T" ? "steps" : "valid steps") of each sequence"])
          w.block("for (int b = 0; b < nb; b++)") { w in
            w.line("int n = \(valid);")
            w.line("\(real) *acc = \(name) + (size_t)b * \(features);")
            w.line("memset(acc, 0, sizeof(\(real)) * \(features));")
            switch r {
            case .mean:
              w.line("for (int t = 0; t < n; t++) for (int i = 0; i < \(features); i++) acc[i] += (\(row(x)))[i];")
              w.line("if (n > 0) for (int i = 0; i < \(features); i++) acc[i] /= (\(real))n;")
            case .max:
              w.block("if (n > 0)") { w in
                w.line("memcpy(acc, \(row(x, "0")), sizeof(\(real)) * \(features));")
                w.line("for (int t = 1; t < n; t++) for (int i = 0; i < \(features); i++) if ((\(row(x)))[i] > acc[i]) acc[i] = (\(row(x)))[i];")
              }
            case .last:
              w.line("if (n > 0) memcpy(acc, \(row(x, "(n - 1)")), sizeof(\(real)) * \(features));")
            }
          }
          values[i] = [.vector(name)]
        case .mask:
          let name = sequenceBuffer(hint, features, &w)
          w.block("for (int t = 0; t < T; t++) for (int b = 0; b < nb; b++)") { w in
            w.line("\(real) *d = \(name) + ((size_t)t * nb + b) * \(features);")
            w.line("if (lengths && t >= lengths[b]) memset(d, 0, sizeof(\(real)) * \(features));")
            w.line("else memcpy(d, \(row(operands[0])), sizeof(\(real)) * \(features));")
          }
          values[i] = [scratchSequence(name, features)]
        case .hold:
          let name = sequenceBuffer(hint, features, &w)
          w.comment(["\(name): steps past each sequence's end repeat its last valid step"])
          w.block("for (int t = 0; t < T; t++) for (int b = 0; b < nb; b++)") { w in
            w.line("\(real) *d = \(name) + ((size_t)t * nb + b) * \(features);")
            w.line("int from = lengths && t >= lengths[b] ? lengths[b] - 1 : t;")
            w.line("if (from < 0) memset(d, 0, sizeof(\(real)) * \(features));")
            w.line("else memcpy(d, \(row(operands[0], "from")), sizeof(\(real)) * \(features));")
          }
          values[i] = [scratchSequence(name, features)]
        case .reverseTime:
          let name = sequenceBuffer(hint, features, &w)
          let length = node.operands.count > 1 ? "(lengths ? lengths[b] : T)" : "T"
          w.comment(["\(name): the first \(length == "T" ? "T" : "lengths[b]") steps of each sequence in reverse order, the rest in place"])
          w.block("for (int t = 0; t < T; t++) for (int b = 0; b < nb; b++)") { w in
            w.line("int n = \(length);")
            w.line("int from = t < n ? n - 1 - t : t;")
            w.line("memcpy(\(name) + ((size_t)t * nb + b) * \(features), \(row(operands[0], "from")), sizeof(\(real)) * \(features));")
          }
          values[i] = [scratchSequence(name, features)]
        case .linearUnshared:
          code.kernels.insert(.linear)
          let name = sequenceBuffer(hint, features, &w)
          let k = graph.type(of: node.operands[0])?.features ?? 0
          let bias = operands.count > 2 ? "\(operands[2].pointer) + (size_t)t * \(features)" : "NULL"
          w.line("for (int t = 0; t < T; t++) for (int b = 0; b < nb; b++) \(iface.names.global("linear"))("
            + "\(name) + ((size_t)t * nb + b) * \(features), \(operands[1].pointer) + (size_t)t * \(features * k), \(bias), "
            + "\(row(operands[0])), \(features), \(k));")
          values[i] = [scratchSequence(name, features)]
        case .packedLinear(let p) where type?.isSequence == true:
          // All steps of a sequence at once: one matrix product of T rows per sequence. The result
          // stays in the [T][nb] layout, so each step of the recurrence reads one contiguous block.
          let name = sequenceBuffer(hint, features, &w)
          let k = graph.type(of: node.operands[0])?.features ?? 0
          guard case .sequence(_, let stride, _) = operands[0] else { preconditionFailure("linear over a non-sequence") }
          let call = code.packedLinear(
            p, dest: "\(name) + (size_t)b * \(features)", ldy: "(size_t)nb * \(features)", weights: operands[1].pointer,
            bias: operands.count > 2 ? operands[2].pointer : nil, x: row(operands[0], "0"), ldx: stride, rows: "T", k: k)
          w.line("for (int b = 0; b < nb; b++) \(call)")
          values[i] = [scratchSequence(name, features)]
        case .gru, .dense, .gradient:
          preconditionFailure("'\(node.op.mnemonic)' is lowered (gru, dense) or used only by gradient graphs, never by C")
        case .linear, .packedLinear, .activation, .add, .mul, .scale, .blend, .concat, .fused:
          if type?.isSequence == true {
            let name = sequenceBuffer(hint, features, &w)
            w.block("for (int t = 0; t < T; t++)") { w in
              let rows = operands.map { v -> CValue in
                if case .weights = v { return v }
                return stepRows(v)
              }
              code.emit(node, graph: graph, operands: rows, dest: "(\(name) + (size_t)t * nb * \(features))", rows: "nb", locals: &locals, w: &w)
            }
            values[i] = [scratchSequence(name, features)]
          } else {
            let name = vectorBuffer(hint, features, &w)
            let inputs = materialised(operands, of: node, &w)
            code.emit(node, graph: graph, operands: inputs, dest: name, rows: "nb", locals: &locals, w: &w)
            values[i] = [.vector(name)]
          }
        }
      }
      w.comment(["outputs"])
      for o in iface.outputs {
        let v = values[o.value.node][o.value.result]
        let name = iface.names.parameter(o.name)
        let f = o.features
        if o.isSequence {
          w.line("for (int t = 0; t < T; t++) for (int b = 0; b < nb; b++) "
            + "memcpy(\(name) + (size_t)b * \(name)_b + (size_t)t * \(name)_t, \(row(v)), sizeof(\(real)) * \(f));")
        } else if case .zero = v {
          w.line("memset(\(name), 0, sizeof(\(real)) * (size_t)nb * \(f));")
        } else if let ld = v.rowStride {
          w.line("for (int b = 0; b < nb; b++) memcpy(\(name) + (size_t)b * \(f), \(v.pointer) + (size_t)b * \(ld), sizeof(\(real)) * \(f));")
        } else {
          w.line("memcpy(\(name), \(v.pointer), sizeof(\(real)) * (size_t)nb * \(f));")
        }
      }
    }
    w.line()
    precondition(sequenceOffset == iface.scratchPerStep, "scratch per step: emitted \(sequenceOffset), interface \(iface.scratchPerStep)")
    return vectorOffset
  }
}
