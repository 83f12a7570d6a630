// The typing rule of every op: result types from operand types. ShapeInference uses it to fill in
// types, the verifier to check them, and passes to type the nodes they build.

/// Why an op's operands do not fit it. User-facing problems carry a catalogue message; internal
/// ones (a pass built something wrong) carry text for the verifier.
public enum TypeError: Error, Sendable {
  case user(DiagnosticMessage)
  case `internal`(String)

  public var message: DiagnosticMessage {
    switch self {
    case .user(let m): return m
    case .internal(let s): return .internalError(s)
    }
  }
}

public enum TypeRules {
  /// The result types of `op` applied to operands of `operandTypes`, in `module`'s context.
  public static func infer(_ op: Op, _ operandTypes: [TensorType], module: Module) throws(TypeError) -> [TensorType] {
    let t = operandTypes
    func count(_ allowed: ClosedRange<Int>) throws(TypeError) {
      guard allowed.contains(t.count) else {
        throw .internal("'\(op.mnemonic)' takes \(allowed) operands, got \(t.count)")
      }
    }
    switch op {
    case .argument(_, let type):
      try count(0...0)
      return [type]
    case .parameter(let name):
      try count(0...0)
      guard let p = module.parameter(named: name) else { throw .internal("unknown parameter @\(name)") }
      return [TensorType(module.dtype, p.shape.map { .fixed($0) })]
    case .zeros(let type):
      try count(0...0)
      return [type]
    case .gru(let g):
      try count(1...3)
      guard t[0].isSequence else { throw .user(.expectedSequence(function: "gru", found: t[0].userDescription)) }
      let expected = 1 + (g.hasLengths ? 1 : 0) + (g.hasInitialState ? 1 : 0)
      guard t.count == expected else { throw .internal("gru '\(g.layer.name)' has \(t.count) operands, expected \(expected)") }
      let stateSize = g.layer.hidden * g.layer.directions
      if g.hasLengths { try requireLengths(t[1]) }
      if g.hasInitialState {
        let h0 = t[t.count - 1]
        guard h0 == TensorType(t[0].dtype, [.batch, .fixed(stateSize)]) else {
          throw .internal("initial state of '\(g.layer.name)' has type \(h0)")
        }
      }
      let outFeatures = g.layer.hidden * (g.layer.direction == .bidirectional && g.layer.merge == .concat ? 2 : 1)
      return [t[0].withFeatures(outFeatures), TensorType(t[0].dtype, [.batch, .fixed(stateSize)])]
    case .dense(let d):
      try count(1...1)
      if d.unshared {
        guard t[0].isSequence else { throw .user(.expectedSequence(function: "dense(..., unshared)", found: t[0].userDescription)) }
        guard t[0].dims[1].fixedValue != nil else { throw .user(.unsharedNeedsFixedSteps(d.name)) }
      } else {
        guard t[0].isSequence || t[0].isVector else { throw .internal("dense on \(t[0])") }
      }
      return [t[0].withFeatures(d.units)]
    case .sequenceLayer(let l):
      return try l.types(t)
    case .norm(let n):
      return try NormOp.resultTypes(n, t)
    case .scan(let s):
      return try scanTypes(s, t)
    case .linear:
      try count(2...3)
      let (x, w) = (t[0], t[1])
      guard w.rank == 2, let n = w.dims[0].fixedValue, w.dims[1].fixedValue == x.features, x.dtype == w.dtype else {
        throw .internal("linear: weight \(w) does not fit input \(x)")
      }
      if t.count == 3 {
        guard t[2] == TensorType(x.dtype, [.fixed(n)]) else { throw .internal("linear: bias \(t[2]) for \(n) outputs") }
      }
      return [x.withFeatures(n)]
    case .packedLinear(let p):
      try count(2...3)
      let (x, w) = (t[0], t[1])
      guard p.panel >= 1, p.outputs >= 1, w.rank == 2, w.dims[0] == .fixed(p.outputs), w.dims[1].fixedValue == x.features,
        x.dtype == w.dtype
      else { throw .internal("linear_packed: weight \(w) does not fit input \(x) and \(p.outputs) outputs in panels of \(p.panel)") }
      if t.count == 3 {
        guard t[2] == TensorType(x.dtype, [.fixed(p.outputs)]) else {
          throw .internal("linear_packed: bias \(t[2]) for \(p.outputs) outputs")
        }
      }
      return [x.withFeatures(p.outputs)]
    case .fused(let f):
      guard let first = t.first, !f.steps.isEmpty else { throw .internal("fused op without operands or steps") }
      for x in t where x != first { throw .internal("fused operands \(first) and \(x) differ") }
      for (i, step) in f.steps.enumerated() {
        guard step.op.isElementwise else { throw .internal("fused step \(i) is '\(step.op.mnemonic)', not elementwise") }
        for input in step.inputs {
          switch input {
          case .operand(let k): guard k >= 0, k < t.count else { throw .internal("fused step \(i) reads operand \(k)") }
          case .step(let j): guard j >= 0, j < i else { throw .internal("fused step \(i) reads step \(j)") }
          }
        }
        let arity: Int
        switch step.op {
        case .activation, .scale: arity = 1
        case .add, .mul: arity = 2
        case .blend: arity = 3
        case .argument, .parameter, .zeros, .gru, .dense, .sequenceLayer, .norm, .scan, .linear, .packedLinear, .linearUnshared, .slice, .concat,
          .reduce, .mask, .hold, .reverseTime, .fused, .gradient:
          throw .internal("fused step \(i) is '\(step.op.mnemonic)', not elementwise")
        }
        guard step.inputs.count == arity else { throw .internal("fused step \(i) has \(step.inputs.count) inputs") }
      }
      return [first]
    case .gradient(let g):
      return [try gradientType(g, t)]
    case .linearUnshared:
      try count(2...3)
      let (x, w) = (t[0], t[1])
      guard x.isSequence, let steps = x.dims[1].fixedValue, w.rank == 3, w.dims[0] == .fixed(steps),
        let n = w.dims[1].fixedValue, w.dims[2].fixedValue == x.features
      else { throw .internal("linear_unshared: weight \(w) does not fit input \(x)") }
      if t.count == 3 {
        guard t[2] == TensorType(x.dtype, [.fixed(steps), .fixed(n)]) else {
          throw .internal("linear_unshared: bias \(t[2])")
        }
      }
      return [x.withFeatures(n)]
    case .activation:
      try count(1...1)
      return [t[0]]
    case .add, .mul:
      try count(2...2)
      guard t[0] == t[1] else { throw .internal("'\(op.mnemonic)' of \(t[0]) and \(t[1])") }
      return [t[0]]
    case .scale:
      try count(1...1)
      return [t[0]]
    case .blend:
      try count(3...3)
      guard t[0] == t[1], t[1] == t[2] else { throw .internal("blend of \(t[0]), \(t[1]), \(t[2])") }
      return [t[0]]
    case .slice(let start, let n):
      try count(1...1)
      guard start >= 0, n >= 1, start + n <= t[0].features else {
        throw .internal("slice \(start)..<\(start + n) of \(t[0])")
      }
      return [t[0].withFeatures(n)]
    case .concat(let axis):
      try count(1...64)
      let first = t[0]
      guard axis >= 0, axis < first.rank else { throw .internal("concat axis \(axis) of \(first)") }
      var total = 0
      for x in t {
        guard x.dtype == first.dtype, x.rank == first.rank, let n = x.dims[axis].fixedValue else {
          throw .internal("concat of \(first) and \(x)")
        }
        for i in 0..<x.rank where i != axis && x.dims[i] != first.dims[i] {
          throw .internal("concat of \(first) and \(x)")
        }
        total += n
      }
      var result = first
      result.dims[axis] = .fixed(total)
      return [result]
    case .reduce(let r):
      try count(1...2)
      guard t[0].isSequence else { throw .user(.expectedSequence(function: r.rawValue, found: t[0].userDescription)) }
      if t.count == 2 { try requireLengths(t[1]) }
      return [t[0].stepType]
    case .mask:
      try count(2...2)
      guard t[0].isSequence else { throw .internal("mask of \(t[0])") }
      try requireLengths(t[1])
      return [t[0]]
    case .hold:
      try count(2...2)
      guard t[0].isSequence else { throw .internal("hold of \(t[0])") }
      try requireLengths(t[1])
      return [t[0]]
    case .reverseTime:
      try count(1...2)
      guard t[0].isSequence else { throw .internal("reverse_time of \(t[0])") }
      if t.count == 2 { try requireLengths(t[1]) }
      return [t[0]]
    }
  }

  private static func gradientType(_ g: GradientOp, _ t: [TensorType]) throws(TypeError) -> TensorType {
    func fail() -> TypeError { .internal("'\(g.mnemonic)' of \(t.map(\.description).joined(separator: ", "))") }
    switch g {
    case .linearInput:
      guard t.count == 2, t[1].rank == 2, t[1].dims[0].fixedValue == t[0].features, let k = t[1].dims[1].fixedValue
      else { throw fail() }
      return t[0].withFeatures(k)
    case .linearWeight:
      guard t.count == 2, t[0].rank == t[1].rank, Array(t[0].dims.dropLast()) == Array(t[1].dims.dropLast()) else { throw fail() }
      return TensorType(t[0].dtype, [.fixed(t[1].features), .fixed(t[0].features)])
    case .sumRows:
      guard t.count == 1 else { throw fail() }
      return TensorType(t[0].dtype, [.fixed(t[0].features)])
    case .unsharedInput:
      guard t.count == 2, t[0].isSequence, t[1].rank == 3, t[1].dims[0] == t[0].dims[1], t[1].dims[1].fixedValue == t[0].features,
        let k = t[1].dims[2].fixedValue
      else { throw fail() }
      return t[0].withFeatures(k)
    case .unsharedWeight:
      guard t.count == 2, t[0].isSequence, t[1].isSequence, t[0].dims[1] == t[1].dims[1], t[0].dims[1].fixedValue != nil
      else { throw fail() }
      return TensorType(t[0].dtype, [t[0].dims[1], .fixed(t[1].features), .fixed(t[0].features)])
    case .sumBatch:
      guard t.count == 1, t[0].isSequence, t[0].dims[1].fixedValue != nil else { throw fail() }
      return TensorType(t[0].dtype, [t[0].dims[1], .fixed(t[0].features)])
    case .activation:
      guard t.count == 2, t[0] == t[1] else { throw fail() }
      return t[0]
    case .reduce:
      guard t.count == 2 || t.count == 3, t[0].isSequence, t[1] == t[0].stepType else { throw fail() }
      if t.count == 3 { try requireLengths(t[2]) }
      return t[0]
    case .hold:
      guard t.count == 2, t[0].isSequence else { throw fail() }
      try requireLengths(t[1])
      return t[0]
    }
  }

  private static func requireLengths(_ t: TensorType) throws(TypeError) {
    guard t == TensorType(.i32, [.batch]) else { throw .internal("lengths have type \(t), expected i32[B]") }
  }

  private static func scanTypes(_ s: Scan, _ t: [TensorType]) throws(TypeError) -> [TensorType] {
    let expected = s.sequences + s.states + (s.hasLengths ? 1 : 0)
    guard s.sequences >= 1, t.count == expected else {
      throw .internal("scan '\(s.name)' has \(t.count) operands, expected \(expected)")
    }
    let time = t[0].dims.count == 3 ? t[0].dims[1] : .time
    let arguments = s.body.argumentNodes
    guard arguments.count == s.sequences + s.states else {
      throw .internal("scan '\(s.name)' body has \(arguments.count) arguments, expected \(s.sequences + s.states)")
    }
    for i in 0..<(s.sequences + s.states) {
      let operand = t[i]
      if i < s.sequences {
        guard operand.isSequence, operand.dims[1] == time else { throw .internal("scan sequence operand \(i) is \(operand)") }
      }
      let want = i < s.sequences ? operand.stepType : operand
      guard s.body.type(of: ValueRef(arguments[i])) == want else {
        throw .internal("scan '\(s.name)' body argument \(i) does not have type \(want)")
      }
    }
    if s.hasLengths { try requireLengths(t[t.count - 1]) }
    guard s.body.outputs.count >= s.states else { throw .internal("scan '\(s.name)' yields too few values") }
    var results: [TensorType] = []
    for (i, out) in s.body.outputs.enumerated() {
      guard let type = s.body.type(of: out.value), type.isVector else {
        throw .internal("scan '\(s.name)' yields an untyped or non-vector value")
      }
      if i < s.states {
        guard type == t[s.sequences + i] else { throw .internal("scan '\(s.name)' state \(i) changes type") }
        results.append(type)
      } else {
        results.append(TensorType(type.dtype, [.batch, time, type.dims[1]]))
      }
    }
    return results
  }
}
