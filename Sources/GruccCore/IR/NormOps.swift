// The normalisation op of the IR: `batchnorm` and `layernorm` over the features of each step
// (Specs/LANGUAGE.md, "batchnorm", "layernorm"). IRGen makes it with one operand, the sequence,
// and ParameterSpecs names its tensors; fold-batchnorm may fold a batchnorm into the weights of
// the product that reads it, and lower-dense gives the ops that stay their tensors as operands
// (as it does for a conv1d), the form the C backend emits.

/// A `batchnorm` or `layernorm` layer. Operands: x `[B, T, C]`, then, once lower-dense has
/// run, its parameters in `parameterNames` order (gamma, beta, mean, variance; each `[C]`).
public struct NormOp: Sendable {
  public var layer: NormLayer

  public var kind: NormKind { layer.kind }

  /// The tensors the layer reads, in operand order: `n.gamma` (unless `scale no`), `n.beta`
  /// (unless `center no`), and for a batchnorm `n.mean` and `n.variance`.
  public var parameterNames: [String] { parameterRoles.map { "\(layer.name).\($0.leaf)" } }

  /// Each tensor's leaf name (`gamma`) and what it is, in operand order.
  var parameterRoles: [(leaf: String, role: String)] {
    let what = "\(layer.kind.keyword) '\(layer.name)'"
    var roles: [(String, String)] = []
    if layer.scale { roles.append(("gamma", "\(what): scale gamma")) }
    if layer.center { roles.append(("beta", "\(what): offset beta")) }
    if layer.kind == .batch {
      roles.append(("mean", "\(what): running mean"))
      roles.append(("variance", "\(what): running variance"))
    }
    return roles
  }

  /// The op's name in IR dumps.
  var mnemonic: String { layer.kind.keyword }

  /// The result type: x's, after checking the operands.
  static func resultTypes(_ n: NormOp, _ t: [TensorType]) throws(TypeError) -> [TensorType] {
    let parameters = n.parameterNames.count
    guard t.count == 1 || t.count == 1 + parameters else {
      throw .internal("'\(n.mnemonic)' takes 1 or \(1 + parameters) operands, got \(t.count)")
    }
    guard t[0].isSequence else {
      throw .user(.expectedSequence(function: n.mnemonic, found: t[0].userDescription))
    }
    let channel = TensorType(t[0].dtype, [.fixed(t[0].features)])
    for (k, p) in t.dropFirst().enumerated() where p != channel {
      throw .internal("\(n.mnemonic) '\(n.layer.name)': \(n.parameterNames[k]) is \(p), expected \(channel)")
    }
    return [t[0]]
  }
}

extension NormOp {
  /// The op's attributes in IR dumps.
  var attributeText: String {
    var parts = ["layer = \(layer.name)", "epsilon = \(layer.epsilon)"]
    if !layer.scale { parts.append("scale = no") }
    if !layer.center { parts.append("center = no") }
    return parts.joined(separator: ", ")
  }

  /// The layer in one line, for generated-file headers.
  var summary: String {
    var s = "\(layer.kind.keyword) \(layer.name) = \(layer.source) -> epsilon \(layer.epsilon)"
    if !layer.scale { s += ", scale no" }
    if !layer.center { s += ", center no" }
    return s
  }

  /// The tensors the layer needs, each `[C]` for a source of C features.
  func parameterSpecs(channels: Int) -> [ParameterSpec] {
    parameterRoles.map { p in
      ParameterSpec(
        name: "\(layer.name).\(p.leaf)", shape: [channels], role: p.role, fanIn: channels,
        isBias: p.leaf == "beta" || p.leaf == "mean",
        initial: .constant(p.leaf == "gamma" || p.leaf == "variance" ? 1 : 0))
    }
  }
}

extension NormOp {
  /// The op with its tensors as operands (lower-dense); nil when it has them already.
  func lowered(_ node: Node, _ r: inout GraphRewriter) -> [ValueRef]? {
    guard node.operands.count == 1 else { return nil }
    let tensors = parameterNames.map { r.builder.add(.parameter(name: $0), [], range: node.range) }
    return [r.builder.add(node.op, [r.map(node.operands[0])] + tensors, range: node.range, hint: node.hint)]
  }
}
