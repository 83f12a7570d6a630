// The IR op of a conv1d (pad, pool) statement: one op whose operands are the input sequence and,
// once `lower-dense` has bound them, its parameters (a conv1d's `NAME.w` and, with a bias,
// `NAME.b`). It stays one op to the end: the interpreter and the C compute it whole.

/// A sequence layer in the IR. Operands: x `[B, T, C]`, then (lowered) the parameters.
public struct SequenceLayerOp: Sendable {
  public var name: String
  public var kind: SequenceLayerKind

  /// The parameters a lowered op takes after x, by name.
  public var parameterNames: [String] {
    switch kind {
    case .conv1d(let c): return c.bias ? ["\(name).w", "\(name).b"] : ["\(name).w"]
    case .pad, .pool: return []
    case .norm(let n): return NormOp(layer: n).parameterNames
    }
  }

  /// The steps of the output for `steps` input steps.
  public func outputSteps(_ steps: Int, inChannels: Int) -> Int {
    switch kind {
    case .conv1d(let c): return c.geometry(inChannels: inChannels).outputSteps(steps)
    case .pad(let before, let after): return steps + before + after
    case .pool(let p): return p.outputSteps(steps)
    case .norm: return steps
    }
  }

  /// Whether the output has as many steps as the input, whatever T is.
  public var keepsSteps: Bool {
    switch kind {
    case .conv1d(let c): return c.stride == 1 && (c.padding != .valid || c.kernel == 1)
    case .pad(let before, let after): return before + after == 0
    case .pool(let p): return p.stride == 1 && (p.padding == .same || p.size == 1)
    case .norm: return true
    }
  }

  /// The output's steps as a C expression of the input's (`t`, parenthesised).
  public func outputStepsC(_ t: String) -> String {
    switch kind {
    case .conv1d(let c):
      let s = c.stride
      let span = (c.kernel - 1) * c.dilation + 1
      switch c.padding {
      case .causal: return s == 1 ? t : "(\(t) == 0 ? 0 : (\(t) - 1) / \(s) + 1)"
      case .same: return s == 1 ? t : "((\(t) + \(s - 1)) / \(s))"
      case .valid: return span == 1 && s == 1 ? t : "(\(t) < \(span) ? 0 : (\(t) - \(span)) / \(s) + 1)"
      }
    case .pad(let before, let after): return before + after == 0 ? t : "(\(t) + \(before + after))"
    case .pool(let p):
      let (n, s) = (p.size, p.stride)
      switch p.padding {
      case .valid: return n == 1 && s == 1 ? t : "(\(t) < \(n) ? 0 : (\(t) - \(n)) / \(s) + 1)"
      case .same: return s == 1 ? t : "((\(t) + \(s - 1)) / \(s))"
      }
    case .norm: return t
    }
  }

  func types(_ t: [TensorType]) throws(TypeError) -> [TensorType] {
    guard let x = t.first, t.count == 1 || t.count == 1 + parameterNames.count else {
      throw .internal("\(kind.keyword) '\(name)' has \(t.count) operands")
    }
    guard x.isSequence else { throw .user(.expectedSequence(function: kind.keyword, found: x.userDescription)) }
    var time = x.dims[1]
    switch kind {
    case .conv1d(let c):
      let g = c.geometry(inChannels: x.features)
      if let problem = g.problem { throw .user(.badLayerGeometry(layer: name, problem)) }
      if t.count > 1 {
        guard t[1] == TensorType(x.dtype, [.fixed(c.filters), .fixed(x.features / c.groups), .fixed(c.kernel)]) else {
          throw .internal("conv1d '\(name)': weight \(t[1]) for input \(x)")
        }
        if c.bias, t[2] != TensorType(x.dtype, [.fixed(c.filters)]) {
          throw .internal("conv1d '\(name)': bias \(t[2])")
        }
      }
      if let steps = time.fixedValue {
        let out = g.outputSteps(steps)
        guard out >= 1 else {
          throw .user(.badLayerGeometry(
            layer: name, "its \(steps) input steps are fewer than the \(g.span) the kernel spans, so it has no output"))
        }
        time = .fixed(out)
      }
      return [TensorType(x.dtype, [.batch, time, .fixed(c.filters)])]
    case .pad, .pool:
      guard t.count == 1 else { throw .internal("\(kind.keyword) '\(name)' takes no parameters") }
      if let steps = time.fixedValue {
        let out = outputSteps(steps, inChannels: x.features)
        guard out >= 1 else {
          throw .user(.badLayerGeometry(layer: name, "its \(steps) input steps are fewer than its window, so it has no output"))
        }
        time = .fixed(out)
      }
      return [TensorType(x.dtype, [.batch, time, .fixed(x.features)])]
    case .norm(let n):
      return try NormOp.resultTypes(NormOp(layer: n), t)
    }
  }
}

/// The steps of a chain of sequence layers as a C expression of T that names T (or the last
/// stride's result) once, so that a deep chain stays linear in size (`outputStepsC` names its
/// input twice: nested, 26 layers made a header macro of 2^26 terms). Stride-1 layers only move
/// a constant `shift`; a stride divides the signed running value, which is ≤ 0 once a layer has
/// no output (run_batch refuses such a T; the clamped result is then a size, not an error).
public struct StepsFormula: Sendable {
  /// The value after the last stride, a signed (`long`) C expression of T, or nil: T itself.
  var strided: String?
  var shift = 0

  public init() {}

  public func after(_ op: SequenceLayerOp) -> StepsFormula {
    var f = self
    func divide(_ s: Int, taking span: Int) {
      let t = f.signed
      f = StepsFormula()
      f.strided = span == s ? "(\(t) / \(s))" : "((\(t) \(s > span ? "+" : "-") \(abs(s - span))) / \(s))"
    }
    switch op.kind {
    case .conv1d(let c):
      let span = (c.kernel - 1) * c.dilation + 1
      switch c.padding {
      case .causal, .same: if c.stride > 1 { divide(c.stride, taking: 1) }
      case .valid: if c.stride > 1 { divide(c.stride, taking: span) } else { f.shift -= span - 1 }
      }
    case .pad(let before, let after):
      f.shift += before + after
    case .pool(let p):
      switch p.padding {
      case .same: if p.stride > 1 { divide(p.stride, taking: 1) }
      case .valid: if p.stride > 1 { divide(p.stride, taking: p.size) } else { f.shift -= p.size - 1 }
      }
    case .norm:
      break
    }
    return f
  }

  /// The running value as a signed C expression of the macro parameter `(T)`.
  var signed: String {
    let base = strided ?? "(long)(T)"
    return shift == 0 ? base : "(\(base) \(shift > 0 ? "+" : "-") \(abs(shift)))"
  }

  /// The steps as a size_t C expression of the macro parameter `(T)`, at least 0.
  public var c: String {
    guard strided != nil else {
      if shift == 0 { return "(T)" }
      return shift > 0 ? "((size_t)(T) + \(shift))" : "((T) > \(-shift) ? (size_t)(T) - \(-shift) : 0)"
    }
    return "(\(signed) > 0 ? (size_t)\(signed) : 0)"
  }
}

extension Graph {
  /// Whether each node is a sequence layer of the chain from the input, which run_batch computes
  /// before the sequence function (and `step` before the gru layers). The others, after a gru
  /// layer, are computed inside the sequence function, in graph order.
  public var frontEndLayers: [Bool] {
    var result = Array(repeating: false, count: nodes.count)
    for (i, node) in nodes.enumerated() {
      guard case .sequenceLayer = node.op, let x = node.operands.first else { continue }
      if case .argument = nodes[x.node].op { result[i] = true } else { result[i] = result[x.node] }
    }
    return result
  }

  /// For each node, the layer after a gru layer whose output steps it has (the number of steps
  /// changed by that layer's stride, padding or window), or nil for the steps the sequence function
  /// is called with. Sema gives every sequence output the same count.
  public var stepDomains: [Int?] {
    let front = frontEndLayers
    var result = [Int?](repeating: nil, count: nodes.count)
    for (i, node) in nodes.enumerated() {
      if case .sequenceLayer(let l) = node.op, !front[i] {
        result[i] = l.keepsSteps ? result[node.operands[0].node] : i
        continue
      }
      guard node.types.contains(where: { $0?.isSequence == true }) else { continue }
      result[i] = node.operands.lazy.filter { self.type(of: $0)?.isSequence == true }.first.flatMap { result[$0.node] }
    }
    return result
  }
}
