// Constant folding: a `concat` of parameters becomes one new parameter, so the weights of fused
// products are a single array in the generated C instead of being copied at run time.

/// Requires: shapes inferred. Guarantees: no `concat`, at top level or in a scan body, has only
/// parameter operands. The new parameter takes the concat's hint as its name (`h.w_rzn`), made
/// unique if needed.
public struct FoldConstants: Pass {
  public let name = "fold-constants"

  public init() {}

  public func run(_ module: Module, diagnostics: inout DiagnosticEngine) -> Module {
    var result = module
    result.graph = fold(module.graph, module: &result)
    return result
  }

  /// Folds the graph's concats of parameters, and those of its scan bodies, adding the new
  /// parameters to `module`.
  private func fold(_ input: Graph, module: inout Module) -> Graph {
    let graph = input.mappingScanBodies { fold($0, module: &module) }
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
      while module.parameter(named: name) != nil {
        name = "\(node.hint ?? "folded\(i)")\(suffix)"
        suffix += 1
      }
      module.appendParameter(concatenate(parameters, axis: axis, name: name))
      folded[i] = name
    }
    guard !folded.isEmpty else { return graph }
    return GraphRewriter.rewrite(graph, module: module) { r, index, node in
      guard let name = folded[index] else { return nil }
      return [r.builder.add(.parameter(name: name), [], range: node.range)]
    }
  }

  /// Joins parameter values along `axis` of their row-major shapes.
  private func concatenate(_ parts: [Parameter], axis: Int, name: String) -> Parameter {
    let role = "stacked along axis \(axis): " + parts.map(\.name).joined(separator: " | ")
    if parts.contains(where: \.isPlaceholder) {
      var shape = parts[0].shape
      shape[axis] = parts.map { $0.shape[axis] }.reduce(0, +)
      return Parameter(name: name, shape: shape, values: [], role: role, isPlaceholder: true)
    }
    let (shape, values) = RowMajor.concatenate(parts.map { ($0.shape, $0.values) }, axis: axis)
    return Parameter(name: name, shape: shape, values: values, role: role)
  }
}
