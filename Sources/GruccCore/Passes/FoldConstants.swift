// Constant folding: a `concat` of parameters becomes one new parameter, so the weights of fused
// products are a single array in the generated C instead of being copied at run time.

/// Requires: shapes inferred. Guarantees: no top-level `concat` has only parameter operands. The
/// new parameter takes the concat's hint as its name (`h.w_rzn`), made unique if needed.
public struct FoldConstants: Pass {
  public let name = "fold-constants"

  public init() {}

  public func run(_ module: Module, diagnostics: inout DiagnosticEngine) -> Module {
    var result = module
    let graph = module.graph
    // First find the foldable nodes and make their parameters, so the rewrite can type the new
    // parameter nodes against the extended table.
    var folded: [Int: String] = [:]
    for (i, node) in graph.nodes.enumerated() {
      guard case .concat(let axis) = node.op else { continue }
      let sources = node.operands.map { v -> Parameter? in
        if case .parameter(let name) = graph.nodes[v.node].op { return module.parameter(named: name) }
        return nil
      }
      guard sources.allSatisfy({ $0 != nil }) else { continue }
      let parameters = sources.map { $0! }
      var name = node.hint ?? "folded\(i)"
      var suffix = 2
      while result.parameter(named: name) != nil {
        name = "\(node.hint ?? "folded\(i)")\(suffix)"
        suffix += 1
      }
      result.parameters.append(concatenate(parameters, axis: axis, name: name))
      folded[i] = name
    }
    guard !folded.isEmpty else { return module }
    result.graph = GraphRewriter.rewrite(graph, module: result) { r, index, node in
      guard let name = folded[index] else { return nil }
      return [r.builder.add(.parameter(name: name), [], range: node.range)]
    }
    return result
  }

  /// Joins parameter values along `axis` of their row-major shapes.
  private func concatenate(_ parts: [Parameter], axis: Int, name: String) -> Parameter {
    let (shape, values) = RowMajor.concatenate(parts.map { ($0.shape, $0.values) }, axis: axis)
    let role = "stacked along axis \(axis): " + parts.map(\.name).joined(separator: " | ")
    return Parameter(name: name, shape: shape, values: values, role: role)
  }
}
