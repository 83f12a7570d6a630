// Folds each batchnorm it can into the weights of the product that reads it; the ones it keeps
// stay ops (lower-dense gives them their tensors as operands, the form the C backend emits).
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
/// compiled in), no batchnorm remains after a conv1d without an activation read by it alone, nor
/// (with f32 weights-storage) one whose only users are GRU input products; those layers' weights
/// and biases hold the folded values. Every norm left inside the sequence-layer chain (conv1d,
/// pad, pool) is a layer of the chain (`joinChain`).
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
    var convs: [Int: SequenceLayerOp] = [:]
    if fold {
      for (i, node) in graph.nodes.enumerated() {
        guard case .norm(let n) = node.op, n.kind == .batch else { continue }
        // Into the conv1d it reads, when nothing else reads the conv's output.
        let j = node.operands[0].node
        if case .sequenceLayer(let l) = graph.nodes[j].op, case .conv1d(let c) = l.kind, c.activation == .identity,
          users[j] == [i], !isOutput[j], let affine = Self.affine(n, module)
        {
          convs[j] = Self.foldIntoConv(l, c, affine: affine, batchnorm: n.layer.name, module: &result)
          folded.insert(i)
          continue
        }
        // Narrow weights-storage rounds the gru matrices once, when bound; folded, they would be
        // rounded a second time, after scaling, and no longer be the file's values rounded.
        guard !isOutput[i], !users[i].isEmpty, module.weightElement == .f32 else { continue }
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
    if !folded.isEmpty {
      result.graph = GraphRewriter.rewrite(graph, module: result) { r, index, node in
        if let conv = convs[index] {
          return [r.builder.add(.sequenceLayer(conv), r.mapped(node), range: node.range, hint: node.hint)]
        }
        return folded.contains(index) ? [r.map(node.operands[0])] : nil
      }
    }
    return Self.joinChain(result)
  }

  /// The norms left inside the sequence-layer chain (Sema let the chain run through a norm read
  /// by the chain's next layer alone) become layers of the chain (`SequenceLayerKind.norm`), so
  /// that the C computes the whole chain before the gru layers, as it computes conv1d, pad and pool.
  /// A norm after the chain's last conv1d, pad or pool stays an op computed per step.
  static func joinChain(_ module: Module) -> Module {
    let graph = module.graph
    var users = Array(repeating: [Int](), count: graph.nodes.count)
    for (i, node) in graph.nodes.enumerated() { for v in node.operands { users[v.node].append(i) } }
    var isOutput = Array(repeating: false, count: graph.nodes.count)
    for o in graph.outputs { isOutput[o.value.node] = true }
    // From the back: a norm joins when its one user is a sequence layer, or a norm that joins.
    var joins = Array(repeating: false, count: graph.nodes.count)
    for i in graph.nodes.indices.reversed() {
      guard case .norm = graph.nodes[i].op, users[i].count == 1, !isOutput[i] else { continue }
      let user = users[i][0]
      if case .sequenceLayer = graph.nodes[user].op { joins[i] = true }
      if case .norm = graph.nodes[user].op { joins[i] = joins[user] }
    }
    guard joins.contains(true) else { return module }
    var result = module
    result.graph = GraphRewriter.rewrite(graph, module: module) { r, index, node in
      guard joins[index], case .norm(let n) = node.op else { return nil }
      let layer = SequenceLayerOp(name: n.layer.name, kind: .norm(n.layer))
      return [r.builder.add(.sequenceLayer(layer), r.mapped(node), range: node.range, hint: node.hint)]
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

  /// `w'[f] = w[f] * s[f]`, `b'[f] = b[f] * s[f] + t[f]` (b = 0 for a conv without a bias, which
  /// then gets one, `NAME.b`). Returns the conv's op, with a bias.
  static func foldIntoConv(
    _ l: SequenceLayerOp, _ c: Conv1DLayer, affine: Affine, batchnorm: String, module: inout Module
  ) -> SequenceLayerOp {
    let round: (Double) -> Double = module.precision == .f32 ? { Double(Float($0)) } : { $0 }
    let note = ", batchnorm '\(batchnorm)' folded in"
    var op = l
    var conv = c
    conv.bias = true
    op.kind = .conv1d(conv)
    let (wName, bName) = ("\(l.name).w", "\(l.name).b")
    guard let wi = module.parameterIndex(named: wName) else { return l }
    let filters = c.filters
    if module.parameterIndex(named: bName) == nil {
      module.appendParameter(Parameter(
        name: bName, shape: [filters], values: Array(repeating: 0, count: module.parameters[wi].isPlaceholder ? 0 : filters),
        role: "conv1d '\(l.name)': bias", isPlaceholder: module.parameters[wi].isPlaceholder))
    }
    let bi = module.parameterIndex(named: bName)!
    guard Self.markFolded(wi, bi, note: note, affine: affine, module: &module) else { return op }
    var w = module.parameters[wi].values
    var b = module.parameters[bi].values
    let perFilter = w.count / filters
    for f in 0..<filters {
      for k in 0..<perFilter { w[f * perFilter + k] = round(w[f * perFilter + k] * affine.s[f]) }
      b[f] = round(b[f] * affine.s[f] + affine.t[f])
    }
    module.parameters[wi].values = w
    module.parameters[bi].values = b
    return op
  }

  /// Notes the fold in the weight's and the bias's roles. Without values (placeholders: `check`
  /// or `--emit ir` without weights) both become placeholders and there is nothing to compute:
  /// false.
  static func markFolded(_ wi: Int, _ bi: Int, note: String, affine: Affine, module: inout Module) -> Bool {
    module.parameters[wi].role += note
    module.parameters[bi].role += note
    guard affine.isPlaceholder || module.parameters[wi].isPlaceholder || module.parameters[bi].isPlaceholder else {
      return true
    }
    for i in [wi, bi] {
      module.parameters[i].isPlaceholder = true
      module.parameters[i].values = []
    }
    return false
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
        guard Self.markFolded(wi, bi, note: note, affine: affine, module: &module) else { continue }
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
