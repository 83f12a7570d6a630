// `grucc check` for the normalisation layers: each layer's tensors, and what it costs per step
// in the optimised model (nothing once fold-batchnorm has folded it into a product).

enum NormReport {
  /// Where the optimised module still computes the layer, or nil when it was folded away.
  static func kept(_ n: NormOp, in optimised: Module) -> Bool {
    optimised.graph.nodes.contains { node in
      if case .norm(let kept) = node.op { return kept.layer.name == n.layer.name } else { return false }
    }
  }

  /// The work of one step of one sequence.
  static func cost(_ n: NormOp, channels c: Int, source: Op, optimised: Module) -> String {
    guard kept(n, in: optimised) else {
      if case .sequenceLayer(let conv) = source {
        return "folded into the weights and bias of conv1d '\(conv.name)' (fold-batchnorm): no work per step"
      }
      return "folded into the input weights of the gru layers that read it (fold-batchnorm): no work per step"
    }
    switch n.kind {
    case .batch: return "per step \(c) square roots, \(c) divisions and \(4 * c) multiplies and adds"
    case .layer: return "per step 1 square root, \(c) divisions and \(6 * c + 1) multiplies and adds"
    }
  }

  /// The report's lines for one layer: what it is, its type, its tensors and its cost.
  static func text(_ n: NormOp, node: Node, graph: Graph, optimised: Module) -> String {
    let specs = ParameterSpecs.required(by: node, in: graph)
    let c = graph.type(of: node.operands[0])?.features ?? 0
    let types = node.types.compactMap { $0?.description }.joined(separator: ", ")
    var out = "  \(n.summary)\n"
    out += "      output: \(types); \(specs.reduce(0) { $0 + $1.shape.reduce(1, *) }) parameters; "
      + cost(n, channels: c, source: graph.nodes[node.operands[0].node].op, optimised: optimised) + "\n"
    out += "      tensors:" + specs.map { " \($0.name) \(shapeText($0.shape))" }.joined() + "\n"
    return out
  }

  /// The layer as an object of `grucc check --json`'s layers.
  static func json(_ n: NormOp, node: Node, graph: Graph, optimised: Module) -> JSONValue {
    let specs = ParameterSpecs.required(by: node, in: graph)
    return .object([
      ("kind", .string(n.kind.keyword)), ("name", .string(n.layer.name)), ("description", .string(n.summary)),
      ("parameters", .int(specs.reduce(0) { $0 + $1.shape.reduce(1, *) })),
      ("tensors", .array(specs.map { .object([("name", .string($0.name)), ("shape", .array($0.shape.map(JSONValue.int)))]) })),
      ("folded", .bool(!kept(n, in: optimised))),
    ])
  }
}
