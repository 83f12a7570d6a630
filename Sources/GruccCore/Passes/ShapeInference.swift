// Shape inference: gives every value its type, from the declared input and weights through
// each op's typing rule; reports values used where their shape does not fit.

/// Requires: a graph from IRGen (argument types declared, other types unknown).
/// Guarantees: every result has a type, or a diagnostic says why it cannot.
/// Algorithm: one walk in topological order; a node whose operand has no type (because of an
/// earlier error) is skipped silently, so one mistake gives one error.
public struct ShapeInference: Pass {
  public let name = "shape-inference"

  public init() {}

  public func run(_ module: Module, diagnostics: inout DiagnosticEngine) -> Module {
    var result = module
    result.graph = infer(module.graph, module: module, diagnostics: &diagnostics)
    return result
  }

  private func infer(_ graph: Graph, module: Module, diagnostics: inout DiagnosticEngine) -> Graph {
    var graph = graph
    for i in graph.nodes.indices {
      if case .scan(var scan) = graph.nodes[i].op {
        scan.body = infer(scan.body, module: module, diagnostics: &diagnostics)
        graph.nodes[i].op = .scan(scan)
      }
      let operandTypes = graph.nodes[i].operands.compactMap { graph.type(of: $0) }
      guard operandTypes.count == graph.nodes[i].operands.count else { continue }
      do {
        graph.nodes[i].types = try TypeRules.infer(graph.nodes[i].op, operandTypes, module: module)
      } catch {
        diagnostics.error(error.message, at: graph.nodes[i].range)
      }
    }
    return graph
  }
}
