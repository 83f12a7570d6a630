// Fusion: hoists the input products of a scan body (W_r x_t, W_z x_t, W_n x_t) out of the time
// loop into one matrix product over the whole sequence, with the gates' weights stacked.

/// Requires: GRUs lowered. Guarantees: no scan body applies a `linear` with parameter weights to a
/// step of a scanned sequence; each such group is one `linear` before the scan, over `[B, T, K]`
/// with the weights concatenated by rows, and the body reads its slice of the product's step.
///
/// Identity: for every t, `[W_r; W_z; W_n] x_t + [b_r; b_z; b_n]` stacks `W_g x_t + b_g`, so
/// computing all steps at once (one GEMM, `T·B × K` by `K × 3H`) and slicing gives the same values.
/// Linears with and without bias are grouped separately, so no zero bias is invented.
public struct HoistInputProjections: Pass {
  public let name = "hoist-input-projections"

  public init() {}

  public func run(_ module: Module, diagnostics: inout DiagnosticEngine) -> Module {
    var result = module
    result.graph = GraphRewriter.rewrite(module.graph, module: module) { r, _, node in
      guard case .scan(let scan) = node.op else { return nil }
      return hoist(scan, node, &r, module: module)
    }
    return result
  }

  /// A body `linear` that reads a scanned step and has parameter weights.
  private struct Candidate {
    var node: Int
    var sequence: Int
    var weight: String
    var bias: String?
    var rows: Int
  }

  private struct Group {
    var sequence: Int
    var hasBias: Bool
    var members: [Candidate]
  }

  private func candidates(_ scan: Scan) -> [Candidate] {
    let body = scan.body
    let sequenceArguments = Array(body.argumentNodes.prefix(scan.sequences))
    var found: [Candidate] = []
    for (i, node) in body.nodes.enumerated() {
      guard case .linear = node.op, let k = sequenceArguments.firstIndex(of: node.operands[0].node),
        case .parameter(let weight) = body.nodes[node.operands[1].node].op,
        let rows = body.type(of: ValueRef(i))?.features
      else { continue }
      var bias: String?
      if node.operands.count == 3 {
        guard case .parameter(let b) = body.nodes[node.operands[2].node].op else { continue }
        bias = b
      }
      found.append(Candidate(node: i, sequence: k, weight: weight, bias: bias, rows: rows))
    }
    return found
  }

  private func hoist(_ scan: Scan, _ node: Node, _ r: inout GraphRewriter, module: Module) -> [ValueRef]? {
    let found = candidates(scan)
    guard !found.isEmpty else { return nil }
    var groups: [Group] = []
    for c in found {
      if let g = groups.firstIndex(where: { $0.sequence == c.sequence && $0.hasBias == (c.bias != nil) }) {
        groups[g].members.append(c)
      } else {
        groups.append(Group(sequence: c.sequence, hasBias: c.bias != nil, members: [c]))
      }
    }

    // Before the loop: one product per group, over the whole sequence.
    let range = node.range
    let operands = r.mapped(node)
    var projections: [ValueRef] = []
    for g in groups {
      let weight = r.stackedParameters(g.members.map(\.weight), range: range)
      var inputs = [operands[g.sequence], weight]
      if g.hasBias { inputs.append(r.stackedParameters(g.members.map { $0.bias! }, range: range)) }
      projections.append(r.builder.add(.linear, inputs, range: range, hint: "\(scan.name).x_proj"))
    }

    // The new body: old sequence arguments, one argument per projection, then the states.
    let body = scan.body
    let arguments = body.argumentNodes
    var b = GraphBuilder(module: module)
    var map = [ValueRef?](repeating: nil, count: body.nodes.count)
    for a in arguments.prefix(scan.sequences) { map[a] = b.append(body.nodes[a]) }
    var projectionSteps: [ValueRef] = []
    for (i, p) in projections.enumerated() {
      let type = r.builder.type(of: p)?.stepType ?? TensorType(module.dtype, [.batch, .fixed(1)])
      projectionSteps.append(b.argument(groups.count == 1 ? "x_proj_t" : "x_proj\(i)_t", type, range: range))
    }
    for a in arguments.dropFirst(scan.sequences) { map[a] = b.append(body.nodes[a]) }
    for (i, n) in body.nodes.enumerated() where map[i] == nil {
      if let g = groups.firstIndex(where: { $0.members.contains { $0.node == i } }) {
        var offset = 0
        for m in groups[g].members {
          if m.node == i { break }
          offset += m.rows
        }
        let rows = groups[g].members.first { $0.node == i }!.rows
        map[i] = b.add(.slice(start: offset, count: rows), [projectionSteps[g]], range: n.range, hint: n.hint)
      } else {
        var copy = n
        copy.operands = n.operands.map { ValueRef(map[$0.node]!.node, $0.result) }
        map[i] = b.append(copy)
      }
    }
    for o in body.outputs { b.output(o.name, ValueRef(map[o.value.node]!.node, o.value.result)) }

    var newScan = scan
    newScan.sequences = scan.sequences + projections.count
    newScan.body = b.graph
    let newOperands = Array(operands.prefix(scan.sequences)) + projections + Array(operands.dropFirst(scan.sequences))
    let s = r.builder.add(.scan(newScan), newOperands, range: range, hint: node.hint)
    return (0..<node.types.count).map { ValueRef(s.node, $0) }
  }
}
