// Folds each batchnorm it can into the weights of the product that reads it, and gives every
// norm op it keeps its tensors as operands (the form the C backend emits).
//
// A batchnorm is `y = x * s + t` per channel, `s = gamma / sqrt(variance + eps)`,
// `t = beta - mean * s`. A GRU that reads y multiplies it by its input weights, one product per
// gate: `W y + b = (W diag(s)) x + (b + W t)`. So the batchnorm disappears when every user of y is
// the input product of a GRU layer that has an input-side bias on every gate (`bias separate` or
// `single`; with `bias none` there is no b to take `W t`).
//
// The fold is exact at every step the GRU reads, whatever the lengths say: the GRU reads y
// itself, never a masked or zero-padded copy of it (lowering masks outputs, and reverses a
// sequence for `padding processed`, after or around the product, never between the batchnorm
// and it), and a step past a sequence's end is either not processed (`padding skipped`) or reads
// `x * s + t` there in both forms (`padding processed`). What the fold must not do — and does
// not — is fold into a product that reads zeros the batchnorm never saw: a `mask` between the
// two, or a convolution's zero padding of the batchnorm's output, where the unfolded model reads
// 0 and a folded one would add `W t` there.

/// Requires: shapes inferred, weights bound, GRUs not lowered. Guarantees: with `fold` (weights
/// compiled in), no batchnorm whose only users are GRU input products remains, and those GRUs'
/// `w_*` and input biases hold the folded values; every norm op left has its tensors as operands.
public struct FoldBatchNorm: Pass {
  public let name = "fold-batchnorm"
  /// False with `--weights external`: the blob then holds the model's own tensors, and the op stays.
  var fold: Bool

  public init(fold: Bool = true) { self.fold = fold }

  public func run(_ module: Module, diagnostics: inout DiagnosticEngine) -> Module {
    var result = module
    let graph = module.graph
    var users = Array(repeating: [Int](), count: graph.nodes.count)
    for (i, node) in graph.nodes.enumerated() { for v in node.operands { users[v.node].append(i) } }
    var isOutput = Array(repeating: false, count: graph.nodes.count)
    for o in graph.outputs { isOutput[o.value.node] = true }

    var folded = Set<Int>()
    if fold {
      for (i, node) in graph.nodes.enumerated() {
        guard case .norm(let n) = node.op, n.kind == .batch, !isOutput[i], !users[i].isEmpty else { continue }
        let readers = users[i].map { graph.nodes[$0] }
        let grus = readers.compactMap { reader -> GRUOp? in
          guard case .gru(let g) = reader.op, reader.operands[0] == ValueRef(i),
            !reader.operands.dropFirst().contains(ValueRef(i)), g.layer.bias != .none
          else { return nil }
          return g
        }
        guard grus.count == readers.count, let affine = Self.affine(n, module) else { continue }
        for g in grus { Self.foldIntoInputWeights(g, affine: affine, batchnorm: n.layer.name, module: &result) }
        folded.insert(i)
      }
    }
    result.graph = GraphRewriter.rewrite(graph, module: result) { r, index, node in
      guard case .norm(let n) = node.op else { return nil }
      if folded.contains(index) { return [r.map(node.operands[0])] }
      guard node.operands.count == 1 else { return nil }
      let tensors = n.parameterNames.map { r.builder.add(.parameter(name: $0), [], range: node.range) }
      return [r.builder.add(node.op, [r.map(node.operands[0])] + tensors, range: node.range, hint: node.hint)]
    }
    return result
  }

  /// A batchnorm's per-channel `s` and `t` in Double, or placeholders' lack of values (nil s, t).
  struct Affine {
    var s: [Double]
    var t: [Double]
    var isPlaceholder: Bool
  }

  static func affine(_ n: NormOp, _ module: Module) -> Affine? {
    let tensors = n.parameterNames.map { module.parameter(named: $0) }
    guard tensors.allSatisfy({ $0 != nil }) else { return nil }
    let p = tensors.map { $0! }
    if p.contains(where: \.isPlaceholder) { return Affine(s: [], t: [], isPlaceholder: true) }
    var k = 0
    func next() -> [Double] {
      defer { k += 1 }
      return p[k].values
    }
    let gamma = n.layer.scale ? next() : nil
    let beta = n.layer.center ? next() : nil
    let (mean, variance) = (next(), next())
    var affine = Affine(s: [], t: [], isPlaceholder: false)
    for c in mean.indices {
      let s = (gamma?[c] ?? 1) / (variance[c] + n.layer.epsilon).squareRoot()
      affine.s.append(s)
      affine.t.append((beta?[c] ?? 0) - mean[c] * s)
    }
    return affine
  }

  /// `W' = W diag(s)`, `b' = b + W t` for the input product of every gate of every direction.
  static func foldIntoInputWeights(_ g: GRUOp, affine: Affine, batchnorm: String, module: inout Module) {
    let round: (Double) -> Double = module.precision == .f32 ? { Double(Float($0)) } : { $0 }
    for prefix in g.directionPrefixes {
      for gate in g.layer.gates {
        guard let wi = module.parameterIndex(named: CellParameter(.inputWeight, gate).name(in: prefix)),
          let biasName = g.layer.inputBias(gate)?.name(in: prefix), let bi = module.parameterIndex(named: biasName)
        else { continue }
        let note = ", batchnorm '\(batchnorm)' folded in"
        module.parameters[wi].role += note
        module.parameters[bi].role += note
        if affine.isPlaceholder || module.parameters[wi].isPlaceholder || module.parameters[bi].isPlaceholder {
          module.parameters[wi].isPlaceholder = true
          module.parameters[wi].values = []
          module.parameters[bi].isPlaceholder = true
          module.parameters[bi].values = []
          continue
        }
        let w = module.parameters[wi].values
        let (rows, columns) = (module.parameters[wi].shape[0], module.parameters[wi].shape[1])
        var b = module.parameters[bi].values
        var scaled = w
        for h in 0..<rows {
          var shift = 0.0
          for c in 0..<columns {
            scaled[h * columns + c] = round(w[h * columns + c] * affine.s[c])
            shift += w[h * columns + c] * affine.t[c]
          }
          b[h] = round(b[h] + shift)
        }
        module.parameters[wi].values = scaled
        module.parameters[bi].values = b
      }
    }
  }
}
