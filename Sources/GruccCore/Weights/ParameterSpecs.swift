// The weight tensors a model needs, named in grucc's own convention (Specs/LANGUAGE.md,
// "Weights"): which tensors, their shapes, and what each one is.

/// One tensor the model needs.
public struct ParameterSpec: Sendable, Equatable {
  public var name: String
  public var shape: [Int]
  public var role: String
  /// The fan-in used by the default initialiser: the hidden size for GRU tensors (as PyTorch's
  /// nn.GRU does), the input size for dense layers.
  public var fanIn: Int
  public var isBias: Bool
  /// What an init rule-less tensor is drawn from, when not fan-in-uniform (a batchnorm's
  /// variance is 1, its mean 0).
  public var initial: Distribution? = nil
}

public enum ParameterSpecs {
  /// Every tensor the high-level graph needs, in graph order. Requires shape inference.
  public static func required(by module: Module) -> [ParameterSpec] {
    module.graph.nodes.flatMap { required(by: $0, in: module.graph) }
  }

  /// The tensors one high-level op (`gru` or `dense`) needs; none for other ops, or while the
  /// op's input has no type yet.
  public static func required(by node: Node, in graph: Graph) -> [ParameterSpec] {
    switch node.op {
    case .gru(let g):
      guard let x = graph.type(of: node.operands[0]) else { return [] }
      return forGRU(g, inputFeatures: x.features)
    case .sequenceLayer(let l):
      guard node.operands.count == 1, let x = graph.type(of: node.operands[0]) else { return [] }
      return forSequenceLayer(l, inputFeatures: x.features)
    case .dense(let d):
      guard let x = graph.type(of: node.operands[0]) else { return [] }
      return forDense(d, inputFeatures: x.features, steps: x.rank == 3 ? x.dims[1].fixedValue : nil)
    case .norm(let n):
      guard let x = graph.type(of: node.operands[0]) else { return [] }
      return n.parameterSpecs(channels: x.features)
    case .argument, .parameter, .zeros, .scan, .linear, .packedLinear, .linearUnshared, .activation, .add, .mul, .scale,
      .blend, .slice, .concat, .reduce, .mask, .hold, .reverseTime, .fused, .gradient:
      return []
    }
  }

  public static func forGRU(_ g: GRUOp, inputFeatures: Int) -> [ParameterSpec] {
    let layer = g.layer
    let h = layer.hidden
    var specs: [ParameterSpec] = []
    for (d, prefix) in g.directionPrefixes.enumerated() {
      let direction = layer.direction == .bidirectional ? (d == 0 ? "forward " : "backward ") : ""
      for p in layer.cellParameters {
        let shape =
          switch p.kind {
          case .inputWeight: [h, inputFeatures]
          case .recurrentWeight: [h, h]
          case .inputBias, .recurrentBias, .bias: [h]
          }
        specs.append(ParameterSpec(
          name: p.name(in: prefix), shape: shape, role: "\(direction)\(p.role)", fanIn: h, isBias: p.kind.isBias))
      }
    }
    return specs
  }

  /// A conv1d's `NAME.w` `[F, C/G, K]` (PyTorch's layout) and `NAME.b` `[F]`; fan-in C/G·K, so
  /// the default initialiser is PyTorch's nn.Conv1d's.
  public static func forSequenceLayer(_ l: SequenceLayerOp, inputFeatures: Int) -> [ParameterSpec] {
    switch l.kind {
    case .conv1d(let c):
      let perGroup = inputFeatures / max(c.groups, 1)
      var specs = [
        ParameterSpec(
          name: "\(l.name).w", shape: [c.filters, perGroup, c.kernel],
          role: "conv1d '\(l.name)': weights (filter, channel of its group, tap)", fanIn: perGroup * c.kernel, isBias: false)
      ]
      if c.bias {
        specs.append(ParameterSpec(
          name: "\(l.name).b", shape: [c.filters], role: "conv1d '\(l.name)': bias", fanIn: perGroup * c.kernel, isBias: true))
      }
      return specs
    case .pad, .pool:
      return []
    }
  }

  public static func forDense(_ d: DenseOp, inputFeatures: Int, steps: Int?) -> [ParameterSpec] {
    if d.unshared, let steps {
      return [
        ParameterSpec(
          name: "\(d.name).w", shape: [steps, d.units, inputFeatures],
          role: "dense '\(d.name)': one weight matrix per step (step, out, in)", fanIn: inputFeatures, isBias: false),
        ParameterSpec(
          name: "\(d.name).b", shape: [steps, d.units], role: "dense '\(d.name)': one bias per step (step, out)",
          fanIn: inputFeatures, isBias: true),
      ]
    }
    return [
      ParameterSpec(
        name: "\(d.name).w", shape: [d.units, inputFeatures], role: "dense '\(d.name)': weights (out, in)",
        fanIn: inputFeatures, isBias: false),
      ParameterSpec(
        name: "\(d.name).b", shape: [d.units], role: "dense '\(d.name)': bias", fanIn: inputFeatures, isBias: true),
    ]
  }
}
