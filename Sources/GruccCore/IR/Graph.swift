// Graphs, nodes and the module that owns the weights. A graph is an array of nodes in
// topological order; a value is (node index, result index).

/// A reference to one result of one node of the enclosing graph.
public struct ValueRef: Sendable, Hashable {
  public var node: Int
  public var result: Int

  public init(_ node: Int, _ result: Int = 0) {
    self.node = node
    self.result = result
  }
}

/// One operation in a graph. `types` has one entry per result; nil until shape inference.
public struct Node: Sendable {
  public var op: Op
  public var operands: [ValueRef]
  public var types: [TensorType?]
  public var range: SourceRange
  /// A short name for the value (`r`, `z`, `n`): dumps print it and the C emitter names buffers after it.
  public var hint: String?

  public init(_ op: Op, _ operands: [ValueRef], types: [TensorType?]? = nil, range: SourceRange, hint: String? = nil) {
    self.op = op
    self.operands = operands
    self.types = types ?? Array(repeating: nil, count: op.resultCount)
    self.range = range
    self.hint = hint
  }
}

/// A named result of a graph: a model output, or a scan body's yielded value.
public struct GraphOutput: Sendable {
  public var name: String
  public var value: ValueRef

  public init(name: String, value: ValueRef) {
    self.name = name
    self.value = value
  }
}

/// Nodes in topological order (every operand refers to an earlier node) and the outputs.
public struct Graph: Sendable {
  public var nodes: [Node] = []
  public var outputs: [GraphOutput] = []

  public init() {}

  public func type(of v: ValueRef) -> TensorType? {
    let types = nodes[v.node].types
    return v.result < types.count ? types[v.result] : nil
  }

  /// Indices of the argument nodes, in order.
  public var argumentNodes: [Int] {
    nodes.indices.filter { if case .argument = nodes[$0].op { return true } else { return false } }
  }

  /// Appends a node and returns a reference to its first result.
  @discardableResult
  public mutating func append(_ node: Node) -> ValueRef {
    nodes.append(node)
    return ValueRef(nodes.count - 1)
  }
}

extension Graph {
  /// The graph with each scan's body replaced by `transform(body)`: how passes that work inside
  /// the time loops reach them.
  func mappingScanBodies(_ transform: (Graph) -> Graph) -> Graph {
    var graph = self
    for i in graph.nodes.indices {
      guard case .scan(var scan) = graph.nodes[i].op else { continue }
      scan.body = transform(scan.body)
      graph.nodes[i].op = .scan(scan)
    }
    return graph
  }
}

/// A weight tensor with its values. Values are stored as Double; for an f32 model each value is
/// exactly representable as Float (weight binding rounds once, on load).
public struct Parameter: Sendable {
  public var name: String
  public var shape: [Int]
  public var values: [Double]
  /// What the tensor is, for comments in the generated C: `reset gate r: input weights W_r`.
  public var role: String
  /// The width of the panels the values are stored in (PackWeights), or nil when they are in
  /// row-major order.
  public var panel: Int?
  /// A tensor known by its shape only, with no values (`grucc check` works out sizes without
  /// making weights it does not print). Passes carry it through; nothing may read its values.
  public var isPlaceholder: Bool
  /// `weights-storage int8`: the packed matrix quantised (PackWeights); `values` then hold the
  /// dequantised weights, q · scale.
  public var int8: Int8Rows?

  public init(
    name: String, shape: [Int], values: [Double], role: String, panel: Int? = nil, isPlaceholder: Bool = false
  ) {
    self.name = name
    self.shape = shape
    self.values = values
    self.role = role
    self.panel = panel
    self.isPlaceholder = isPlaceholder
  }

  /// The number of elements, from the shape (placeholders have no values to count).
  public var count: Int { shape.reduce(1, *) }
}

/// A matrix in int8, one scale per row (Int8Product).
public struct Int8Rows: Sendable {
  /// Row-major `[N, K]`.
  public var q: [Int8]
  public var scales: [Float]
}

/// The unit every pass transforms: the graph plus the weights and what the model file said about
/// the interface (name, precision, layout, source file).
public struct Module: Sendable {
  public var name: String
  public var precision: Precision
  /// What the C stores packed weight matrices as (the bound values are already rounded to it).
  public var weightElement: WeightElement = .f32
  public var layout: SequenceLayout
  /// The fixed sequence length, if the input declares one.
  public var steps: Int?
  /// The .gru file's base name, for dumps and generated-file headers.
  public var sourceName: String
  public var graph: Graph
  public var parameters: [Parameter] = [] { didSet { parameterIndex = ParameterIndex() } }
  /// The model in a few lines (ModelSummary), for the header of generated files.
  public var summary: [String] = []

  /// Finds parameters by name without a search; see ParameterIndex.
  var parameterIndex = ParameterIndex()

  public var dtype: DType { DType(precision) }

  public func parameter(named name: String) -> Parameter? { parameterIndex(named: name).map { parameters[$0] } }

  public func parameterIndex(named name: String) -> Int? { parameterIndex.position(of: name, in: parameters) }
}
