// Layout: the weights of every product are stored in panels, so the C kernel's inner loop reads
// contiguous weights for a vector of independent outputs and vectorises without -ffast-math.

/// Requires: weights bound. Guarantees: every `linear` whose weights are a parameter is a
/// `linear_packed`, and that parameter (same name) holds the panels: shape `[panels, K, panel]`,
/// element `[p, k, l]` = row `p·panel + l`, column k of the old `[N, K]` tensor, zero past row N.
///
/// Panels are at most 64 floats (32 doubles) wide, a multiple of 16 floats (8 doubles), and as
/// even as that allows: 150 rows are 3 panels of 64, 48 rows one panel of 48.
public struct PackWeights: Pass {
  public let name = "pack-weights"

  public init() {}

  public func run(_ module: Module, diagnostics: inout DiagnosticEngine) -> Module {
    var result = module
    let weights = Self.productWeights(module.graph)
    for (index, parameter) in module.parameters.enumerated() where weights.contains(parameter.name) {
      result.parameters[index] = pack(parameter, panel: Self.panel(rows: parameter.shape[0], precision: module.precision))
    }
    result.graph = rewrite(module.graph, module: result)
    return result
  }

  /// The panel width for a product with `rows` outputs.
  static func panel(rows: Int, precision: Precision) -> Int {
    let widest = CPrelude.widestPanel(precision)
    let block = CPrelude.block(precision)
    let panels = (rows + widest - 1) / widest
    let perPanel = (rows + panels - 1) / panels
    return (perPanel + block - 1) / block * block
  }

  /// Parameters used only as the weights of `linear`s, anywhere in the graph.
  private static func productWeights(_ graph: Graph) -> Set<String> {
    var weights = Set<String>()
    var other = Set<String>()
    func visit(_ graph: Graph) {
      for node in graph.nodes {
        if case .scan(let s) = node.op { visit(s.body) }
        for (k, v) in node.operands.enumerated() {
          guard case .parameter(let name) = graph.nodes[v.node].op else { continue }
          if case .linear = node.op, k == 1 { weights.insert(name) } else { other.insert(name) }
        }
      }
    }
    visit(graph)
    return weights.subtracting(other)
  }

  private func pack(_ p: Parameter, panel: Int) -> Parameter {
    let (rows, k) = (p.shape[0], p.shape[1])
    let panels = (rows + panel - 1) / panel
    let role = "\(p.role); packed as \(panels) panel\(panels == 1 ? "" : "s") of \(panel) rows: [p][k][l] = row p*\(panel)+l"
    if p.isPlaceholder {
      return Parameter(
        name: p.name, shape: [panels, k, panel], values: [], role: role, padding: panels * k * panel - p.count,
        isPlaceholder: true)
    }
    var values = [Double](repeating: 0, count: panels * k * panel)
    for n in 0..<rows {
      let (q, lane) = n.quotientAndRemainder(dividingBy: panel)
      for j in 0..<k { values[(q * k + j) * panel + lane] = p.values[n * k + j] }
    }
    return Parameter(name: p.name, shape: [panels, k, panel], values: values, role: role, padding: values.count - p.count)
  }

  private func rewrite(_ graph: Graph, module: Module) -> Graph {
    let input = graph.mappingScanBodies { rewrite($0, module: module) }
    return GraphRewriter.rewrite(input, module: module) { r, _, node in
      // Parameter nodes are typed again, from the packed shapes.
      if case .parameter = node.op { return [r.builder.add(node.op, [], range: node.range, hint: node.hint)] }
      guard case .linear = node.op, case .parameter(let name) = input.nodes[node.operands[1].node].op,
        let p = module.parameter(named: name), p.shape.count == 3
      else { return nil }
      let packed = PackedLinear(outputs: p.shape[0] * p.shape[2] - p.padding / p.shape[1], panel: p.shape[2])
      return [r.builder.add(.packedLinear(packed), r.mapped(node), range: node.range, hint: node.hint)]
    }
  }
}
