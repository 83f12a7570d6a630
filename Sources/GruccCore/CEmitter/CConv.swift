// The sequence layers in C (conv1d): the whole-sequence functions compute them first, in order,
// each over all T steps of every sequence into a buffer of its own at the start of the scratch
// (`[B][T'][F]`), and the rest of the model then runs on the last one's output as it runs on an
// input. The sums run as the interpreter's (Kernels.conv1d): over the group's channels, then the
// taps, from 0 up, the bias last, so the C and the interpreter agree bit for bit.

/// One sequence layer as the C computes it.
struct CFrontEndLayer {
  var node: Int
  var op: SequenceLayerOp
  var inChannels: Int
  var outChannels: Int
  /// Streaming: the steps of input the layer keeps (its window: a conv's span, a pool's size; 0
  /// for a pad, which keeps nothing), and its state struct members.
  var window: Int {
    switch op.kind {
    case .conv1d(let c): return (c.kernel - 1) * c.dilation + 1
    case .pool(let p): return p.size
    case .pad, .norm: return 0
    }
  }
  var members = (window: "", out: "", seen: "")
  /// After a gru layer, a layer that gives no output on some steps counts the outputs it gave
  /// (the steps of what reads it) in this state member.
  var counter = ""

  /// Values the streaming state holds for it: its window and its latest output (a norm: its
  /// output; a pad: none).
  var streamValues: Int { window > 0 ? window * inChannels + outChannels : isNorm ? outChannels : 0 }

  var isNorm: Bool { if case .norm = op.kind { return true } else { return false } }

  /// Multiply-adds of one output step of one sequence.
  var macsPerOutputStep: Int {
    switch op.kind {
    case .conv1d(let c): return c.filters * (inChannels / c.groups) * c.kernel
    case .pad, .pool: return 0
    case .norm: return 2 * inChannels
    }
  }

  /// Parameters (weights and biases).
  var parameterCount: Int {
    switch op.kind {
    case .conv1d(let c): return c.filters * (inChannels / c.groups) * c.kernel + (c.bias ? c.filters : 0)
    case .pad, .pool: return 0
    case .norm(let n): return NormOp(layer: n).parameterNames.count * inChannels
    }
  }
}

enum CConv {
  /// The locals the layers' loops declare: inside the sequence function (layers after a gru
  /// layer) no scratch buffer may take these names (-Wshadow).
  static let localNames = [
    "a", "acc", "at", "b", "c", "c0", "channel", "ci", "count", "f", "f0", "first", "from", "g", "i", "j", "pad", "s", "t",
    "v", "wf", "wj", "xj", "xs", "yt",
  ]

  /// Why the sequence layers cannot stream, or nil: each output step must depend on input steps
  /// already given, and a pad's zeros must all be taken by the window right after it before the
  /// first step (otherwise outputs would be due before any input).
  static func streamProblem(_ frontEnd: [CFrontEndLayer]) -> String? {
    var zeros = 0
    for (k, layer) in frontEnd.enumerated() {
      let name = "'\(layer.op.name)'"
      switch layer.op.kind {
      case .pad(let before, let after):
        if after > 0 { return "\(name) pads after the last step, which a stream never reaches" }
        zeros += before
        let next = k + 1 < frontEnd.count ? frontEnd[k + 1] : nil
        if let next, case .pad = next.op.kind { continue }
        guard let next, next.readsOnlyThePast, !next.isCausalConv, zeros <= next.window - 1 else {
          return "\(name) puts \(zeros) zero steps before the first, more than the window after it takes before its first output"
        }
        continue
      case .conv1d(let c) where c.padding == .same:
        return "\(name) has 'padding same': each output step reads steps after it"
      case .pool(let p) where p.padding == .same:
        return "\(name) has 'padding same': each output step reads steps after it"
      case .conv1d, .pool:
        zeros = 0
      case .norm:
        continue  // per step; a pad before it is refused above (its zeros are not zeros after it)
      }
    }
    return nil
  }

  /// The zero steps a pad after a gru layer puts before its first input, by its node (pads in a
  /// row add up); the window after it starts with them.
  static func midZeros(_ layers: [CFrontEndLayer], graph: Graph) -> [Int: Int] {
    var zeros: [Int: Int] = [:]
    for layer in layers {
      guard case .pad(let before, _) = layer.op.kind else { continue }
      zeros[layer.node] = (zeros[graph.nodes[layer.node].operands[0].node] ?? 0) + before
    }
    return zeros
  }

  /// The layers after gru layers that give no output on some steps (a stride, or a valid window
  /// its pad does not fill), in graph order: streamed, what reads them steps only when they give one.
  static func streamGates(_ layers: [CFrontEndLayer], graph: Graph) -> [Int] {
    let zeros = midZeros(layers, graph: graph)
    return layers.filter { layer in
      switch layer.op.kind {
      case .conv1d, .pool:
        let first = layer.isCausalConv ? 0 : layer.window - 1
        return layer.stride > 1 || first > (zeros[graph.nodes[layer.node].operands[0].node] ?? 0)
      case .pad, .norm:
        return false
      }
    }.map(\.node)
  }

  /// For each node, how many of the gates (streamGates) it depends on: 0 for what steps on every
  /// call. The gates form a chain (each depends on the one before), checked by midStreamProblem.
  static func streamLevels(gates: [Int], graph: Graph) -> [Int] {
    var level = Array(repeating: 0, count: graph.nodes.count)
    for (i, node) in graph.nodes.enumerated() {
      level[i] = node.operands.map { level[$0.node] }.max() ?? 0
      if let k = gates.firstIndex(of: i) { level[i] = max(level[i], k + 1) }
    }
    return level
  }

  /// Why the layers after gru layers cannot stream, or nil. Each output step must depend on input
  /// steps already given, and a pad's zeros must be the first steps of the window right after it.
  /// A layer that gives no output on some steps (a gate) makes what reads it step on the others;
  /// two such layers must stand one after the other. `readsAhead` tells the marker apart.
  static func midStreamProblem(_ layers: [CFrontEndLayer], graph: Graph) -> (reason: String, readsAhead: Bool)? {
    let zerosOf = midZeros(layers, graph: graph)
    var users = Array(repeating: 0, count: graph.nodes.count)
    for node in graph.nodes { for v in node.operands { users[v.node] += 1 } }
    for o in graph.outputs { users[o.value.node] += 1 }
    for layer in layers {
      let name = "'\(layer.op.name)'"
      let zeros = zerosOf[graph.nodes[layer.node].operands[0].node] ?? 0
      switch layer.op.kind {
      case .pad(_, let after):
        if after > 0 { return ("\(name) pads after the last step, which a stream never reaches", true) }
        let next = layers.first { graph.nodes[$0.node].operands[0].node == layer.node }
        if let next, case .pad = next.op.kind, users[layer.node] == 1 { continue }
        let total = zerosOf[layer.node] ?? 0
        guard users[layer.node] == 1, let next, next.readsOnlyThePast, !next.isCausalConv, !next.isNorm,
          total <= next.window - 1
        else {
          return ("\(name) puts \(total) zero steps before the first, more than the window after it takes before its first output", true)
        }
      case .conv1d(let c) where c.padding == .same:
        return ("\(name) has 'padding same': each output step reads steps after it", true)
      case .pool(let p) where p.padding == .same:
        return ("\(name) has 'padding same': each output step reads steps after it", true)
      case .conv1d, .pool, .norm:
        _ = zeros
        continue
      }
    }
    let gates = streamGates(layers, graph: graph)
    let levels = streamLevels(gates: gates, graph: graph)
    for (k, gate) in gates.enumerated() where levels[graph.nodes[gate].operands[0].node] != k {
      let name = layers.first { $0.node == gate }!.op.name
      return ("'\(name)' gives no output on some steps, as another layer after a gru layer does, but not after it: streaming two such branches is not compiled yet", false)
    }
    return nil
  }

  /// Scratch values per sequence the front end takes for the macros' `(T)` input steps.
  static func scratchPerSequence(_ frontEnd: [CFrontEndLayer]) -> String {
    var f = StepsFormula()
    return frontEnd.map { layer in
      f = f.after(layer.op)
      return "(size_t)\(f.c) * \(layer.outChannels)"
    }.joined(separator: " + ")
  }

  /// Emits the front end inside run_batch: `x` (strided by x_b, x_t as the layout says) and `T`
  /// in, the buffers laid from `scratch` on; declares `fe_x`, `fe_T` (the last output and its
  /// steps) and `fe_scratch` (where the rest of the scratch starts).
  static func emitFrontEnd(_ iface: CInterface, xb: String, xt: String, code: inout CVectorCode, _ w: inout CWriter) {
    let real = iface.real
    let names = iface.names
    var input = (pointer: "x", b: xb, t: xt, steps: "(size_t)T")
    var at = "scratch"
    for (k, layer) in iface.frontEnd.enumerated() {
      let out = "fe\(k)"
      let outSteps = "fe\(k)_T"
      w.line("const size_t \(outSteps) = \(layer.op.outputStepsC(input.steps));")
      // Each layer must give a step: a pad after one that gave none would hide it.
      w.line("if (\(outSteps) < 1) return \(names.constant("error_argument"));  /* too few steps for '\(layer.op.name)' */")
      w.line("\(real) *\(out) = \(at);  /* \(layer.op.kind.keyword) '\(layer.op.name)': [B][\(outSteps)][\(layer.outChannels)] */")
      at = "\(out) + (size_t)B * \(outSteps) * \(layer.outChannels)"
      emitLayer(
        layer, iface: iface, batch: "B", x: input.pointer, xb: input.b, xt: input.t, steps: input.steps, y: out,
        outSteps: outSteps, code: &code, &w)
      input = (out, "(size_t)\(outSteps) * \(layer.outChannels)", "\(layer.outChannels)", outSteps)
    }
    w.line("const \(real) *fe_x = \(input.pointer);")
    w.line("const size_t fe_T = \(input.steps);")
    w.line("\(real) *fe_scratch = \(at);")
  }

  /// One layer over whole sequences: `batch` sequences of x (strided by xb, xt) of `steps` steps
  /// in, y `[batch][outSteps][F]` out.
  static func emitLayer(
    _ layer: CFrontEndLayer, iface: CInterface, batch: String, x: String, xb: String, xt: String, steps: String, y: String,
    outSteps: String, code: inout CVectorCode, _ w: inout CWriter
  ) {
    let name = layer.op.name
    switch layer.op.kind {
    case .conv1d(let c):
      emitConv(
        c, name: name, iface: iface, batch: batch, x: x, xb: xb, xt: xt, steps: steps, channels: layer.inChannels, y: y,
        outSteps: outSteps, code: &code, w: &w)
    case .pad(let before, _):
      emitPad(
        before: before, name: name, iface: iface, batch: batch, x: x, xb: xb, xt: xt, steps: steps,
        channels: layer.inChannels, y: y, outSteps: outSteps, w: &w)
    case .pool(let p):
      emitPool(
        p, name: name, iface: iface, batch: batch, x: x, xb: xb, xt: xt, steps: steps, channels: layer.inChannels, y: y,
        outSteps: outSteps, code: &code, w: &w)
    case .norm(let n):
      emitNorm(
        n, name: name, iface: iface, batch: batch, x: x, xb: xb, xt: xt, channels: layer.inChannels, y: y,
        outSteps: outSteps, code: &code, w: &w)
    }
  }

  /// The loop over the sequences: run_batch's B is an int, the sequence function's nb a size_t.
  private static func batchLoop(_ batch: String) -> String {
    batch == "B" ? "for (int b = 0; b < B; b++)" : "for (size_t b = 0; b < \(batch); b++)"
  }

  /// Zero steps before and after: each output step is an input step or zeros.
  private static func emitPad(
    before: Int, name: String, iface: CInterface, batch: String, x: String, xb: String, xt: String, steps: String, channels: Int,
    y: String, outSteps: String, w: inout CWriter
  ) {
    let real = iface.real
    w.block("/* \(name): pad, \(before) zero steps before */") { w in
      w.block("\(batchLoop(batch)) for (size_t t = 0; t < \(outSteps); t++)") { w in
        w.line("\(real) *yt = \(y) + ((size_t)b * \(outSteps) + t) * \(channels);")
        w.line("if (t < \(before) || t - \(before) >= \(steps)) memset(yt, 0, sizeof(\(real)) * \(channels));")
        w.line("else memcpy(yt, \(x) + (size_t)b * \(xb) + (t - \(before)) * \(xt), sizeof(\(real)) * \(channels));")
      }
    }
  }

  /// A batchnorm or layernorm, one step at a time, by the kernel the per-step op calls.
  private static func emitNorm(
    _ n: NormLayer, name: String, iface: CInterface, batch: String, x: String, xb: String, xt: String, channels: Int, y: String,
    outSteps: String, code: inout CVectorCode, w: inout CWriter
  ) {
    let op = NormOp(layer: n)
    let tensors = op.parameterNames.map { CValue.weights(iface.weight($0)) }
    w.block("/* \(name): \(n.kind.keyword), per step */") { w in
      w.block("\(batchLoop(batch)) for (size_t t = 0; t < \(outSteps); t++)") { w in
        code.emitNorm(
          op, operands: [.vector("(\(x) + (size_t)b * \(xb) + t * \(xt))")] + tensors,
          dest: "(\(y) + ((size_t)b * \(outSteps) + t) * \(channels))", features: channels, rows: "1", ld: "", w: &w)
      }
    }
  }

  /// The average or max of each window, over the steps inside the sequence only (Kernels.pool's order).
  private static func emitPool(
    _ p: Pool1DLayer, name: String, iface: CInterface, batch: String, x: String, xb: String, xt: String, steps: String, channels: Int,
    y: String, outSteps: String, code: inout CVectorCode, w: inout CWriter
  ) {
    let real = iface.real
    let before: String
    switch p.padding {
    case .valid: before = "0"
    case .same:
      before = "((\(outSteps) - 1) * \(p.stride) + \(p.size) > \(steps) ? ((\(outSteps) - 1) * \(p.stride) + \(p.size) - \(steps)) / 2 : 0)"
    }
    w.block("/* \(name): \(p.kind.rawValue) pool of \(p.size), \(p.padding.rawValue) padding */") { w in
      w.line("const size_t pad = \(before);  /* steps before step 0 that window 0 starts at */")
      w.block("\(batchLoop(batch)) for (size_t t = 0; t < \(outSteps); t++)") { w in
        w.line("const \(real) *xs = \(x) + (size_t)b * \(xb);")
        w.line("\(real) *yt = \(y) + ((size_t)b * \(outSteps) + t) * \(channels);")
        // The channels as the inner loop (the window's steps outside the sequence are the same
        // for all of them): each channel still takes its steps in order.
        blocked(channels, index: "c0", &w) { w, c0, n in
          let first = c0 == "0" ? "" : " + \(c0)"
          let channel = c0 == "0" ? "c" : "\(c0) + c"
          w.line("\(real) acc[\(n)];")
          w.line("for (int c = 0; c < \(n); c++) acc[c] = \(code.literal(0));")
          w.line("size_t count = 0;")
          w.block("for (size_t j = 0; j < \(p.size); j++)") { w in
            w.line("const size_t s = t * \(p.stride) + j;  /* padded step */")
            w.line("if (s < pad || s - pad >= \(steps)) continue;")
            w.line("const \(real) *xj = xs + (s - pad) * \(xt)\(first);")
            switch p.kind {
            case .average: w.line("for (int c = 0; c < \(n); c++) acc[c] += xj[c];")
            case .max: w.line("for (int c = 0; c < \(n); c++) acc[c] = count == 0 || xj[c] > acc[c] ? xj[c] : acc[c];")
            }
            w.line("count++;")
          }
          switch p.kind {
          case .average: w.line("for (int c = 0; c < \(n); c++) yt[\(channel)] = count > 0 ? acc[c] / (\(real))count : acc[c];")
          case .max: w.line("for (int c = 0; c < \(n); c++) yt[\(channel)] = acc[c];")
          }
        }
      }
    }
  }

  private static func emitConv(
    _ c: Conv1DLayer, name: String, iface: CInterface, batch: String, x: String, xb: String, xt: String, steps: String, channels: Int,
    y: String, outSteps: String, code: inout CVectorCode, w: inout CWriter
  ) {
    let real = iface.real
    let g = c.geometry(inChannels: channels)
    let weights = iface.weight("\(name).w")
    let bias = c.bias ? iface.weight("\(name).b") : nil
    // The zeros before step 0: fixed for causal and valid, from T for same.
    let before: String
    switch c.padding {
    case .causal: before = "\(g.span - 1)"
    case .valid: before = "0"
    case .same:
      before = "((\(outSteps) - 1) * \(c.stride) + \(g.span) > \(steps) ? ((\(outSteps) - 1) * \(c.stride) + \(g.span) - \(steps)) / 2 : 0)"
    }
    w.block("/* \(name): conv1d, \(c.padding.rawValue) padding */") { w in
      w.line("const size_t pad = \(before);  /* zeros before step 0 */")
      w.block("\(batchLoop(batch)) for (size_t t = 0; t < \(outSteps); t++)") { w in
        w.line("const \(real) *xs = \(x) + (size_t)b * \(xb);")
        w.line("\(real) *yt = \(y) + ((size_t)b * \(outSteps) + t) * \(c.filters);")
        w.line("const size_t first = t * \(c.stride);  /* + pad: the padded step of tap 0 */")
        emitFilters(c, iface: iface, weights: weights, channels: channels, bias: bias, y: "yt", code: &code, w: &w) { w, ci, j in
          w.line("const size_t s = first + (size_t)\(j) * \(c.dilation);  /* padded step */")
          w.line("if (s < pad || s - pad >= \(steps)) continue;")
          return "xs[(s - pad) * \(xt) + (size_t)(\(ci))]"
        }
      }
    }
  }

  /// One output step of a conv: the filters side by side with the weights compiled in, filter by
  /// filter from a blob (`filtersInner`); `tap` as emitGroups takes it.
  static func emitFilters(
    _ c: Conv1DLayer, iface: CInterface, weights: String, channels: Int, bias: String?, y: String,
    code: inout CVectorCode, w: inout CWriter, tap: (inout CWriter, String, String) -> String
  ) {
    if filtersInner(iface) {
      emitGroups(c, weights: weights, channels: channels, bias: bias, y: y, code: &code, w: &w, tap: tap)
    } else {
      emitScalarFilters(c, weights: weights, channels: channels, bias: bias, y: y, code: &code, w: &w, tap: tap)
    }
  }

  /// One output step of a conv filter by filter, the weights as the framework has them
  /// (`[F][C/G][K]`, a blob): per filter the sum over the group's channels, then the taps, the
  /// bias last, as Kernels.conv1d adds. `tap` emits what precedes a tap's read (it may `continue`
  /// past a tap in the padding) and returns the input value of channel `channel` (an int C
  /// expression) at tap `j`.
  static func emitScalarFilters(
    _ c: Conv1DLayer, weights: String, channels: Int, bias: String?, y: String, code: inout CVectorCode,
    w: inout CWriter, tap: (inout CWriter, String, String) -> String
  ) {
    let real = code.iface.real
    let (cg, fg) = (channels / c.groups, c.filters / c.groups)
    w.block("for (int f = 0; f < \(c.filters); f++)") { w in
      let group = c.groups == 1 ? "" : "(f / \(fg)) * \(cg) + "
      w.line("const \(real) *wf = \(weights) + (size_t)f * \(cg * c.kernel);")
      w.line("\(real) acc = \(code.literal(0));")
      w.block("for (int ci = 0; ci < \(cg); ci++)") { w in
        w.block("for (int j = 0; j < \(c.kernel); j++)") { w in
          let value = tap(&w, "\(group)ci", "j")
          w.line("acc += wf[ci * \(c.kernel) + j] * \(value);")
        }
      }
      if let bias { w.line("acc += \(bias)[f];") }
      let value = c.activation == .identity ? "acc" : code.elementwise(.activation(c.activation), ["acc"])!
      w.line("\(y)[f] = \(value);")
    }
  }

  /// Whether the conv weights are compiled in with the filters last, `[G][C/G][K][F/G]`
  /// (CWeights permutes them; `filtersInnerValues`), so that the filters of a group are the
  /// unit-stride inner loop of a constant count that clang and gcc vectorise, each filter's sum
  /// still in the interpreter's order. A blob (`--weights external`) keeps the framework's
  /// `[F][C/G][K]` and the scalar loops.
  static func filtersInner(_ iface: CInterface) -> Bool { !iface.externalWeights }

  /// The conv weight tensors of the sequence layers (`name.w`), with their layer and input channels.
  static func convWeights(_ iface: CInterface) -> [(name: String, conv: Conv1DLayer, channels: Int)] {
    iface.sequenceLayers.compactMap { layer in
      guard case .conv1d(let c) = layer.op.kind else { return nil }
      return ("\(layer.op.name).w", c, layer.inChannels)
    }
  }

  /// `[F][C/G][K]` values permuted to `[G][C/G][K][F/G]`.
  static func filtersInnerValues(_ values: [Double], _ c: Conv1DLayer, channels: Int) -> [Double] {
    let (cg, fg, k) = (channels / c.groups, c.filters / c.groups, c.kernel)
    var result = values
    for f in 0..<c.filters {
      let (g, fl) = (f / fg, f % fg)
      for ci in 0..<cg {
        for j in 0..<k { result[((g * cg + ci) * k + j) * fg + fl] = values[(f * cg + ci) * k + j] }
      }
    }
    return result
  }

  /// Filters (or channels) summed side by side at most this many at a time: their sums are a
  /// small array on the stack of the same size whatever the model (MemoryPlan's StackPlan).
  static let block = 16

  /// `body` for each block of `count` (its first index as a C expression, its width), the full
  /// blocks in a loop over `index`, a narrower last one after it: every inner loop has a constant
  /// count, and each block its own scope for its sums.
  static func blocked(_ count: Int, index: String, _ w: inout CWriter, _ body: (inout CWriter, String, Int) -> Void) {
    let width = min(count, block)
    let full = count / width * width
    if full == count && full == width {
      body(&w, "0", width)
      return
    }
    if full == width {
      w.block("/* the first \(width) */") { w in body(&w, "0", width) }
    } else {
      w.block("for (int \(index) = 0; \(index) < \(full); \(index) += \(width))") { w in body(&w, index, width) }
    }
    if count > full { w.block("/* the last \(count - full) */") { w in body(&w, "\(full)", count - full) } }
  }

  /// One output step of a conv, the filters of each group as the inner loop (weights
  /// `[G][C/G][K][F/G]`): per filter the sum runs over the group's channels, then the taps, the
  /// bias last, as Kernels.conv1d adds. `tap` emits what precedes a tap's read (it may `continue`
  /// past a tap in the padding) and returns the input value of channel `ci` (a C expression
  /// within the group's channels, `C/G` times the group added) at tap `j`.
  static func emitGroups(
    _ c: Conv1DLayer, weights: String, channels: Int, bias: String?, y: String, code: inout CVectorCode,
    w: inout CWriter, tap: (inout CWriter, String, String) -> String
  ) {
    let real = code.iface.real
    let (cg, fg, k) = (channels / c.groups, c.filters / c.groups, c.kernel)
    let head = c.groups == 1 ? "/* the filters side by side */" : "for (int g = 0; g < \(c.groups); g++)"
    w.block(head) { w in
      let wg = c.groups == 1 ? weights : "\(weights) + (size_t)g * \(cg * k * fg)"
      let channel = c.groups == 1 ? "ci" : "g * \(cg) + ci"
      blocked(fg, index: "f0", &w) { w, f0, n in
        let first = f0 == "0" ? "" : " + \(f0)"
        let filter = (c.groups == 1 ? "" : "g * \(fg) + ") + (f0 == "0" ? "f" : "\(f0) + f")
        w.line("\(real) acc[\(n)];")
        w.line("for (int f = 0; f < \(n); f++) acc[f] = \(code.literal(0));")
        w.block("for (int ci = 0; ci < \(cg); ci++)") { w in
          w.block("for (int j = 0; j < \(k); j++)") { w in
            let value = tap(&w, channel, "j")
            w.line("const \(real) v = \(value);")
            w.line("const \(real) *wj = \(wg) + (size_t)((ci * \(k) + j) * \(fg)\(first));")
            w.line("for (int f = 0; f < \(n); f++) acc[f] += wj[f] * v;")
          }
        }
        w.block("for (int f = 0; f < \(n); f++)") { w in
          let sum = bias.map { "acc[f] + \($0)[\(filter)]" } ?? "acc[f]"
          if c.activation == .identity {
            w.line("\(y)[\(filter)] = \(sum);")
          } else {
            w.line("const \(real) a = \(sum);")
            w.line("\(y)[\(filter)] = \(code.elementwise(.activation(c.activation), ["a"])!);")
          }
        }
      }
    }
  }
}

extension CFrontEndLayer {
  /// Whether each output reads only input steps up to the one it ends at (causal or valid).
  var readsOnlyThePast: Bool {
    switch op.kind {
    case .conv1d(let c): return c.padding != .same
    case .pool(let p): return p.padding == .valid
    case .pad(_, let after): return after == 0
    case .norm: return true
    }
  }

  var isCausalConv: Bool { if case .conv1d(let c) = op.kind { return c.padding == .causal } else { return false } }

  var stride: Int {
    switch op.kind {
    case .conv1d(let c): return c.stride
    case .pool(let p): return p.stride
    case .pad, .norm: return 1
    }
  }
}

extension CConv {
  /// The sequence layers in `step`: each windowed layer shifts x into its window, and computes an
  /// output when its window ends an output step (causal: every stride-th input from the first;
  /// valid: from the window's first full step on), in Kernels' order; otherwise `step` returns
  /// NO_OUTPUT. Returns each layer node's output pointer.
  static func emitStream(_ iface: CInterface, code: inout CVectorCode, _ w: inout CWriter) -> [Int: String] {
    var input = "x"
    var outputs: [Int: String] = [:]
    var zeros = 0
    w.line("s->input_steps++;")
    for layer in iface.frontEnd {
      if case .pad(let before, _) = layer.op.kind {
        // Its zeros are the next window's first steps: a zeroed state holds them already.
        zeros += before
        outputs[layer.node] = input
        continue
      }
      input = emitStreamLayer(layer, input: input, zeros: zeros, iface: iface, code: &code, &w)
      if !layer.isNorm { zeros = 0 }
      outputs[layer.node] = input
    }
    return outputs
  }

  /// One conv1d, pool or norm in `step`: `input` is this step's row, `zeros` the pad's zero steps
  /// before its first input. Returns its output row (in the state). Where its stride or a window
  /// not yet full gives no output, `step` returns NO_OUTPUT (the chain from the input), or, given
  /// `onDue`, the layer's output and what `onDue` emits (what reads it) are computed only on the
  /// steps that give one. `index` names this input's step in the layer's input.
  static func emitStreamLayer(
    _ layer: CFrontEndLayer, input: String, zeros: Int, iface: CInterface, code: inout CVectorCode, _ w: inout CWriter,
    index: String = "i", onDue: ((inout CWriter, inout CVectorCode) -> Void)? = nil
  ) -> String {
    let real = iface.real
    let n = iface.names
    let channels = layer.inChannels
    switch layer.op.kind {
    case .pad:
      preconditionFailure("a pad keeps nothing: its zeros are the next window's")
    case .norm(let norm):
      // Per step: no window; its output waits in the state for the layers after it.
      let out = "s->\(layer.members.out)"
      let op = NormOp(layer: norm)
      w.comment(["'\(layer.op.name)' (\(norm.kind.keyword)): this step, normalised"])
      code.emitNorm(
        op, operands: [.vector(input)] + op.parameterNames.map { .weights(iface.weight($0)) }, dest: out,
        features: channels, rows: "1", ld: "", w: &w)
      return out
    case .conv1d, .pool: break
    }
    let m = layer.members
    let (window, out, seen) = ("s->\(m.window)", "s->\(m.out)", "s->\(m.seen)")
    let span = layer.window
    let first = layer.isCausalConv ? 0 : span - 1
    w.comment(["'\(layer.op.name)' (\(layer.op.kind.keyword)): this input joins its window of \(span) steps"])
    if span > 1 {
      w.line("memmove(\(window), \(window) + \(channels), sizeof(\(real)) * \(channels * (span - 1)));")
    }
    w.line("memcpy(\(window) + \(channels * (span - 1)), \(input), sizeof(\(real)) * \(channels));")
    let i = index
    w.block("/* whether the window ends an output step */") { w in
      var due = first > zeros ? "\(i) >= \(first)" : ""
      if layer.stride > 1 {
        due += (due.isEmpty ? "" : " && ") + "(\(i) - \(first)) % \(layer.stride) == 0"
      }
      let causal = layer.isCausalConv && span > 1
      if !due.isEmpty || causal {
        let at = zeros > 0 ? "\(seen) + \(zeros)" : seen
        w.line("const int64_t \(i) = \(at);  /* this input's step in the layer's input\(zeros > 0 ? ", after the pad's zeros" : "") */")
      }
      w.line("\(seen)++;")
      if !due.isEmpty && onDue == nil { w.line("if (!(\(due))) return \(n.constant("no_output"));") }
      guard let onDue, !due.isEmpty else {
        computeStreamLayer(layer, window: window, out: out, index: i, iface: iface, code: &code, &w)
        onDue?(&w, &code)
        return
      }
      w.block("if (\(due))") { w in
        computeStreamLayer(layer, window: window, out: out, index: i, iface: iface, code: &code, &w)
        onDue(&w, &code)
      }
    }
    return out
  }

  /// A windowed layer's output from its window, in Kernels' order.
  private static func computeStreamLayer(
    _ layer: CFrontEndLayer, window: String, out: String, index i: String, iface: CInterface, code: inout CVectorCode,
    _ w: inout CWriter
  ) {
    let real = iface.real
    let channels = layer.inChannels
    let span = layer.window
    switch layer.op.kind {
    case .conv1d(let c):
      let weights = iface.weight("\(layer.op.name).w")
      // Window steps before `from` are the causal padding: skipped, as run_batch skips them.
      let causal = layer.isCausalConv && span > 1
      if causal {
        w.line("const int from = \(i) + 1 < \(span) ? \(span) - (int)(\(i) + 1) : 0;  /* window steps before it: causal padding */")
      }
      let bias = c.bias ? iface.weight("\(layer.op.name).b") : nil
      emitFilters(c, iface: iface, weights: weights, channels: channels, bias: bias, y: out, code: &code, w: &w) { w, ci, j in
        w.line("const int at = \(j) * \(c.dilation);")
        if causal { w.line("if (at < from) continue;") }
        return "\(window)[at * \(channels) + \(ci)]"
      }
    case .pool(let p):
      w.block("for (int c = 0; c < \(channels); c++)") { w in
        w.line("\(real) acc = \(window)[c];")
        w.block("for (int j = 1; j < \(p.size); j++)") { w in
          w.line("const \(real) v = \(window)[j * \(channels) + c];")
          switch p.kind {
          case .average: w.line("acc += v;")
          case .max: w.line("if (v > acc) acc = v;")
          }
        }
        w.line(p.kind == .average ? "\(out)[c] = acc / \(code.literal(Double(p.size)));" : "\(out)[c] = acc;")
      }
    case .pad, .norm: break
    }
  }
}
