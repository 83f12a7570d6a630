// Layout: the weights of every product are stored in panels, so the C kernel's inner loop reads
// contiguous weights for a vector of independent outputs and vectorises without -ffast-math.

/// Requires: weights bound. Guarantees: every `linear` whose weights are a parameter is a
/// `linear_packed`, and that parameter (same name, same `[N, K]` shape and values) holds them in
/// panels (PackedLinear): panels of `panel` rows, `[k][l]` each, the last one holding what is
/// left. Nothing is padded, so the weights take exactly the bytes of their values.
///
/// Panels are at most 64 floats (32 doubles) wide, whole register blocks (16 floats, 8 doubles)
/// when there are several, as even as that allows, the last one narrower when the rows do not
/// fill it: 144 rows are three panels of 48, 150 rows panels of 64, 64 and 22, 50 rows one of 50.
public struct PackWeights: Pass {
  public let name = "pack-weights"

  public init() {}

  public func run(_ module: Module, diagnostics: inout DiagnosticEngine) -> Module {
    var result = module
    let weights = Self.productWeights(module.graph)
    for (index, parameter) in module.parameters.enumerated() where weights.contains(parameter.name) {
      var packed = pack(parameter, panel: Self.panel(rows: parameter.shape[0], precision: module.precision))
      if module.weightElement == .int8 && !parameter.isPlaceholder { packed = quantised(parameter, packed) }
      result.parameters[index] = packed
    }
    result.graph = rewrite(module.graph, module: result)
    return result
  }

  /// The panel width for a product with `rows` outputs: the rows split as evenly as the fewest
  /// panels allow, rounded up to whole register blocks (16 floats, 8 doubles), never wider than
  /// the rows; the last panel takes what is left.
  static func panel(rows: Int, precision: Precision) -> Int {
    let widest = CPrelude.widestPanel(precision)
    let block = CPrelude.block(precision)
    let panels = (rows + widest - 1) / widest
    let perPanel = (rows + panels - 1) / panels
    return min(rows, (perPanel + block - 1) / block * block)
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
    let layout = PackedLinear(outputs: rows, panel: panel)
    let last = layout.lastPanel == panel ? "" : " (the last of \(layout.lastPanel))"
    let role = "\(p.role); in \(layout.panels) panel\(layout.panels == 1 ? "" : "s") of \(panel) row\(panel == 1 ? "" : "s")\(last), [k][l] each"
    if p.isPlaceholder {
      return Parameter(name: p.name, shape: p.shape, values: [], role: role, panel: panel, isPlaceholder: true)
    }
    var values = [Double](repeating: 0, count: rows * k)
    for n in 0..<rows {
      let (q, lane) = n.quotientAndRemainder(dividingBy: panel)
      let width = q == layout.panels - 1 ? layout.lastPanel : panel
      for j in 0..<k { values[q * panel * k + j * width + lane] = p.values[n * k + j] }
    }
    return Parameter(name: p.name, shape: p.shape, values: values, role: role, panel: panel)
  }

  /// int8 storage: the rows of the product's matrix quantised, each against its own scale; the
  /// packed values become the dequantised weights (exact in a Double), which is what every other
  /// reader of the parameter sees. Quantising here, where the matrices are final, gives the rows
  /// of the product the C computes their scales, whichever tensors were stacked into them.
  private func quantised(_ original: Parameter, _ packed: Parameter) -> Parameter {
    let (rows, k) = (original.shape[0], original.shape[1])
    var q: [Int8] = []
    var scales: [Float] = []
    q.reserveCapacity(rows * k)
    var dequantised = [Double](repeating: 0, count: rows * k)
    for n in 0..<rows {
      let (scale, row) = Int8Product.quantise(row: original.values[(n * k)..<((n + 1) * k)].map { Float($0) })
      q += row
      scales.append(scale)
      for j in 0..<k { dequantised[n * k + j] = Double(row[j]) * Double(scale) }
    }
    var result = pack(
      Parameter(name: original.name, shape: original.shape, values: dequantised, role: original.role),
      panel: packed.panel!)
    result.role += "; int8, a scale per row"
    result.int8 = Int8Rows(q: q, scales: scales)
    return result
  }

  private func rewrite(_ graph: Graph, module: Module) -> Graph {
    let input = graph.mappingScanBodies { rewrite($0, module: module) }
    return GraphRewriter.rewrite(input, module: module) { r, _, node in
      // Parameter nodes are typed again, from the packed shapes.
      if case .parameter = node.op { return [r.builder.add(node.op, [], range: node.range, hint: node.hint)] }
      guard case .linear = node.op, case .parameter(let name) = input.nodes[node.operands[1].node].op,
        let p = module.parameter(named: name), let panel = p.panel
      else { return nil }
      let packed = PackedLinear(outputs: p.shape[0], panel: panel)
      return [r.builder.add(.packedLinear(packed), r.mapped(node), range: node.range, hint: node.hint)]
    }
  }
}
