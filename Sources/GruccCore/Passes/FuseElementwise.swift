// Fusion: chains of elementwise ops (the gates' sums and activations, the candidate, the state
// update) become one `fused` op, computed in one loop over the elements instead of one loop and
// one temporary array per op.

/// Requires: a verified module. Guarantees: in every graph, an elementwise node whose only users
/// are elementwise nodes of one fused group, with the same type, is inside that group; each group
/// of two or more is one `fused` node at the position of its last member.
///
/// Identity: the fused op computes each step with the same arithmetic in the same order, element
/// by element; only the temporaries between steps are gone.
public struct FuseElementwise: Pass {
  public let name = "fuse-elementwise"

  public init() {}

  public func run(_ module: Module, diagnostics: inout DiagnosticEngine) -> Module {
    var result = module
    result.graph = fuse(module.graph, module: module)
    return result
  }

  private func fuse(_ input: Graph, module: Module) -> Graph {
    let graph = input.mappingScanBodies { fuse($0, module: module) }
    let groups = self.groups(graph)
    guard !groups.isEmpty else { return graph }
    var root: [Int: [Int]] = [:]
    var member = Set<Int>()
    for g in groups {
      root[g[g.count - 1]] = g
      member.formUnion(g.dropLast())
    }
    return GraphRewriter.rewrite(graph, module: module) { r, index, node in
      // A member's users are all in its group, which reads it as a step: nothing maps it.
      if member.contains(index) { return [ValueRef(-1)] }
      guard let group = root[index] else { return nil }
      var operands: [ValueRef] = []
      var steps: [FusionStep] = []
      // Positions by dictionary, not by search: a chain of n elementwise lets is one group of n.
      let stepOf = Dictionary(uniqueKeysWithValues: group.enumerated().map { ($1, $0) })
      var operandOf: [ValueRef: Int] = [:]
      for m in group {
        let inputs = graph.nodes[m].operands.map { v -> FusionInput in
          if let j = stepOf[v.node] { return .step(j) }
          let mapped = r.map(v)
          if let k = operandOf[mapped] { return .operand(k) }
          operands.append(mapped)
          operandOf[mapped] = operands.count - 1
          return .operand(operands.count - 1)
        }
        steps.append(FusionStep(op: graph.nodes[m].op, inputs: inputs, hint: graph.nodes[m].hint))
      }
      return [r.builder.add(.fused(Fusion(steps: steps)), operands, range: node.range, hint: node.hint)]
    }
  }

  /// The groups to fuse, each in graph order (its root last), grown backwards from each root:
  /// an operand joins when it is elementwise, of the root's type, not an output, and used only
  /// inside the group.
  private func groups(_ graph: Graph) -> [[Int]] {
    var users = Array(repeating: [Int](), count: graph.nodes.count)
    for (i, node) in graph.nodes.enumerated() { for v in node.operands { users[v.node].append(i) } }
    var isOutput = Array(repeating: false, count: graph.nodes.count)
    for o in graph.outputs { isOutput[o.value.node] = true }
    func fusable(_ i: Int) -> Bool { graph.nodes[i].op.isElementwise && graph.nodes[i].types.count == 1 }

    var taken = Array(repeating: false, count: graph.nodes.count)
    var groups: [[Int]] = []
    for root in graph.nodes.indices.reversed() where fusable(root) && !taken[root] {
      let type = graph.nodes[root].types[0]
      var group: Set<Int> = [root]
      // An operand can only become eligible when the last of its users joins, and it is an
      // operand of that user: looking at each new member's operands once reaches the same group
      // as sweeping the whole group until nothing changes, in linear rather than quadratic time.
      var pending = [root]
      while let m = pending.popLast() {
        for v in graph.nodes[m].operands {
          let p = v.node
          guard !group.contains(p), !taken[p], fusable(p), graph.nodes[p].types[0] == type, !isOutput[p],
            users[p].allSatisfy(group.contains)
          else { continue }
          group.insert(p)
          pending.append(p)
        }
      }
      let ordered = group.sorted()
      for m in ordered { taken[m] = true }
      if ordered.count >= 2 { groups.append(ordered) }
    }
    return groups.reversed()
  }
}
