// The whole-sequence function: runs the optimised graph over nb sequences at once, op by op, in
// graph order. Each recurrence steps all nb sequences together, so its weights are read once per
// step for the whole batch (a matrix product instead of nb matrix-vector products).
//
// Time is walked in chunks of steps when the model allows it (no value depends on a later step):
// each chunk runs every per-step op over its steps, the recurrences carry their states from one
// chunk to the next and the reductions accumulate, so the scratch holds one chunk, not all T
// steps. Where the memory goes is the MemoryPlan's; this file prints it.

enum CSequenceEmitter {
  /// The names the function's own parameters and loop variables take.
  static let reservedNames = [
    "i", "t", "tc", "t0", "n", "b", "nb", "T", "cs", "tmax", "lengths", "scratch", "x", "x_b", "x_t", "work", "w", "weights",
  ]

  /// Emits `static void <model>_sequence(...)`, whose parameters are: nb, x with its sequence and
  /// step strides, T, lengths (or NULL), the initial states, each output (with its strides if it
  /// is a sequence), scratch.
  static func emit(iface: CInterface, steps stepFunctions: [Int: CStepFunction], code: inout CVectorCode, w: inout CWriter) {
    let graph = iface.module.graph
    let plan = iface.plan.sequence
    let real = iface.real
    var locals = LocalNames(reserved: reservedNames + iface.parameterNames + plan.buffers.map(\.name), names: iface.names)
    var values = [[CValue]](repeating: [], count: graph.nodes.count)
    // Every count and index is a size_t (lengths, checked by run_batch, are converted where read),
    // so the arithmetic never mixes signed and unsigned (-Wsign-conversion).
    var parameters = ["size_t nb"] + iface.weightParameter + ["const \(real) *x", "size_t x_b", "size_t x_t", "size_t T", "const int *lengths"]
    for s in iface.initialStates { parameters.append("const \(real) *\(iface.names.parameter(s.name))") }
    for o in iface.outputs {
      let p = iface.names.parameter(o.name)
      parameters.append("\(real) *\(p)")
      if o.isSequence { parameters += ["size_t \(p)_b", "size_t \(p)_t"] }
    }
    parameters.append("\(real) *scratch")

    func scratchSequence(_ b: ScratchBuffer) -> CValue {
      .sequence(pointer: b.name, stride: "nb * \(b.features)", element: "\(b.features)", local: true)
    }
    /// Step t0 + tc of every sequence of a sequence value, as rows `ld` apart.
    func stepRows(_ v: CValue) -> CValue {
      guard case .sequence(let p, let stride, let element, let local) = v else { return v }
      return .rows("\(p) + (size_t)\(local ? "tc" : "(t0 + tc)") * \(stride)", ld: element)
    }
    /// Step `t` (counted from the start of the sequence) of sequence `b`; a value in scratch holds
    /// only the chunk from step t0 on.
    func row(_ v: CValue, _ t: String, _ b: String = "b") -> String {
      guard case .sequence(let p, let stride, let element, let local) = v else { return v.pointer }
      let step = !local ? t : t == "t0 + tc" ? "tc" : t == "t0" ? "0" : "(\(t) - t0)"
      // A step written as a sum (`t0 + tc`) is parenthesised before the cast: `(size_t)t0 + tc * x_t`
      // was the row of step tc of chunk 0 whatever the chunk (an output that is the input, T > 32).
      let cast = step.contains(" ") ? "(size_t)(\(step))" : "(size_t)\(step)"
      return step == "0" ? "\(p) + (size_t)\(b) * \(element)" : "\(p) + \(cast) * \(stride) + (size_t)\(b) * \(element)"
    }

    let chunked = plan.chunkSteps != nil
    w.comment(header(iface, plan))
    w.block("static void \(iface.names.global("sequence"))(\(parameters.joined(separator: ", ")))") { w in
      // After a gru layer, a stride, a pad or a valid window changes the number of steps: the
      // values after such a layer have its count (the plan walks them in one chunk, t0 = 0).
      var count: [Int: String] = [:]
      for d in iface.midDomains {
        guard case .sequenceLayer(let l) = graph.nodes[d].op else { continue }
        let name = locals.fresh("\(l.name)_T")
        let input = iface.stepDomains[graph.nodes[d].operands[0].node].map { count[$0]! } ?? "T"
        w.line("const size_t \(name) = \(l.outputStepsC(input));  /* steps of '\(l.name)' and what reads it */")
        count[d] = name
      }
      emitLayout(plan, real: real, stepwiseAlone: stepwiseAlone(iface), counts: iface.midDomains.map { count[$0]! }, &w)
      /// The steps of node i's sequences in this chunk, and in all.
      func steps(_ i: Int) -> (n: String, total: String) {
        guard let d = iface.stepDomains[i] else { return ("n", "T") }
        return (count[d]!, count[d]!)
      }
      // Scans with lengths stop after the longest sequence; the others run over all T steps.
      let scansStopEarly = graph.nodes.contains { node in
        if case .scan(let s) = node.op { return s.hasLengths } else { return false }
      }
      if iface.lengths == nil {
        w.line("(void)lengths; /* the model takes no lengths: every step is valid */")
      } else if scansStopEarly {
        w.line("size_t tmax = T;")
        w.block("if (lengths)") { w in
          w.line("tmax = 0;")
          w.line("for (size_t b = 0; b < nb; b++) if ((size_t)lengths[b] > tmax) tmax = (size_t)lengths[b];")
        }
      } else {
        w.line("(void)lengths; /* every layer processes the padding too: lengths only reorder steps, if anything */")
      }

      // Before the time loop: the initial states, zeroed rows and the reductions' accumulators.
      for (i, node) in graph.nodes.enumerated() where plan.phases[i] == .before || node.isReduction || node.isScan {
        let operands = node.operands.map { values[$0.node].isEmpty ? CValue.unavailable : values[$0.node][$0.result] }
        values[i] = emitBefore(i, node, operands, iface: iface, plan: plan, code: &code, locals: &locals, &w)
      }

      let loopHead = chunked
        ? "for (size_t t0 = 0; t0 < T; t0 += cs)" : "for (size_t t0 = 0; t0 < T; t0 += cs) /* one chunk: the whole sequence */"
      w.block(loopHead) { w in
        w.line("size_t n = T - t0 < cs ? T - t0 : cs;  /* steps in this chunk */")
        for (i, node) in graph.nodes.enumerated() where plan.phases[i] == .perChunk {
          let operands = node.operands.map { values[$0.node][$0.result] }
          let features = node.types[0]?.features ?? 0
          let (n, total) = steps(i)
          switch (node.op, plan.storage[i]) {
          case (.sequenceLayer, .sequence(let out)):
            // Over the whole sequence, [nb][steps][features] in its buffer (which has room for cs steps).
            guard case .sequence(let x, let stride, let element, _) = operands[0],
              let layer = iface.midLayers.first(where: { $0.node == i })
            else { preconditionFailure("a sequence layer over a non-sequence") }
            CConv.emitLayer(
              layer, iface: iface, batch: "nb", x: x, xb: element, xt: stride, steps: steps(node.operands[0].node).total,
              y: out.name, outSteps: total, code: &code, &w)
            values[i] = [.sequence(pointer: out.name, stride: "\(features)", element: "\(total) * \(features)", local: true)]
          case (.slice(let start, _), _):
            guard case .sequence(let p, let stride, let element, let local) = operands[0] else {
              preconditionFailure("a per-step slice of a non-sequence")
            }
            values[i] = [.sequence(pointer: "(\(p) + \(start))", stride: stride, element: element, local: local)]
          case (.scan(let scan), .scan(let memory)):
            emitScan(
              scan, node: node, memory: memory, operands: operands, step: stepFunctions[i]!, n: n, real: real,
              weightArgument: iface.weightArgument, stepRows: stepRows, locals: &locals, &w)
          case (.reduce(let r), .vector(let acc)):
            let x = operands[0]
            let (n, total) = steps(node.operands[0].node)  // a reduction is over its operand's steps
            let valid = node.operands.count > 1 ? "(lengths ? (size_t)lengths[b] : \(total))" : total
            w.comment(["\(acc.name): \(r.rawValue) over the \(valid == total ? "steps" : "valid steps"), accumulated chunk by chunk"])
            w.block("for (size_t b = 0; b < nb; b++)") { w in
              w.line("size_t valid = \(valid);")
              w.line("\(real) *acc = \(acc.name) + (size_t)b * \(features);")
              switch r {
              case .mean:
                w.line("for (size_t t = t0; t < t0 + \(n) && t < valid; t++) for (int i = 0; i < \(features); i++) acc[i] += (\(row(x, "t")))[i];")
              case .max:
                w.line("for (size_t t = t0; t < t0 + \(n) && t < valid; t++) for (int i = 0; i < \(features); i++)")
                w.line("    if (t == 0 || (\(row(x, "t")))[i] > acc[i]) acc[i] = (\(row(x, "t")))[i];")
              case .last:
                w.line("if (valid > t0 && valid <= t0 + \(n)) memcpy(acc, \(row(x, "(valid - 1)")), sizeof(\(real)) * \(features));")
              }
            }
          case (.mask, .sequence(let out)):
            w.block("for (size_t tc = 0; tc < \(n); tc++) for (size_t b = 0; b < nb; b++)") { w in
              w.line("size_t t = t0 + tc;")
              w.line("\(real) *d = \(out.name) + (tc * nb + b) * \(features);")
              w.line("if (lengths && t >= (size_t)lengths[b]) memset(d, 0, sizeof(\(real)) * \(features));")
              w.line("else memcpy(d, \(row(operands[0], "t0 + tc")), sizeof(\(real)) * \(features));")
            }
            values[i] = [scratchSequence(out)]
          case (.hold, .sequence(let out)):
            // A whole-sequence op (the plan gives such models one chunk): step L-1 is in it.
            w.comment(["\(out.name): steps past each sequence's end repeat its last valid step"])
            w.block("for (size_t tc = 0; tc < \(n); tc++) for (size_t b = 0; b < nb; b++)") { w in
              w.line("size_t t = t0 + tc;")
              w.line("\(real) *d = \(out.name) + (tc * nb + b) * \(features);")
              w.line("if (lengths && lengths[b] == 0) memset(d, 0, sizeof(\(real)) * \(features));")
              w.block("else") { w in
                w.line("size_t from = lengths && t >= (size_t)lengths[b] ? (size_t)lengths[b] - 1 : t;")
                w.line("memcpy(d, \(row(operands[0], "from")), sizeof(\(real)) * \(features));")
              }
            }
            values[i] = [scratchSequence(out)]
          case (.reverseTime, .sequence(let out)):
            let length = node.operands.count > 1 ? "(lengths ? (size_t)lengths[b] : \(total))" : total
            w.comment(["\(out.name): the first \(length == total ? total : "lengths[b]") steps of each sequence in reverse order, the rest in place"])
            w.block("for (size_t tc = 0; tc < \(n); tc++) for (size_t b = 0; b < nb; b++)") { w in
              w.line("size_t t = t0 + tc;")
              w.line("size_t len = \(length);")
              w.line("size_t from = t < len ? len - 1 - t : t;")
              w.line("memcpy(\(out.name) + (tc * nb + b) * \(features), \(row(operands[0], "from")), sizeof(\(real)) * \(features));")
            }
            values[i] = [scratchSequence(out)]
          case (.linearUnshared, .sequence(let out)):
            code.kernels.insert(.linear)
            let k = graph.type(of: node.operands[0])?.features ?? 0
            let bias = operands.count > 2 ? "\(operands[2].pointer) + (size_t)(t0 + tc) * \(features)" : "NULL"
            w.line("for (size_t tc = 0; tc < \(n); tc++) for (size_t b = 0; b < nb; b++) \(iface.names.global("linear"))("
              + "\(out.name) + (tc * nb + b) * \(features), \(operands[1].pointer) + (size_t)(t0 + tc) * \(features * k), \(bias), "
              + "\(row(operands[0], "(t0 + tc)")), \(features), \(k));")
            values[i] = [scratchSequence(out)]
          case (.packedLinear(let p), .sequence(let out)):
            // All steps of the chunk at once: one matrix product of n rows per sequence. The result
            // stays in the [step][nb] layout, so each step of the recurrence reads one block.
            let k = graph.type(of: node.operands[0])?.features ?? 0
            guard case .sequence(_, let stride, _, _) = operands[0] else { preconditionFailure("linear over a non-sequence") }
            let call = code.packedLinear(
              p, dest: "\(out.name) + (size_t)b * \(features)", ldy: "(size_t)nb * \(features)", weights: operands[1].pointer,
              bias: operands.count > 2 ? operands[2].pointer : nil, x: row(operands[0], "t0"), ldx: stride, rows: n, k: k)
            w.line("for (size_t b = 0; b < nb; b++) \(call)")
            values[i] = [scratchSequence(out)]
          case (_, .sequence(let out)):
            w.block("for (size_t tc = 0; tc < \(n); tc++)") { w in
              let rows = operands.map { v -> CValue in
                if case .weights = v { return v }
                return stepRows(v)
              }
              code.emit(node, graph: graph, operands: rows, dest: "(\(out.name) + (size_t)tc * nb * \(features))", rows: "nb", locals: &locals, w: &w)
            }
            values[i] = [scratchSequence(out)]
          default:
            preconditionFailure("'\(node.op.mnemonic)' has no per-chunk form")
          }
        }
        // This chunk of each sequence output.
        for o in iface.outputs where o.isSequence {
          let v = values[o.value.node][o.value.result]
          let name = iface.names.parameter(o.name)
          w.line("for (size_t tc = 0; tc < \(steps(o.value.node).n); tc++) for (size_t b = 0; b < nb; b++) "
            + "memcpy(\(name) + (size_t)b * \(name)_b + (size_t)(t0 + tc) * \(name)_t, \(row(v, "t0 + tc")), sizeof(\(real)) * \(o.features));")
        }
      }

      // After the time loop: the means divided, then the heads on final states and reductions.
      for (i, node) in graph.nodes.enumerated() {
        if case .reduce(.mean) = node.op, case .vector(let acc) = plan.storage[i] {
          let features = node.types[0]?.features ?? 0
          let total = steps(node.operands[0].node).total
          let valid = node.operands.count > 1 ? "(lengths ? (size_t)lengths[b] : \(total))" : total
          w.line("for (size_t b = 0; b < nb; b++) { size_t valid = \(valid); if (valid > 0) for (int i = 0; i < \(features); i++) \(acc.name)[b * \(features) + (size_t)i] /= (\(real))valid; }")
        }
        guard plan.phases[i] == .after else { continue }
        let operands = node.operands.map { values[$0.node][$0.result] }
        values[i] = emitVector(i, node, operands, iface: iface, plan: plan, code: &code, locals: &locals, &w)
      }
      if iface.outputs.contains(where: { !$0.isSequence }) { w.comment(["vector outputs"]) }
      for o in iface.outputs where !o.isSequence {
        let v = values[o.value.node][o.value.result]
        let name = iface.names.parameter(o.name)
        let f = o.features
        if case .zero = v {
          w.line("memset(\(name), 0, sizeof(\(real)) * (size_t)nb * \(f));")
        } else if let ld = v.rowStride {
          w.line("for (size_t b = 0; b < nb; b++) memcpy(\(name) + b * \(f), \(v.pointer) + b * \(ld), sizeof(\(real)) * \(f));")
        } else {
          w.line("memcpy(\(name), \(v.pointer), sizeof(\(real)) * (size_t)nb * \(f));")
        }
      }
    }
    w.line()
  }

  private static func header(_ iface: CInterface, _ plan: SequencePlan) -> [String] {
    var lines = [
      "nb sequences at once: step t of sequence b of x is the \(iface.input.features) values at x + b * x_b + t * x_t;",
      "only the first lengths[b] steps are valid (all T without lengths).",
    ]
    if let chunk = plan.chunkSteps {
      lines.append("Time is walked in chunks of cs = min(T, \(chunk)) steps; the scratch holds one chunk.")
      if stepwiseAlone(iface) { lines.append("A single sequence (nb = 1) goes one step per chunk: see emitLayout.") }
    } else {
      lines.append("Time is walked in one chunk of all T steps: \(plan.wholeSequenceReason ?? "the model needs them").")
    }
    return lines
  }

  /// The scratch layout, one named pointer per buffer: each per-step buffer is [cs][nb][features],
  /// each per-sequence one [nb][features], one after the other.
  /// Whether a single sequence is walked one step per chunk: when all the weights fit in half an
  /// L1 cache (16 KiB), re-reading the input weights each step costs nothing, and a step's input
  /// product then overlaps the previous step's gate math, as in `step`; a chunk's products run as
  /// a phase of their own. H = 16: `_run` 81.5 ns per step against 86.1 ns with 32-step chunks (and
  /// 85.5, 86.4, 90.3 with 2, 4, 8).
  static func stepwiseAlone(_ iface: CInterface) -> Bool {
    iface.weightBytes <= 16 * 1024
  }

  private static func emitLayout(_ plan: SequencePlan, real: String, stepwiseAlone: Bool, counts: [String], _ w: inout CWriter) {
    if !counts.isEmpty {
      // One chunk, with room in each per-step buffer for the most steps any value has.
      w.line("size_t cs = T;  /* steps per chunk: all of them, and room for the most any layer gives */")
      for c in counts { w.line("if (\(c) > cs) cs = \(c);") }
    } else if let chunk = plan.chunkSteps, stepwiseAlone {
      w.line("const size_t cs = nb == 1 ? (size_t)1 : (T < \(chunk) ? T : \(chunk));  /* steps per chunk */")
    } else if let chunk = plan.chunkSteps {
      w.line("const size_t cs = T < \(chunk) ? T : \(chunk);  /* steps per chunk */")
    } else {
      w.line("const size_t cs = T;  /* steps per chunk: all of them */")
    }
    var previous: ScratchBuffer?
    for b in plan.buffers.filter(\.perStep) + plan.buffers.filter({ !$0.perStep }) {
      let at: String
      if let p = previous {
        at = p.perStep ? "\(p.name) + (size_t)cs * nb * \(p.features)" : "\(p.name) + (size_t)nb * \(p.features)"
      } else {
        at = "scratch"
      }
      let shape = b.perStep ? "[cs][nb][\(b.features)]" : "[nb][\(b.features)]"
      w.line("\(real) *\(b.name) = \(at);  /* \(shape) */")
      previous = b
    }
    if plan.buffers.isEmpty { w.line("(void)scratch;") }
  }

  /// What a node is before the time loop: views, zeroed states and accumulators, and vectors
  /// computed from the arguments alone.
  private static func emitBefore(
    _ i: Int, _ node: Node, _ operands: [CValue], iface: CInterface, plan: SequencePlan, code: inout CVectorCode,
    locals: inout LocalNames, _ w: inout CWriter
  ) -> [CValue] {
    let real = iface.real
    let graph = iface.module.graph
    switch node.op {
    case .argument(let name, let t):
      if t.isSequence { return [.sequence(pointer: "x", stride: "x_t", element: "x_b", local: false)] }
      if t.dtype == .i32 { return [.lengths] }
      return [.vector(iface.names.parameter(name))]
    case .sequenceLayer:
      // Computed by run_batch before this function (CConv): x is the last one's output.
      return [.sequence(pointer: "x", stride: "x_t", element: "x_b", local: false)]
    case .parameter(let name):
      return [.weights(iface.weight(name))]
    case .zeros:
      return [.zero]
    case .scan(let scan):
      guard case .scan(let memory) = plan.storage[i] else { preconditionFailure("a scan without scan memory") }
      // The states start as the initial states; the outputs are filled chunk by chunk.
      for (j, state) in memory.states.enumerated() {
        let f = state.features
        let initial = operands[scan.sequences + j]
        if case .zero = initial {
          w.line("memset(\(state.name), 0, sizeof(\(real)) * (size_t)nb * \(f));")
        } else if let ld = initial.rowStride {
          w.line("for (size_t b = 0; b < nb; b++) memcpy(\(state.name) + b * \(f), \(initial.pointer) + b * \(ld), sizeof(\(real)) * \(f));")
        } else {
          w.line("memcpy(\(state.name), \(initial.pointer), sizeof(\(real)) * (size_t)nb * \(f));")
        }
      }
      return memory.states.map { CValue.vector($0.name) }
        + memory.outputs.map { .sequence(pointer: $0.name, stride: "nb * \($0.features)", element: "\($0.features)", local: true) }
    case .reduce:
      guard case .vector(let acc) = plan.storage[i] else { preconditionFailure("a reduction without an accumulator") }
      w.line("memset(\(acc.name), 0, sizeof(\(real)) * (size_t)nb * \(acc.features));")
      return [.vector(acc.name)]
    default:
      _ = graph
      return emitVector(i, node, operands, iface: iface, plan: plan, code: &code, locals: &locals, &w)
    }
  }

  /// A vector (one row per sequence) computed from other vectors, before or after the time loop.
  private static func emitVector(
    _ i: Int, _ node: Node, _ operands: [CValue], iface: CInterface, plan: SequencePlan, code: inout CVectorCode,
    locals: inout LocalNames, _ w: inout CWriter
  ) -> [CValue] {
    let real = iface.real
    let graph = iface.module.graph
    switch (node.op, plan.storage[i]) {
    case (.slice(let start, _), _):
      let source = graph.type(of: node.operands[0])?.features ?? 0
      if case .zero = operands[0] { return [.zero] }
      return [.rows("(\(operands[0].pointer) + \(start))", ld: operands[0].rowStride ?? String(source))]
    case (_, .vector(let out)):
      var inputs = operands
      for (k, zeros) in plan.zeroOperands[i] ?? [:] {
        w.line("memset(\(zeros.name), 0, sizeof(\(real)) * (size_t)nb * \(zeros.features));")
        inputs[k] = .vector(zeros.name)
      }
      code.emit(node, graph: graph, operands: inputs, dest: out.name, rows: "nb", locals: &locals, w: &w)
      return [.vector(out.name)]
    default:
      preconditionFailure("'\(node.op.mnemonic)' is not a vector op")
    }
  }

  /// One chunk of one scan, all nb sequences per step.
  private static func emitScan(
    _ scan: Scan, node: Node, memory: ScanMemory, operands: [CValue], step: CStepFunction, n: String, real: String,
    weightArgument: [String], stepRows: (CValue) -> CValue, locals: inout LocalNames, _ w: inout CWriter
  ) {
    let bounded = scan.hasLengths ? "the valid steps" : "the steps"
    w.comment(["\(scan.name): \(scan.direction == .forward ? "forward" : "backward") over \(bounded) of this chunk, nb sequences at once"])
    let outputs = memory.outputs
    // Where each yielded value goes: this step's rows of an output if it is one, else rows of its own.
    let destinations = memory.yieldInto.map { target -> String in
      switch target {
      case .output(let o): return "\(outputs[o].name) + (size_t)tc * nb * \(outputs[o].features)"
      case .buffer(let b): return b.name
      }
    }
    let forward = scan.direction == .forward
    // A scan with lengths stops after the longest sequence; one without (a layer that processes
    // the padding) runs over every step.
    let end = "(tmax > t0 ? (tmax - t0 < \(n) ? tmax - t0 : \(n)) : 0)"
    var steps = n
    if scan.hasLengths {
      steps = locals.fresh("\(scan.name)_steps")
      w.line("size_t \(steps) = \(end);")
    }
    let loop = forward ? "for (size_t tc = 0; tc < \(steps); tc++)" : "for (size_t tc = \(steps); tc-- > 0;)"
    // Without lengths, a state that is also yielded as an output is that output's previous row:
    // the step reads it there, and the state buffer is written once, after the chunk.
    let aliased: [Int?] = (0..<scan.states).map { j in
      scan.hasLengths ? nil : (0..<scan.outputs).first { step.yieldIndex[scan.states + $0] == step.yieldIndex[j] }
    }
    w.block(loop) { w in
      if scan.hasLengths { w.line("size_t t = t0 + tc;") }
      var args = ["nb"] + weightArgument
      for k in 0..<scan.sequences {
        let rows = stepRows(operands[k])
        args += [rows.pointer, rows.rowStride ?? "0"]
      }
      for (j, state) in memory.states.enumerated() {
        guard let o = aliased[j] else {
          args.append(state.name)
          continue
        }
        let out = outputs[o]
        args.append(forward
          ? "tc == 0 ? \(state.name) : \(out.name) + (size_t)(tc - 1) * nb * \(out.features)"
          : "tc == \(steps) - 1 ? \(state.name) : \(out.name) + (size_t)(tc + 1) * nb * \(out.features)")
      }
      args += destinations + step.temporaryArguments(work: memory.work?.name ?? "", nb: "nb")
      w.line("\(step.name)(\(args.joined(separator: ", ")));")
      let next = (0..<scan.states).map { destinations[step.yieldIndex[$0]] }
      if scan.hasLengths {
        // A sequence that has ended keeps its state and outputs zeros.
        w.block("for (size_t b = 0; b < nb; b++)") { w in
          w.block("if (!lengths || t < (size_t)lengths[b])") { w in
            for (j, state) in memory.states.enumerated() {
              w.line("memcpy(\(state.name) + (size_t)b * \(state.features), \(next[j]) + (size_t)b * \(state.features), sizeof(\(real)) * \(state.features));")
            }
          }
          if !outputs.isEmpty {
            w.block("else") { w in
              for out in outputs {
                w.line("memset(\(out.name) + ((size_t)tc * nb + b) * \(out.features), 0, sizeof(\(real)) * \(out.features));")
              }
            }
          }
        }
      } else {
        for (j, state) in memory.states.enumerated() where aliased[j] == nil {
          w.line("memcpy(\(state.name), \(next[j]), sizeof(\(real)) * (size_t)nb * \(state.features));")
        }
      }
    }
    for (j, state) in memory.states.enumerated() {
      guard let o = aliased[j] else { continue }
      let last = forward ? "\(steps) - 1" : "0"
      w.line("if (\(steps) > 0) memcpy(\(state.name), \(outputs[o].name) + (size_t)(\(last)) * nb * \(outputs[o].features), sizeof(\(real)) * (size_t)nb * \(state.features));")
    }
    if scan.hasLengths {
      for out in outputs {
        w.line("if (\(steps) < \(n)) memset(\(out.name) + (size_t)\(steps) * nb * \(out.features), 0, sizeof(\(real)) * (size_t)(\(n) - \(steps)) * nb * \(out.features));")
      }
    }
  }
}

extension Node {
  fileprivate var isReduction: Bool { if case .reduce = op { return true } else { return false } }
  fileprivate var isScan: Bool { if case .scan = op { return true } else { return false } }
}
