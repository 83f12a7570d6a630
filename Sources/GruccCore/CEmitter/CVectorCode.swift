// C for the ops that act on one vector (one batch element at one step): the body of every
// generated function is made of these statements. Op → C is one small case each.

/// How an IR value is reached from C inside one generated function.
enum CValue {
  /// A pointer to `features` contiguous values.
  case vector(String)
  /// Sequences: step t of sequence b starts at `pointer + t * stride + b * element`, where t counts
  /// from the start of the sequence, or from the start of the current chunk for a `local` value
  /// (one held in the whole-sequence function's scratch, which holds one chunk of steps).
  case sequence(pointer: String, stride: String, element: String, local: Bool)
  /// A vector of zeros not yet materialised (an initial state).
  case zero
  /// A weight array.
  case weights(String)
  /// The lengths (the function's `len`).
  case lengths
  /// A value this function cannot see (a caller-given initial state while streaming).
  case unavailable
  /// Rows of `features` values for each of several batch elements: row b at `pointer + b * ld`.
  case rows(String, ld: String)

  /// The distance between batch elements' rows, if they are not simply contiguous.
  var rowStride: String? {
    if case .rows(_, let ld) = self { return ld }
    return nil
  }

  var pointer: String {
    switch self {
    case .vector(let p), .weights(let p), .sequence(let p, _, _, _), .rows(let p, _): return p
    case .zero, .lengths, .unavailable: preconditionFailure("value has no pointer")
    }
  }
}

/// Emits vector statements and records which kernels they call.
struct CVectorCode {
  let iface: CInterface
  var kernels: CKernels = []
  /// The panel widths of the packed products the code calls, one kernel each.
  var panels: [Int] = []
  /// The most inputs of any int8 product the code calls (weights-storage int8), or 0.
  var int8Inputs = 0

  /// Exact (libm) or fast (CFastMath) sigmoid, tanh and exp.
  let mode: ActivationMode

  init(_ iface: CInterface, mode: ActivationMode = .fast) {
    self.iface = iface
    self.mode = mode
  }

  var real: String { iface.real }
  private var precision: Precision { iface.module.precision }

  func literal(_ v: Double) -> String { CLiteral.real(v, precision) }

  var tanhName: String { precision == .f32 ? "tanhf" : "tanh" }

  /// The C expression of an elementwise op on element `i` of each operand expression given.
  mutating func elementwise(_ op: Op, _ a: [String]) -> String? {
    switch op {
    case .activation(let act):
      switch act {
      case .identity: return a[0]
      case .tanh:
        guard mode == .fast else { return "\(tanhName)(\(a[0]))" }
        kernels.insert(.tanh)
        return "\(iface.names.global("tanh"))(\(a[0]))"
      case .relu: return "(\(a[0]) > \(literal(0)) ? \(a[0]) : \(literal(0)))"
      case .softmax, .l2norm: return nil
      case .sigmoid, .hardSigmoid, .leakyRelu, .thresholdedRelu, .scaledTanh, .affine, .elu, .softsign, .softplus,
        .clip:
        guard let (kernel, stem) = CKernels.of(act) else { return nil }
        kernels.insert(kernel)
        let arguments = ([a[0]] + act.parameters.map(literal)).joined(separator: ", ")
        return "\(iface.names.global(stem))(\(arguments))"
      }
    case .add: return "\(a[0]) + \(a[1])"
    case .mul: return "\(a[0]) * \(a[1])"
    case .scale(let f): return "\(a[0]) * \(literal(f))"
    case .blend: return "\(a[0]) * \(a[1]) + (\(literal(1)) - \(a[0])) * \(a[2])"
    case .argument, .parameter, .zeros, .gru, .dense, .sequenceLayer, .norm, .scan, .linear, .packedLinear, .linearUnshared, .slice, .concat,
      .reduce, .mask, .hold, .reverseTime, .fused, .gradient:
      return nil
    }
  }

  /// The call of the packed product for `rows` rows: y rows `ldy` apart, x rows `ldx` apart. Each
  /// kernel is specialised to one panel width, so the full panels are one call and a narrower last
  /// panel a second, on the rows, weights and bias that follow.
  mutating func packedLinear(
    _ p: PackedLinear, dest: String, ldy: String, weights: String, bias: String?, x: String, ldx: String, rows: String,
    k: Int
  ) -> String {
    if iface.module.weightElement == .int8 {
      int8Inputs = max(int8Inputs, k)
      return CInt8.call(
        iface.names, dest: dest, ldy: ldy, weights: weights, bias: bias, x: x, ldx: ldx, rows: rows, n: p.outputs, k: k)
    }
    let full = p.lastPanel == p.panel ? p.outputs : (p.panels - 1) * p.panel
    var calls: [(width: Int, at: Int, n: Int)] = []
    if full > 0 { calls.append((p.panel, 0, full)) }
    if full < p.outputs { calls.append((p.lastPanel, full, p.outputs - full)) }
    func offset(_ base: String, _ by: Int) -> String { by == 0 ? base : "\(base) + \(by)" }
    let text = calls.map { c in
      if !panels.contains(c.width) {
        panels.append(c.width)
        panels.sort()
      }
      return "\(iface.names.global("linear_p\(c.width)"))(\(offset(dest, c.at)), \(ldy), \(offset(weights, c.at * k)), "
        + "\(bias.map { offset($0, c.at) } ?? "NULL"), \(x), \(ldx), \(rows), \(c.n), \(k));"
    }
    // One statement either way, so a caller may put it after a loop header.
    return text.count == 1 ? text[0] : "{ " + text.joined(separator: " ") + " }"
  }

  /// Emits `dest = op(operands)` for `rows` rows ("1", or a C expression such as `nb`): row b of
  /// a `.rows` value is at `pointer + b * ld`, of a `.vector` at `pointer + b * features`, and of
  /// `dest` at `dest + b * features`. With one row the code is a plain vector loop.
  mutating func emit(
    _ node: Node, graph: Graph, operands: [CValue], dest: String, rows: String = "1", locals: inout LocalNames,
    w: inout CWriter
  ) {
    let features = node.types[0]?.features ?? 0
    let single = rows == "1"
    func ld(_ k: Int) -> String { operands[k].rowStride ?? String(graph.type(of: node.operands[k])?.features ?? 0) }
    // A pointer expression (`p + t * n`) is parenthesised before it is subscripted.
    func base(_ p: String) -> String { p.contains(" ") && !(p.hasPrefix("(") && p.hasSuffix(")")) ? "(\(p))" : p }
    // Elementwise loops run over one row at a time, through a pointer to each operand's row: the
    // inner loop is then unit-stride over a constant count with one index type, the shape both
    // compilers vectorise (gcc does not vectorise `p[b * ld + i]` with b an int and ld a size_t,
    // nor at -O2 a loop over `nb * features` whose count is not a multiple of its vector).
    var rowPointers: [String] = []
    var destRow = dest
    func nameRows() {
      guard !single else { return }
      rowPointers = operands.map { locals.fresh(Self.rowName($0.pointer)) }
      destRow = locals.fresh(Self.rowName(dest))
    }
    func loop(_ w: inout CWriter, _ body: (inout CWriter) -> Void) {
      if single {
        w.block("for (int i = 0; i < \(features); i++)", body)
        return
      }
      w.block("for (size_t b = 0; b < \(rows); b++)") { w in
        for (k, v) in operands.enumerated() {
          w.line("const \(real) *\(rowPointers[k]) = \(base(v.pointer)) + (size_t)b * \(ld(k));")
        }
        w.line("\(real) *\(destRow) = \(base(dest)) + (size_t)b * \(features);")
        w.block("for (int i = 0; i < \(features); i++)", body)
      }
    }
    func element(_ k: Int) -> String { single ? "\(base(operands[k].pointer))[i]" : "\(rowPointers[k])[i]" }
    func target() -> String { single ? "\(base(dest))[i]" : "\(destRow)[i]" }
    func perRow(_ w: inout CWriter, _ line: (String, (Int) -> String) -> String) {
      if single {
        w.line(line(dest) { operands[$0].pointer })
      } else {
        w.block("for (size_t b = 0; b < \(rows); b++)") { w in
          w.line(line("\(dest) + (size_t)b * \(features)") { "\(operands[$0].pointer) + (size_t)b * \(ld($0))" })
        }
      }
    }
    switch node.op {
    case .packedLinear(let p):
      let k = graph.type(of: node.operands[0])?.features ?? 0
      w.line(packedLinear(
        p, dest: dest, ldy: String(features), weights: operands[1].pointer, bias: operands.count > 2 ? operands[2].pointer : nil,
        x: operands[0].pointer, ldx: ld(0), rows: rows, k: k))
    case .fused(let f):
      // One loop, one named scalar per step: the equations read as written, in one pass over memory.
      nameRows()
      let inputs = operands.indices.map(element)
      loop(&w) { w in
        var steps: [String] = []
        for (j, step) in f.steps.enumerated() {
          let args = step.inputs.map { input -> String in
            switch input {
            case .operand(let k): return inputs[k]
            case .step(let s): return steps[s]
            }
          }
          guard let e = elementwise(step.op, args) else { preconditionFailure("fused step '\(step.op.mnemonic)'") }
          if j == f.steps.count - 1 {
            w.line("\(target()) = \(e);")
          } else {
            let name = locals.fresh(step.hint ?? "s\(j)")
            w.line("\(real) \(name) = \(e);")
            steps.append(name)
          }
        }
      }
    case .linear:
      kernels.insert(.linear)
      let k = graph.type(of: node.operands[0])?.features ?? 0
      let bias = operands.count > 2 ? operands[2].pointer : "NULL"
      let weights = operands[1].pointer
      perRow(&w) { d, o in "\(iface.names.global("linear"))(\(d), \(weights), \(bias), \(o(0)), \(features), \(k));" }
    case .activation(.softmax):
      kernels.insert(.softmax)
      perRow(&w) { d, o in "\(iface.names.global("softmax"))(\(d), \(o(0)), \(features));" }
    case .activation(.l2norm(let epsilon)):
      kernels.insert(.l2norm)
      let eps = literal(epsilon)
      perRow(&w) { d, o in "\(iface.names.global("l2norm"))(\(d), \(o(0)), \(features), \(eps));" }
    case .norm(let n):
      emitNorm(n, operands: operands, dest: dest, features: features, rows: rows, ld: ld(0), w: &w)
    case .concat:
      var offset = 0
      var parts: [(Int, Int, Int)] = []
      for (k, v) in node.operands.enumerated() {
        let f = graph.type(of: v)?.features ?? 0
        parts.append((k, offset, f))
        offset += f
      }
      if single {
        for (k, at, f) in parts { w.line("memcpy(\(dest) + \(at), \(operands[k].pointer), sizeof(\(real)) * \(f));") }
      } else {
        w.block("for (size_t b = 0; b < \(rows); b++)") { w in
          for (k, at, f) in parts {
            w.line("memcpy(\(dest) + (size_t)b * \(features) + \(at), \(operands[k].pointer) + (size_t)b * \(ld(k)), sizeof(\(real)) * \(f));")
          }
        }
      }
    case .zeros:
      w.line("memset(\(dest), 0, sizeof(\(real)) * \(single ? "" : "(size_t)\(rows) * ")\(features));")
    case .activation, .add, .mul, .scale, .blend:
      nameRows()
      guard let e = elementwise(node.op, operands.indices.map(element)) else {
        preconditionFailure("op '\(node.op.mnemonic)' has no elementwise form")
      }
      if single {
        w.line("for (int i = 0; i < \(features); i++) \(target()) = \(e);")
      } else {
        loop(&w) { w in w.line("\(target()) = \(e);") }
      }
    case .argument, .parameter, .slice, .gru, .dense, .sequenceLayer, .scan, .linearUnshared, .reduce, .mask, .hold, .reverseTime,
      .gradient:
      // Views, high-level ops and time-axis ops: the function emitters handle these themselves.
      preconditionFailure("op '\(node.op.mnemonic)' is not a vector op")
    }
  }

  /// The name of a row pointer into `pointer`: `h_b` for `h`, `row` for an expression.
  static func rowName(_ pointer: String) -> String {
    var p = Substring(pointer)
    while p.hasPrefix("(") && p.hasSuffix(")") { p = p.dropFirst().dropLast() }
    let identifier = !p.isEmpty && p.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    return identifier ? "\(p)_b" : "row"
  }
}
