// Helpers for passes that build graphs: a builder that types each node as it is added (by the
// same rules the verifier checks), and a rewriter that copies a graph while replacing some nodes.

/// Appends nodes to a graph, typing each from its operands.
public struct GraphBuilder {
  public private(set) var graph: Graph
  public let module: Module

  public init(module: Module, graph: Graph = Graph()) {
    self.module = module
    self.graph = graph
  }

  public func type(of v: ValueRef) -> TensorType? { graph.type(of: v) }

  /// Adds a node and returns its first result. If the operands do not fit the op the types stay
  /// unknown, and the verifier reports the node after the pass.
  @discardableResult
  public mutating func add(_ op: Op, _ operands: [ValueRef], range: SourceRange, hint: String? = nil) -> ValueRef {
    let operandTypes = operands.compactMap { graph.type(of: $0) }
    var types: [TensorType?] = Array(repeating: nil, count: op.resultCount)
    if operandTypes.count == operands.count, let inferred = try? TypeRules.infer(op, operandTypes, module: module) {
      types = inferred
    }
    return graph.append(Node(op, operands, types: types, range: range, hint: hint))
  }

  /// Adds an argument (of a graph or of a scan body) with its declared type.
  public mutating func argument(_ name: String, _ type: TensorType, range: SourceRange) -> ValueRef {
    graph.append(Node(.argument(name: name, type: type), [], types: [type], range: range, hint: name))
  }

  /// Adds a node exactly as given (operands must already refer to this graph).
  @discardableResult
  public mutating func append(_ node: Node) -> ValueRef { graph.append(node) }

  public mutating func output(_ name: String, _ value: ValueRef) {
    graph.outputs.append(GraphOutput(name: name, value: value))
  }
}

/// Copies a graph node by node into a new one. For each old node (and its index), a transform may
/// emit replacement nodes and return the values that stand for the old node's results.
public struct GraphRewriter {
  public var builder: GraphBuilder
  private var mapping: [[ValueRef]] = []

  /// The new value standing for an old one.
  public func map(_ v: ValueRef) -> ValueRef { mapping[v.node][v.result] }

  public func mapped(_ node: Node) -> [ValueRef] { node.operands.map(map) }

  /// Rewrites `graph`. `transform` returns nil to keep a node (with remapped operands).
  public static func rewrite(
    _ graph: Graph, module: Module,
    _ transform: (inout GraphRewriter, Int, Node) -> [ValueRef]?
  ) -> Graph {
    var r = GraphRewriter(builder: GraphBuilder(module: module))
    for (index, node) in graph.nodes.enumerated() {
      if let replacement = transform(&r, index, node) {
        r.mapping.append(replacement)
      } else {
        var copy = node
        copy.operands = r.mapped(node)
        let first = r.builder.append(copy)
        r.mapping.append((0..<node.types.count).map { ValueRef(first.node, $0) })
      }
    }
    for o in graph.outputs { r.builder.output(o.name, r.map(o.value)) }
    return r.builder.graph
  }
}
