// Reverse-mode differentiation of the IR: from a lowered model, a graph that computes the
// gradient of a loss with respect to every weight, given ∂loss/∂output for each output. The
// interpreter runs it like any graph; backpropagation through time is a scan running the other
// way, which recomputes each step of the forward scan from that step's saved input state.

/// Requires: GRUs and dense heads lowered (`lower-dense`), nothing fused or packed. Guarantees:
/// the result's graph takes the model's inputs plus `d.<output>` (∂loss/∂output, the output's
/// type) for every output, and yields `grad.<parameter>` for every parameter, in parameter order,
/// shaped like the parameter. With `keepOutputs`, the forward outputs follow, under their own
/// names: a caller that needs both (the compiled training step) then runs the forward pass once.
/// With `saveProducts`, each forward scan also yields, step by step, its body's products of the
/// state (any `linear` not of a sequence argument), and the backward scan reads them instead of
/// recomputing them: memory (B·T·features per product) for the time of those products.
public struct Differentiate: Pass {
  public let name = "differentiate"
  public var keepOutputs: Bool
  public var saveProducts: Bool

  public init(keepOutputs: Bool = false, saveProducts: Bool = false) {
    self.keepOutputs = keepOutputs
    self.saveProducts = saveProducts
  }

  /// The prefix of the seed arguments and of the gradient outputs.
  public static func seedName(_ output: String) -> String { "d.\(output)" }
  public static func gradientName(_ parameter: String) -> String { "grad.\(parameter)" }

  public func run(_ module: Module, diagnostics: inout DiagnosticEngine) -> Module {
    var result = module
    var builder = GradientBuilder(module: module, saveProducts: saveProducts)
    result.graph = builder.build(keepOutputs: keepOutputs)
    return result
  }
}

/// Builds a gradient graph: the forward graph copied (each scan also yielding the state it read
/// at each step), then the adjoint of every node in reverse order.
private struct GradientBuilder {
  let module: Module
  var b: GraphBuilder
  /// For each node of the forward graph, its results in the new graph.
  var forward: [[ValueRef]] = []
  /// For each scan node of the forward graph: where the per-step input states are.
  var savedStates: [Int: [ValueRef]] = [:]
  let saveProducts: Bool
  /// For each scan node of the forward graph: its body's saved products (body node index) and
  /// where their per-step values are.
  var savedProducts: [Int: [(node: Int, value: ValueRef)]] = [:]
  var adjoint: [ValueRef: ValueRef] = [:]
  var parameterGradients: [String: ValueRef] = [:]

  init(module: Module, saveProducts: Bool) {
    self.module = module
    self.saveProducts = saveProducts
    b = GraphBuilder(module: module)
  }

  mutating func build(keepOutputs: Bool) -> Graph {
    let graph = module.graph
    for node in graph.nodes { copyForward(node) }
    // Seeds: one argument per output, its ∂loss/∂output.
    for o in graph.outputs {
      guard let type = graph.type(of: o.value) else { continue }
      let seed = b.argument(Differentiate.seedName(o.name), type, range: .none)
      accumulate(forward[o.value.node][o.value.result], seed)
    }
    for i in graph.nodes.indices.reversed() { backward(i, graph.nodes[i]) }
    for p in module.parameters {
      let g = parameterGradients[p.name]
        ?? b.add(.zeros(TensorType(module.dtype, p.shape.map { .fixed($0) })), [], range: .none)
      b.output(Differentiate.gradientName(p.name), g)
    }
    if keepOutputs {
      for o in graph.outputs { b.output(o.name, forward[o.value.node][o.value.result]) }
    }
    return b.graph
  }

  // MARK: - Forward

  private mutating func copyForward(_ node: Node) {
    let operands = node.operands.map { forward[$0.node][$0.result] }
    guard case .scan(var scan) = node.op else {
      var copy = node
      copy.operands = operands
      let first = b.append(copy)
      forward.append((0..<node.types.count).map { ValueRef(first.node, $0) })
      return
    }
    // The same scan, also yielding each step's incoming states: the backward scan restarts from them.
    let arguments = scan.body.argumentNodes
    for j in 0..<scan.states {
      scan.body.outputs.append(GraphOutput(name: "saved_state\(j)", value: ValueRef(arguments[scan.sequences + j])))
    }
    // Products of a sequence argument need no saving: the C emitter runs them once over all
    // steps before the loop and shares them with the backward scan.
    var products: [Int] = []
    if saveProducts {
      let sequenceArguments = Set(arguments.prefix(scan.sequences))
      for (n, bodyNode) in scan.body.nodes.enumerated() {
        guard case .linear = bodyNode.op, let first = bodyNode.operands.first, !sequenceArguments.contains(first.node)
        else { continue }
        products.append(n)
        scan.body.outputs.append(GraphOutput(name: "saved_product\(products.count - 1)", value: ValueRef(n)))
      }
    }
    let s = b.add(.scan(scan), operands, range: node.range, hint: node.hint)
    let count = node.types.count
    forward.append((0..<count).map { ValueRef(s.node, $0) })
    savedStates[forward.count - 1] = (0..<scan.states).map { ValueRef(s.node, count + $0) }
    savedProducts[forward.count - 1] = products.enumerated().map { ($1, ValueRef(s.node, count + scan.states + $0)) }
  }

  // MARK: - Backward

  private mutating func accumulate(_ v: ValueRef, _ d: ValueRef) {
    if let existing = adjoint[v] {
      adjoint[v] = b.add(.add, [existing, d], range: .none)
    } else {
      adjoint[v] = d
    }
  }

  private mutating func accumulateParameter(_ name: String, _ d: ValueRef) {
    if let existing = parameterGradients[name] {
      parameterGradients[name] = b.add(.add, [existing, d], range: .none)
    } else {
      parameterGradients[name] = d
    }
  }

  private func parameterName(_ v: ValueRef) -> String? {
    if case .parameter(let name) = b.graph.nodes[v.node].op { return name }
    return nil
  }

  private mutating func backward(_ i: Int, _ node: Node) {
    let results = forward[i]
    if case .scan(let scan) = node.op {
      backwardScan(i, scan, node)
      return
    }
    guard let dy = adjoint[results[0]] else { return }
    let x = node.operands.map { forward[$0.node][$0.result] }
    switch node.op {
    case .parameter(let name):
      accumulateParameter(name, dy)
    case .argument, .zeros:
      break
    case .gru, .dense, .sequenceLayer, .norm, .scan, .packedLinear, .fused, .gradient:
      // The gradient graph is built from the IR lowered through lower-dense; scans return above.
      preconditionFailure("'\(node.op.mnemonic)' is not differentiated here")
    case .linear, .linearUnshared, .activation, .add, .mul, .scale, .blend, .slice, .concat, .reduce, .mask, .hold,
      .reverseTime:
      var rules = AdjointRules(builder: b, range: node.range)
      let contributions = rules.adjoints(node.op, operands: x, result: results[0], dy: dy)
      b = rules.builder
      for (k, d) in contributions {
        if let name = parameterName(x[k]) { accumulateParameter(name, d) } else { accumulate(x[k], d) }
      }
    }
  }

  /// The adjoint of a scan: a scan the other way over the saved inputs, whose body recomputes one
  /// forward step and takes its adjoint. The weights' gradients come out per step (each product's
  /// input and output adjoint) and are summed over batch and time after the loop.
  private mutating func backwardScan(_ i: Int, _ scan: Scan, _ node: Node) {
    let results = forward[i]
    let outputCount = scan.outputs
    let stateTypes = (0..<scan.states).map { node.types[$0]! }
    let outputTypes = (0..<outputCount).map { node.types[scan.states + $0]! }
    guard (0..<(scan.states + outputCount)).contains(where: { adjoint[results[$0]] != nil }) else { return }
    let operands = node.operands.map { forward[$0.node][$0.result] }

    // Sequences of the backward scan: the forward inputs, the saved states and products, the
    // outputs' adjoints.
    let saved = savedProducts[i] ?? []
    var sequences = Array(operands.prefix(scan.sequences)) + savedStates[i]! + saved.map(\.value)
    for k in 0..<outputCount {
      sequences.append(adjoint[results[scan.states + k]]
        ?? b.add(.zeros(outputTypes[k]), [], range: node.range))
    }
    let initial = (0..<scan.states).map { j in
      adjoint[results[j]] ?? b.add(.zeros(stateTypes[j]), [], range: node.range)
    }
    let (body, products) = BackwardBody.build(scan, savedProducts: saved.map(\.node), module: module, range: node.range)
    var backwardScan = Scan(
      name: "\(scan.name).grad", direction: scan.direction == .forward ? .reverse : .forward,
      sequences: sequences.count, states: scan.states, hasLengths: scan.hasLengths, body: body)
    backwardScan.summary = ["the adjoint of '\(scan.name)', backwards in time"]
    let lengths = scan.hasLengths ? [operands[operands.count - 1]] : []
    let s = b.add(.scan(backwardScan), sequences + initial + lengths, range: node.range, hint: "\(scan.name).grad")

    // Results: the adjoints of the initial states, of each input sequence, then per product its
    // input and output adjoint, step by step.
    for j in 0..<scan.states { accumulate(operands[scan.sequences + j], ValueRef(s.node, j)) }
    for k in 0..<scan.sequences { accumulate(operands[k], ValueRef(s.node, scan.states + k)) }
    for (p, product) in products.enumerated() {
      let input = ValueRef(s.node, scan.states + scan.sequences + 2 * p)
      let dy = ValueRef(s.node, scan.states + scan.sequences + 2 * p + 1)
      accumulateParameter(product.weight, b.add(.gradient(.linearWeight), [input, dy], range: node.range))
      if let bias = product.bias { accumulateParameter(bias, b.add(.gradient(.sumRows), [dy], range: node.range)) }
    }
  }
}

/// A product inside a scan body whose weights are parameters: its gradient is summed outside.
struct BodyProduct {
  var weight: String
  var bias: String?
}

/// The body of a backward scan.
enum BackwardBody {
  /// Arguments: the forward sequences' steps, the saved states, the saved products (the values of
  /// the body nodes `savedProducts`, which are then not recomputed), the outputs' adjoints, then
  /// the carried state adjoints. Yields: the new state adjoints (for the step before), then per
  /// step the forward sequences' adjoints, then per parameter product its input and output adjoint.
  static func build(_ scan: Scan, savedProducts: [Int], module: Module, range: SourceRange) -> (Graph, [BodyProduct]) {
    let body = scan.body
    var b = GraphBuilder(module: module)
    let arguments = body.argumentNodes
    var forward = [[ValueRef]](repeating: [], count: body.nodes.count)
    // Arguments first, in the order the scan passes them.
    for k in 0..<scan.sequences {
      let a = arguments[k]
      forward[a] = [b.append(body.nodes[a])]
    }
    for j in 0..<scan.states {
      let a = arguments[scan.sequences + j]
      forward[a] = [b.argument("saved_state\(j)", body.type(of: ValueRef(a))!, range: range)]
    }
    for (p, n) in savedProducts.enumerated() {
      forward[n] = [b.argument("saved_product\(p)", body.type(of: ValueRef(n))!, range: range)]
    }
    var outputSeeds: [ValueRef] = []
    for k in 0..<scan.outputs {
      let type = body.type(of: body.outputs[scan.states + k].value)!
      outputSeeds.append(b.argument("d_output\(k)", type, range: range))
    }
    var stateSeeds: [ValueRef] = []
    for j in 0..<scan.states {
      stateSeeds.append(b.argument("d_state\(j)", body.type(of: ValueRef(arguments[scan.sequences + j]))!, range: range))
    }
    // The forward step, recomputed.
    for (i, node) in body.nodes.enumerated() where forward[i].isEmpty {
      var copy = node
      copy.operands = node.operands.map { forward[$0.node][$0.result] }
      let first = b.append(copy)
      forward[i] = (0..<node.types.count).map { ValueRef(first.node, $0) }
    }
    // Its adjoint.
    var adjoint: [ValueRef: ValueRef] = [:]
    func accumulate(_ v: ValueRef, _ d: ValueRef) {
      adjoint[v] = adjoint[v].map { b.add(.add, [$0, d], range: range) } ?? d
    }
    for j in 0..<scan.states { accumulate(forward[body.outputs[j].value.node][body.outputs[j].value.result], stateSeeds[j]) }
    for k in 0..<scan.outputs {
      let o = body.outputs[scan.states + k].value
      accumulate(forward[o.node][o.result], outputSeeds[k])
    }
    var products: [BodyProduct] = []
    var productYields: [ValueRef] = []
    for i in body.nodes.indices.reversed() {
      let node = body.nodes[i]
      guard let dy = adjoint[forward[i][0]] else { continue }
      switch node.op {
      case .argument, .parameter, .zeros: continue
      case .linear, .linearUnshared, .activation, .add, .mul, .scale, .blend, .slice, .concat, .reduce, .mask: break
      case .gru, .dense, .sequenceLayer, .norm, .scan, .packedLinear, .fused, .gradient, .hold, .reverseTime:
        preconditionFailure("'\(node.op.mnemonic)' cannot be in the body of a scan being differentiated")
      }
      let x = node.operands.map { forward[$0.node][$0.result] }
      var rules = AdjointRules(builder: b, range: range, inBody: true)
      let contributions = rules.adjoints(node.op, operands: x, result: forward[i][0], dy: dy)
      b = rules.builder
      for (k, d) in contributions {
        if case .parameter(let weight) = b.graph.nodes[x[k].node].op {
          // A product's weight: its gradient (and its bias's) is summed over the steps outside.
          guard case .linear = node.op, k == 1 else { preconditionFailure("parameter '\(weight)' used by '\(node.op.mnemonic)'") }
          var bias: String?
          if x.count > 2, case .parameter(let name) = b.graph.nodes[x[2].node].op { bias = name }
          products.append(BodyProduct(weight: weight, bias: bias))
          productYields += [x[0], d]
        } else {
          accumulate(x[k], d)
        }
      }
    }
    func adjointOrZeros(_ v: ValueRef) -> ValueRef {
      adjoint[v] ?? b.add(.zeros(b.type(of: v)!), [], range: range)
    }
    for j in 0..<scan.states { b.output("d_state\(j)", adjointOrZeros(forward[arguments[scan.sequences + j]][0])) }
    for k in 0..<scan.sequences { b.output("d_sequence\(k)", adjointOrZeros(forward[arguments[k]][0])) }
    for (p, v) in productYields.enumerated() { b.output(p % 2 == 0 ? "product_input" : "product_adjoint", v) }
    return (b.graph, products)
  }
}
