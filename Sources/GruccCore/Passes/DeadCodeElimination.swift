// Dead-code elimination: drops nodes no output depends on, scanned sequences a body no longer
// reads (after hoisting), and weight tensors nothing refers to.

/// Requires: a verified module. Guarantees: every node of every graph is an argument or is used
/// (transitively) by an output; every scan sequence operand is read by its body; every parameter
/// is referred to by a `parameter` node or by a high-level op that needs it.
public struct DeadCodeElimination: Pass {
  public let name = "dead-code-elimination"

  public init() {}

  public func run(_ module: Module, diagnostics: inout DiagnosticEngine) -> Module {
    var result = module
    result.graph = eliminate(module.graph, module: module)
    // Parameters in order of first use, so the generated C lists weights as the code reads them.
    let used = referencedParameters(result.graph, module: result)
    result.parameters = used.compactMap { name in module.parameter(named: name) }
    return result
  }

  private func eliminate(_ input: Graph, module: Module) -> Graph {
    var graph = input
    for i in graph.nodes.indices {
      if case .scan(let scan) = graph.nodes[i].op { graph.nodes[i] = simplify(scan, graph.nodes[i], module: module) }
    }
    var live = graph.nodes.map { if case .argument = $0.op { return true } else { return false } }
    for o in graph.outputs { live[o.value.node] = true }
    for i in graph.nodes.indices.reversed() where live[i] {
      for v in graph.nodes[i].operands { live[v.node] = true }
    }
    return graph.keeping(live)
  }

  /// Simplifies a scan's body and drops sequence operands the body does not read.
  private func simplify(_ scan: Scan, _ node: Node, module: Module) -> Node {
    var scan = scan
    scan.body = eliminate(scan.body, module: module)
    var used = Array(repeating: false, count: scan.body.nodes.count)
    for n in scan.body.nodes { for v in n.operands { used[v.node] = true } }
    for o in scan.body.outputs { used[o.value.node] = true }
    let arguments = scan.body.argumentNodes
    var keep = Array(repeating: true, count: scan.body.nodes.count)
    var operands = node.operands
    var dropped = 0
    for k in (0..<scan.sequences).reversed() where !used[arguments[k]] && scan.sequences - dropped > 1 {
      keep[arguments[k]] = false
      operands.remove(at: k)
      dropped += 1
    }
    guard dropped > 0 else {
      var copy = node
      copy.op = .scan(scan)
      return copy
    }
    scan.body = scan.body.keeping(keep)
    scan.sequences -= dropped
    var copy = node
    copy.op = .scan(scan)
    copy.operands = operands
    return copy
  }

  /// Names of the parameters the graph refers to, in order of first reference, without repeats.
  private func referencedParameters(_ graph: Graph, module: Module) -> [String] {
    var names: [String] = []
    var seen = Set<String>()
    referencedParameters(graph, module: module, into: &names, seen: &seen)
    return names
  }

  private func referencedParameters(_ graph: Graph, module: Module, into names: inout [String], seen: inout Set<String>) {
    func add(_ more: [String]) { for n in more where seen.insert(n).inserted { names.append(n) } }
    for node in graph.nodes {
      switch node.op {
      case .parameter(let name): add([name])
      case .scan(let s): referencedParameters(s.body, module: module, into: &names, seen: &seen)
      case .gru, .dense, .sequenceLayer, .norm: add(ParameterSpecs.required(by: node, in: graph).map(\.name))
      case .argument, .zeros, .linear, .packedLinear, .linearUnshared, .activation, .add, .mul, .scale, .blend, .slice,
        .concat, .reduce, .mask, .hold, .reverseTime, .fused, .gradient:
        break
      }
    }
  }
}

extension Graph {
  /// The graph without the nodes whose `keep` flag is false; operands and outputs are renumbered.
  /// The dropped nodes must not be used by kept ones.
  func keeping(_ keep: [Bool]) -> Graph {
    var newIndex = Array(repeating: -1, count: nodes.count)
    var result = Graph()
    for (i, node) in nodes.enumerated() where keep[i] {
      var copy = node
      copy.operands = node.operands.map { ValueRef(newIndex[$0.node], $0.result) }
      newIndex[i] = result.nodes.count
      result.nodes.append(copy)
    }
    result.outputs = outputs.map { GraphOutput(name: $0.name, value: ValueRef(newIndex[$0.value.node], $0.value.result)) }
    return result
  }
}
