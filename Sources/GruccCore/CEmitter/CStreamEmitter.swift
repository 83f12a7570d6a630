// Streaming: the graph evaluated one time step per call. Each sequence value is one row, each
// scan state and each time reduction lives in the caller's state struct; vector outputs are
// computed on demand from that state. Temporaries live in the struct's `work` array, where the
// memory plan puts them, so neither function needs more stack as the model grows.

enum CStreamEmitter {
  /// The state struct's member holding scan state `j` of `scan`.
  static func stateMember(_ scan: CScanInfo, _ j: Int) -> String { scan.members[j] }

  static func accumulator(_ r: CReduction, graph: Graph) -> String { r.member }

  /// `<model>_step`: advances one step and writes the per-step outputs.
  static func emitStep(iface: CInterface, steps: [Int: CStepFunction], code: inout CVectorCode, w: inout CWriter) {
    let graph = iface.module.graph
    let real = iface.real
    let names = iface.names
    var locals = LocalNames(reserved: ["i", "t", "s", "x"] + iface.outputs.map { iface.names.parameter($0.name) }, names: names)
    var values = [[CValue]](repeating: [], count: graph.nodes.count)
    let sequenceOutputs = iface.outputs.filter(\.isSequence)
    let parameters = CHeaderEmitter.stepParameters(iface)
    let fixedSteps = iface.module.steps

    w.block("int \(names.global("step"))(\(parameters.joined(separator: ", ")))") { w in
      let pointers = ["s", "x"] + sequenceOutputs.map { iface.names.parameter($0.name) }
      w.line("if (\(pointers.map { "!\($0)" }.joined(separator: " || "))) return \(names.constant("error_argument"));")
      CWeights.emitBlobCheck(iface, &w)
      // With sequence layers, the fixed number of steps is the input's; the gru layers' is T'.
      if let fixedSteps {
        w.line("if (s->\(iface.frontEnd.isEmpty ? "steps" : "input_steps") >= \(fixedSteps)) return \(names.constant("error_steps"));")
      }
      let frontEnd = iface.frontEnd.isEmpty ? [:] : CConv.emitStream(iface, code: &code, &w)
      var zeros: [Int: Int] = [:]  // a pad after a gru layer: the zero steps before its first
      // Layers after gru layers that give no output on some steps (gates): what reads them steps
      // inside `if` blocks, one inside the other, each counting its own steps. The status says
      // whether the sequence outputs (or, without any, the last gate's values) took a step.
      let gates = iface.streamGates
      let levels = iface.streamLevels
      let statusLevel = sequenceOutputs.first.map { levels[$0.value.node] } ?? gates.count
      if !gates.isEmpty { w.line("int status = \(names.constant("no_output"));") }

      func emitNode(_ i: Int, _ node: Node, counter: String, _ w: inout CWriter, _ code: inout CVectorCode) {
        let operands = node.operands.map { values[$0.node][$0.result] }
        let type = node.types[0]
        let perStep = type?.isSequence ?? false
        let hint = node.hint ?? "v\(i)"
        switch node.op {
        case .argument(_, let t):
          values[i] = [t.isSequence ? .vector("x") : t.dtype == .i32 ? .lengths : .unavailable]
        case .parameter(let name):
          values[i] = [.weights(iface.weight(name))]
        case .zeros:
          values[i] = [.zero]
        case .slice(let start, _):
          values[i] = [perStep ? .vector("(\(operands[0].pointer) + \(start))") : .unavailable]
        case .mask, .hold:
          values[i] = [operands[0]]  // one stream is one sequence: every step is valid
        case .reverseTime:
          preconditionFailure("a model that reverses time does not stream (CInterface blocks it)")
        case .scan(let scan):
          let info = iface.scans.first { $0.node == i }!
          let step = steps[i]!
          var yieldNames: [String] = []
          let offsets = iface.plan.stream.step[i] ?? []
          for (k, v) in step.yields.enumerated() {
            let name = locals.fresh(scan.body.nodes[v.node].hint ?? "\(scan.name)_next")
            w.line("\(real) *\(name) = s->work + \(offsets[k]);  /* \(scan.body.type(of: v)?.features ?? 0) values */")
            yieldNames.append(name)
          }
          let members = (0..<scan.states).map { "s->\(stateMember(info, $0))" }
          var args = ["1"] + iface.weightArgument
          for k in 0..<scan.sequences {
            args += [operands[k].pointer, String(graph.type(of: node.operands[k])?.features ?? 0)]
          }
          args += members + yieldNames
          if step.workPerRow > 0 {
            let work = locals.fresh("\(scan.name)_work")
            w.line("\(real) *\(work) = s->work + \(offsets[step.yields.count]);  /* \(step.workPerRow) values */")
            args += step.temporaryArguments(work: work, nb: "1")
          }
          w.line("\(step.name)(\(args.joined(separator: ", ")));")
          for j in 0..<scan.states {
            w.line("memcpy(\(members[j]), \(yieldNames[step.yieldIndex[j]]), sizeof \(members[j]));")
          }
          values[i] = members.map { CValue.vector($0) } + (0..<scan.outputs).map { .vector(yieldNames[step.yieldIndex[scan.states + $0]]) }
        case .reduce(let r):
          let info = iface.reductions.first { $0.node == i }!
          let acc = "s->\(accumulator(info, graph: graph))"
          let x = operands[0].pointer
          switch r {
          case .mean: w.line("for (int i = 0; i < \(info.features); i++) \(acc)[i] += \(x)[i];")
          case .max:
            w.line("for (int i = 0; i < \(info.features); i++) if (s->\(counter) == 0 || \(x)[i] > \(acc)[i]) \(acc)[i] = \(x)[i];")
          case .last: w.line("memcpy(\(acc), \(x), sizeof \(acc));")
          }
          values[i] = [.unavailable]
        case .linearUnshared:
          code.kernels.insert(.linear)
          let name = locals.fresh(hint)
          let features = type?.features ?? 0
          let k = graph.type(of: node.operands[0])?.features ?? 0
          let bias = operands.count > 2 ? "\(operands[2].pointer) + (size_t)s->\(counter) * \(features)" : "NULL"
          w.line("\(real) *\(name) = s->work + \(iface.plan.stream.step[i]![0]);  /* \(features) values */")
          w.line("\(names.global("linear"))(\(name), \(operands[1].pointer) + (size_t)s->\(counter) * \(features * k), \(bias), \(operands[0].pointer), \(features), \(k));")
          values[i] = [.vector(name)]
        case .sequenceLayer(let l):
          if let front = frontEnd[i] {
            values[i] = [.vector(front)]
          } else if case .pad(let before, _) = l.kind {
            // Its zeros are the next window's first steps (CConv.midStreamProblem): nothing to do.
            zeros[i] = (zeros[node.operands[0].node] ?? 0) + before
            values[i] = [operands[0]]
          } else {
            let layer = iface.midLayers.first { $0.node == i }!
            let out = CConv.emitStreamLayer(
              layer, input: operands[0].pointer, zeros: zeros[node.operands[0].node] ?? 0, iface: iface, code: &code, &w)
            values[i] = [.vector(out)]
          }
        case .gru, .dense, .gradient:
          preconditionFailure("'\(node.op.mnemonic)' is lowered (gru, dense) or used only by gradient graphs, never by C")
        case .linear, .packedLinear, .activation, .add, .mul, .scale, .blend, .concat, .fused, .norm:
          guard perStep else {
            values[i] = [.unavailable]
            return
          }
          let name = locals.fresh(hint)
          w.line("\(real) *\(name) = s->work + \(iface.plan.stream.step[i]![0]);  /* \(type?.features ?? 0) values */")
          code.emit(node, graph: graph, operands: operands, dest: name, locals: &locals, w: &w)
          values[i] = [.vector(name)]
        }
      }

      func emitLevel(_ k: Int, _ w: inout CWriter, _ code: inout CVectorCode) {
        let counter = iface.stepCounter(level: k)
        for (i, node) in graph.nodes.enumerated() where levels[i] == k && (k == 0 || i != gates[k - 1]) {
          emitNode(i, node, counter: counter, &w, &code)
        }
        if k < gates.count {
          let g = gates[k]
          let layer = iface.midLayers.first { $0.node == g }!
          let x = graph.nodes[g].operands[0]
          let out = CConv.emitStreamLayer(
            layer, input: values[x.node][x.result].pointer, zeros: zeros[x.node] ?? 0, iface: iface, code: &code, &w,
            index: locals.fresh("\(layer.op.name)_i")
          ) { w, code in
            values[g] = [.vector("s->\(layer.members.out)")]
            emitLevel(k + 1, &w, &code)
          }
          _ = out
        }
        for o in sequenceOutputs where levels[o.value.node] == k {
          let v = values[o.value.node][o.value.result]
          w.line("memcpy(\(iface.names.parameter(o.name)), \(v.pointer), sizeof(\(real)) * \(o.features));")
        }
        if !gates.isEmpty && k == statusLevel { w.line("status = \(names.constant("ok"));") }
        w.line("s->\(counter)++;")
      }
      emitLevel(0, &w, &code)
      w.line("return \(gates.isEmpty ? names.constant("ok") : "status");")
    }
    w.line()
  }

  /// `<model>_read`: the vector outputs (reductions, final states and heads on them) of the
  /// steps taken so far.
  static func emitRead(iface: CInterface, code: inout CVectorCode, w: inout CWriter) {
    let graph = iface.module.graph
    let real = iface.real
    let names = iface.names
    let vectorOutputs = iface.outputs.filter { !$0.isSequence }
    var locals = LocalNames(reserved: ["i", "s"] + vectorOutputs.map { iface.names.parameter($0.name) }, names: names)
    // Only what the vector outputs need; scans and reductions are read from the state.
    let needed = iface.plan.stream.readNeeds
    var values = [[CValue]](repeating: [], count: graph.nodes.count)
    let parameters = CHeaderEmitter.readParameters(iface)
    w.block("int \(names.global("read"))(\(parameters.joined(separator: ", ")))") { w in
      let pointers = ["s"] + vectorOutputs.map { iface.names.parameter($0.name) }
      w.line("if (\(pointers.map { "!\($0)" }.joined(separator: " || "))) return \(names.constant("error_argument"));")
      CWeights.emitBlobCheck(iface, &w)
      for (i, node) in graph.nodes.enumerated() where needed[i] {
        let operands = node.operands.map { values[$0.node].isEmpty ? CValue.unavailable : values[$0.node][$0.result] }
        let features = node.types[0]?.features ?? 0
        switch node.op {
        case .parameter(let name):
          values[i] = [.weights(iface.weight(name))]
        case .zeros:
          values[i] = [.zero]
        case .scan(let scan):
          let info = iface.scans.first { $0.node == i }!
          values[i] = (0..<scan.states).map { .vector("s->\(stateMember(info, $0))") }
            + Array(repeating: .unavailable, count: scan.outputs)
        case .reduce(let r):
          let info = iface.reductions.first { $0.node == i }!
          let acc = "s->\(accumulator(info, graph: graph))"
          let name = locals.fresh(node.hint ?? "reduce\(i)")
          w.line("\(real) *\(name) = s->work + \(iface.plan.stream.read[i]![0]);  /* \(features) values */")
          if r == .mean {
            let steps = "s->\(iface.stepCounter(level: iface.streamLevels[i]))"
            w.line("for (int i = 0; i < \(features); i++) \(name)[i] = \(steps) > 0 ? \(acc)[i] / (\(real))\(steps) : \(code.literal(0));")
          } else {
            w.line("memcpy(\(name), \(acc), sizeof(\(real)) * \(features));")
          }
          values[i] = [.vector(name)]
        case .slice(let start, _):
          values[i] = [.vector("(\(operands[0].pointer) + \(start))")]
        case .argument, .gru, .dense, .sequenceLayer, .linearUnshared, .mask, .hold, .reverseTime, .gradient:
          // Vector outputs read the input only through scans and reductions (the state), never
          // directly; high-level and gradient ops never reach the C backend.
          preconditionFailure("'\(node.op.mnemonic)' cannot feed a vector output read from the stream state")
        case .linear, .packedLinear, .activation, .add, .mul, .scale, .blend, .concat, .fused, .norm:
          let offsets = iface.plan.stream.read[i]!
          var inputs = operands
          var zeros = offsets.dropLast().makeIterator()
          for (k, v) in operands.enumerated() {
            guard case .zero = v, let at = zeros.next() else { continue }
            let f = graph.type(of: node.operands[k])?.features ?? 0
            let z = locals.fresh("zeros")
            w.line("\(real) *\(z) = s->work + \(at);")
            w.line("memset(\(z), 0, sizeof(\(real)) * \(f));")
            inputs[k] = .vector(z)
          }
          let name = locals.fresh(node.hint ?? "v\(i)")
          w.line("\(real) *\(name) = s->work + \(offsets[offsets.count - 1]);  /* \(features) values */")
          code.emit(node, graph: graph, operands: inputs, dest: name, locals: &locals, w: &w)
          values[i] = [.vector(name)]
        }
      }
      for o in vectorOutputs {
        let v = values[o.value.node][o.value.result]
        if case .zero = v {
          w.line("memset(\(iface.names.parameter(o.name)), 0, sizeof(\(real)) * \(o.features));")
        } else {
          w.line("memcpy(\(iface.names.parameter(o.name)), \(v.pointer), sizeof(\(real)) * \(o.features));")
        }
      }
      w.line("return \(names.constant("ok"));")
    }
    w.line()
  }
}
