// Lowers each high-level `dense` op to a `linear` (shared weights) or `linear_unshared` (one
// weight set per step) on the binding's parameters `<name>.w` and `<name>.b`.

/// Requires: shapes inferred, weights bound. Guarantees: no `dense` op remains, and every norm op
/// (batchnorm, layernorm) has its tensors as operands.
public struct LowerDense: Pass {
  public let name = "lower-dense"

  public init() {}

  public func run(_ module: Module, diagnostics: inout DiagnosticEngine) -> Module {
    var result = module
    result.graph = GraphRewriter.rewrite(module.graph, module: module) { r, _, node in
      if case .norm(let n) = node.op { return n.lowered(node, &r) }
      guard case .dense(let d) = node.op else { return nil }
      let w = r.builder.add(.parameter(name: "\(d.name).w"), [], range: node.range)
      let b = r.builder.add(.parameter(name: "\(d.name).b"), [], range: node.range)
      let op: Op = d.unshared ? .linearUnshared : .linear
      return [r.builder.add(op, [r.map(node.operands[0]), w, b], range: node.range, hint: node.hint ?? d.name)]
    }
    return result
  }
}
