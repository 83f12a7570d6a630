// Fusion: the recurrent products of one step that read the same vector (U_r h, U_z h and, unless
// the reset gate acts before U_n, U_n h) become one product with the gates' weights stacked, so
// each step streams one weight matrix instead of three.

/// Requires: GRUs lowered. Guarantees: in every scan body, no two `linear`s with parameter weights
/// read the same value; each such group is one `linear` whose weights (and biases) are the
/// members' stacked by rows, and each member is a slice of its result. When only some members
/// have a bias, the others get a zero bias (`h.u_r.no_bias`): adding zero changes no value.
///
/// Identity: `[U_r; U_z; U_n] h + [b_hr; b_hz; b_hn]` stacks `U_g h + b_hg`, row for row, each row
/// summed in the same order, so the slices are exactly the separate products.
public struct MergeRecurrentProducts: Pass {
  public let name = "merge-recurrent-products"

  public init() {}

  public func run(_ module: Module, diagnostics: inout DiagnosticEngine) -> Module {
    var result = module
    result.graph = module.graph.mappingScanBodies { merge($0, module: &result) }
    return result
  }

  /// A `linear` whose weight (and bias, if any) are parameters.
  private struct Product {
    var node: Int
    var weight: String
    var bias: String?
    var rows: Int
  }

  private func products(_ graph: Graph) -> [Product] {
    graph.nodes.indices.compactMap { i in
      let node = graph.nodes[i]
      guard case .linear = node.op, case .parameter(let weight) = graph.nodes[node.operands[1].node].op,
        let rows = graph.type(of: ValueRef(i))?.features
      else { return nil }
      var bias: String?
      if node.operands.count == 3 {
        guard case .parameter(let b) = graph.nodes[node.operands[2].node].op else { return nil }
        bias = b
      }
      return Product(node: i, weight: weight, bias: bias, rows: rows)
    }
  }

  private func merge(_ body: Graph, module: inout Module) -> Graph {
    var groups: [[Product]] = []
    for p in products(body) {
      let input = body.nodes[p.node].operands[0]
      if let g = groups.firstIndex(where: { body.nodes[$0[0].node].operands[0] == input }) {
        groups[g].append(p)
      } else {
        groups.append([p])
      }
    }
    groups.removeAll { $0.count < 2 }
    guard !groups.isEmpty else { return body }
    // Zero biases for the members without one, where others have one.
    for g in groups.indices where groups[g].contains(where: { $0.bias != nil }) {
      for k in groups[g].indices where groups[g][k].bias == nil {
        let name = "\(groups[g][k].weight).no_bias"
        if module.parameter(named: name) == nil {
          module.appendParameter(Parameter(
            name: name, shape: [groups[g][k].rows], values: Array(repeating: 0, count: groups[g][k].rows),
            role: "zeros: '\(groups[g][k].weight)' has no bias, the products stacked with it have"))
        }
        groups[g][k].bias = name
      }
    }

    var merged: [Int: ValueRef] = [:]  // group index → the merged product in the new graph
    return GraphRewriter.rewrite(body, module: module) { r, index, node in
      guard let g = groups.firstIndex(where: { $0.contains { $0.node == index } }) else { return nil }
      let group = groups[g]
      if merged[g] == nil {
        // The first member's position: its input is defined here, and every member comes later.
        var operands = [r.map(node.operands[0]), r.stackedParameters(group.map(\.weight), range: node.range)]
        if group[0].bias != nil {
          // With zero biases in the stack, the stack is named after the weights: `h.u_rzn.bias`.
          let padded = group.contains { $0.bias!.hasSuffix(".no_bias") }
          let name = padded ? GraphRewriter.fusedName(group.map(\.weight)) + ".bias" : nil
          operands.append(r.stackedParameters(group.map { $0.bias! }, name: name, range: node.range))
        }
        let hint = GraphRewriter.fusedName(group.map { body.nodes[$0.node].hint ?? "h" })
        merged[g] = r.builder.add(.linear, operands, range: node.range, hint: hint)
      }
      let k = group.firstIndex { $0.node == index }!
      let start = group[..<k].reduce(0) { $0 + $1.rows }
      return [r.builder.add(.slice(start: start, count: group[k].rows), [merged[g]!], range: node.range, hint: node.hint)]
    }
  }
}
