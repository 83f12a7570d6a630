// Fusion: where a gate adds two biased products, `(W x + b_i) + (U h + b_h)`, the two biases
// become one, `(W x + (b_i + b_h)) + U h`, so each step adds one bias instead of two. Reset-after's
// candidate, `W_n x + b_in + r * (U_n h + b_hn)`, multiplies b_hn by r and keeps it.

/// Requires: GRUs lowered. Guarantees: in every scan body, no `add` has two operands that are
/// `linear`s with parameter biases used only by that add; the left one carries the sum of the
/// biases, a new parameter named after the gate (`h.b_ir`, `h.b_hr` → `h.b_r`).
///
/// Identity: `(W x + b_i) + (U h + b_h) = (W x + (b_i + b_h)) + U h`, exact in real arithmetic;
/// in floating point the sums round differently, within an ulp or two of each bias-sized term.
public struct FoldBiases: Pass {
  public let name = "fold-biases"

  public init() {}

  public func run(_ module: Module, diagnostics: inout DiagnosticEngine) -> Module {
    var result = module
    result.graph = module.graph.mappingScanBodies { fold($0, module: &result) }
    return result
  }

  /// The bias parameter of a `linear` node, if it has one.
  private func bias(_ graph: Graph, _ v: ValueRef) -> String? {
    let node = graph.nodes[v.node]
    guard case .linear = node.op, node.operands.count == 3,
      case .parameter(let name) = graph.nodes[node.operands[2].node].op
    else { return nil }
    return name
  }

  private func fold(_ body: Graph, module: inout Module) -> Graph {
    var uses = Array(repeating: 0, count: body.nodes.count)
    for node in body.nodes { for v in node.operands { uses[v.node] += 1 } }
    for o in body.outputs { uses[o.value.node] += 1 }

    // add node → (left linear, right linear, the folded bias's name)
    var folds: [Int: (left: Int, right: Int, bias: String)] = [:]
    for (i, node) in body.nodes.enumerated() {
      guard case .add = node.op else { continue }
      let (l, r) = (node.operands[0], node.operands[1])
      guard l.node != r.node, uses[l.node] == 1, uses[r.node] == 1, let bl = bias(body, l), let br = bias(body, r),
        let pl = module.parameter(named: bl), let pr = module.parameter(named: br), pl.shape == pr.shape
      else { continue }
      let name = uniqueName(mergedName(bl, br), module)
      let values = zip(pl.values, pr.values).map { a, b in
        module.precision == .f32 ? Double(Float(a) + Float(b)) : a + b
      }
      module.appendParameter(Parameter(
        name: name, shape: pl.shape, values: values, role: "\(bl) + \(br), folded",
        isPlaceholder: pl.isPlaceholder || pr.isPlaceholder))
      folds[i] = (l.node, r.node, name)
    }
    guard !folds.isEmpty else { return body }
    let left = Dictionary(uniqueKeysWithValues: folds.values.map { ($0.left, $0.bias) })
    let right = Set(folds.values.map(\.right))
    return GraphRewriter.rewrite(body, module: module) { r, index, node in
      if let name = left[index] {
        let b = r.builder.add(.parameter(name: name), [], range: node.range)
        return [r.builder.add(.linear, [r.map(node.operands[0]), r.map(node.operands[1]), b], range: node.range, hint: node.hint)]
      }
      if right.contains(index) {
        return [r.builder.add(.linear, [r.map(node.operands[0]), r.map(node.operands[1])], range: node.range, hint: node.hint)]
      }
      return nil
    }
  }

  /// `h.b_ir` and `h.b_hr` → `h.b_r`: the common prefix and the common suffix.
  private func mergedName(_ a: String, _ b: String) -> String {
    let (x, y) = (Array(a), Array(b))
    var p = 0
    while p < x.count && p < y.count && x[p] == y[p] { p += 1 }
    var s = 0
    while s < x.count - p && s < y.count - p && x[x.count - 1 - s] == y[y.count - 1 - s] { s += 1 }
    return String(x[..<p]) + String(x[(x.count - s)...])
  }

  private func uniqueName(_ base: String, _ module: Module) -> String {
    var name = base
    var k = 2
    while module.parameter(named: name) != nil {
      name = "\(base)\(k)"
      k += 1
    }
    return name
  }
}
