// C for the ops that act on one vector (one batch element at one step): the body of every
// generated function is made of these statements. Op → C is one small case each.

/// How an IR value is reached from C inside one generated function.
enum CValue {
  /// A pointer to `features` contiguous values.
  case vector(String)
  /// A sequence: row t starts at `pointer + t * stride`.
  case sequence(pointer: String, stride: String)
  /// A vector of zeros not yet materialised (an initial state).
  case zero
  /// A weight array.
  case weights(String)
  /// The lengths (the function's `len`).
  case lengths
  /// A value this function cannot see (a caller-given initial state while streaming).
  case unavailable

  var pointer: String {
    switch self {
    case .vector(let p), .weights(let p), .sequence(let p, _): return p
    case .zero, .lengths, .unavailable: preconditionFailure("value has no pointer")
    }
  }
}

/// Emits vector statements and records which kernels they call.
struct CVectorCode {
  let iface: CInterface
  var kernels: CKernels = []

  init(_ iface: CInterface) { self.iface = iface }

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
      case .tanh: return "\(tanhName)(\(a[0]))"
      case .relu: return "(\(a[0]) > \(literal(0)) ? \(a[0]) : \(literal(0)))"
      case .softmax: return nil
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
    case .argument, .parameter, .zeros, .gru, .dense, .scan, .linear, .linearUnshared, .slice, .concat, .reduce, .mask:
      return nil
    }
  }

  /// The node's operands with every not-yet-materialised zero vector turned into a zeroed local
  /// array of that operand's size, so an op can read it through a pointer.
  func materialisingZeros(
    _ operands: [CValue], of node: Node, graph: Graph, locals: inout LocalNames, w: inout CWriter
  ) -> [CValue] {
    operands.enumerated().map { k, v in
      guard case .zero = v else { return v }
      let name = locals.fresh("zeros")
      w.line("\(real) \(name)[\(graph.type(of: node.operands[k])?.features ?? 0)];")
      w.line("memset(\(name), 0, sizeof \(name));")
      return .vector(name)
    }
  }

  /// Emits `dest (features) = op(operands)` for one vector. Operands are pointers (or weights).
  mutating func emit(_ node: Node, graph: Graph, operands: [CValue], dest: String, w: inout CWriter) {
    let features = node.types[0]?.features ?? 0
    switch node.op {
    case .linear:
      kernels.insert(.linear)
      let k = graph.type(of: node.operands[0])?.features ?? 0
      let bias = operands.count > 2 ? operands[2].pointer : "NULL"
      w.line("\(iface.names.global("linear"))(\(dest), \(operands[1].pointer), \(bias), \(operands[0].pointer), \(features), \(k));")
    case .activation(.softmax):
      kernels.insert(.softmax)
      w.line("\(iface.names.global("softmax"))(\(dest), \(operands[0].pointer), \(features));")
    case .concat:
      var offset = 0
      for (k, v) in node.operands.enumerated() {
        let f = graph.type(of: v)?.features ?? 0
        w.line("memcpy(\(dest) + \(offset), \(operands[k].pointer), sizeof(\(real)) * \(f));")
        offset += f
      }
    case .zeros:
      w.line("memset(\(dest), 0, sizeof(\(real)) * \(features));")
    case .activation, .add, .mul, .scale, .blend:
      guard let e = elementwise(node.op, operands.map { "\($0.pointer)[i]" }) else {
        preconditionFailure("op '\(node.op.mnemonic)' has no elementwise form")
      }
      w.line("for (int i = 0; i < \(features); i++) \(dest)[i] = \(e);")
    case .argument, .parameter, .slice, .gru, .dense, .scan, .linearUnshared, .reduce, .mask:
      // Views, high-level ops and time-axis ops: the function emitters handle these themselves.
      preconditionFailure("op '\(node.op.mnemonic)' is not a vector op")
    }
  }
}
