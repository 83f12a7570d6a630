// ONNX → .gru: evaluates the graph node by node at import time. Nodes whose inputs are known
// (constants, shapes computed from the input's, the zero initial state, the lengths and the
// permutations that sort a batch by them) are folded (ShapeFolder); nodes on the data path are
// tracked element by element (DataLayout), and become .gru statements when they reach an
// operator grucc has: GRU, a dense layer, an activation, a reduction over time, an output.
// Whatever has no grucc equivalent is refused by name, with the reason.

/// What an ONNX tensor is, as far as the import is concerned.
enum ImportValue {
  /// Depends on the sequence input (or is an initial-state input): tracked element by element.
  case data(DataValue)
  /// Known at import time, possibly in terms of the batch size and the number of steps.
  case folded(FoldedTensor)
  /// One value repeated over a shape that may depend on B and T.
  case filled(FilledTensor)
  /// One value per sequence: the lengths, or a reordering of the batch.
  case perSequence(SequenceVector)

  var kindDescription: String {
    switch self {
    case .data: return "a tensor computed from the input"
    case .folded(let t): return "a constant \(t.shapeDescription)"
    case .filled(let f): return "a constant \(numberText(f.value)) of shape \(symbolicShapeText(f.shape))"
    case .perSequence(let v):
      switch v.kind {
      case .lengths: return "the sequence lengths"
      case .permutation: return "a reordering of the batch"
      case .iota: return "the row numbers of the batch"
      }
    }
  }
}

public enum OnnxImporter {
  /// Imports a model file held in memory; a model whose tensors live in external files needs
  /// the driver, which reads those (`importModel(_ model:...)`).
  public static func importModel(
    _ bytes: [UInt8], modelName: String, weightsFile: String, sourceName: String
  ) -> Result<ImportedModel, ImportError> {
    let model: OnnxModel
    do {
      model = try Onnx.read(bytes)
    } catch {
      return .failure(ImportError(node: nil, message: error.message))
    }
    return importModel(model, modelName: modelName, weightsFile: weightsFile, sourceName: sourceName)
  }

  /// Imports a decoded model. `modelName` names the model (the C prefix), `weightsFile` the
  /// safetensors file the program reads.
  static func importModel(
    _ model: OnnxModel, modelName: String, weightsFile: String, sourceName: String
  ) -> Result<ImportedModel, ImportError> {
    // Which input axis is the batch is decided by how the input reaches the first GRU; trying
    // both orders is simpler than tracing it, and the graphs are small.
    var best: ImportError?
    for layout in [SequenceLayout.batchMajor, .timeMajor] {
      var session = OnnxImportSession(
        model: model, layout: layout, modelName: modelName, weightsFile: weightsFile, sourceName: sourceName)
      switch session.run() {
      case .success(let imported): return .success(imported)
      case .failure(let e):
        if best == nil || e.ranks(above: best!) { best = e }
      }
    }
    return .failure(best!)
  }
}

/// One attempt at importing a graph under one assumption about the input's layout.
struct OnnxImportSession {
  let model: OnnxModel
  let layout: SequenceLayout
  let modelName: String
  let weightsFile: String
  let sourceName: String
  var values: [String: ImportValue] = [:]
  /// What data tensors' elements refer to.
  var parts: [Part] = []
  var program = ProgramWriter()
  var body: [String] = []
  var tensors: [NamedTensor] = []
  var notes: [String] = []
  var inputMaps: [ImportedTensorMap] = []
  var outputMaps: [ImportedTensorMap] = []
  var progress = 0
  var layerCount = 0
  /// Layers whose number of steps is no polynomial in T (strided), each its own opaque count.
  var opaqueLayers = 0
  /// Lines written per kind of layer ("pad", "pool"...), to number those without a module name.
  var layerNumbers: [String: Int] = [:]
  var denseCount = 0
  var precision = Precision.f32
  var sizes = DeclaredSizes()
  var sequenceInput = ""
  var inputName = ""
  var inputFeatures = 0
  /// The lengths graph input and grucc's name for it, once a GRU uses it.
  var lengthsInput: String?
  var lengthsName: String?
  var usesLengths = false
  /// Graph inputs other than the sequence and what they were taken for.
  var otherInputs: [OnnxValueInfo] = []
  var usedInputs: Set<String> = []

  init(model: OnnxModel, layout: SequenceLayout, modelName: String, weightsFile: String, sourceName: String) {
    self.model = model
    self.layout = layout
    self.modelName = modelName
    self.weightsFile = weightsFile
    self.sourceName = sourceName
  }

  static func describe(_ node: OnnxNode) -> String {
    "node \(quoted(node.name.isEmpty ? node.outputs.first ?? "?" : node.name)) (\(node.opType))"
  }

  func fail(_ node: OnnxNode?, _ message: String) -> ImportError {
    ImportError(node: node.map(Self.describe), message: message, progress: progress)
  }

  mutating func run() -> Result<ImportedModel, ImportError> {
    do throws(ImportError) {
      return .success(try importGraph())
    } catch {
      var e = error
      e.progress = progress
      return .failure(e)
    }
  }

  private mutating func importGraph() throws(ImportError) -> ImportedModel {
    let graph = model.graph
    for t in graph.initializers {
      if let external = t.external {
        throw fail(nil, "tensor \(quoted(t.name)) stores its data in the external file \(quoted(external.location)), which was not read; "
          + "give grucc the model's path so it can read the file beside it")
      }
      values[t.name] = .folded(FoldedTensor(t))
    }
    try declareInputs(graph)

    for node in graph.nodes {
      guard node.domain.isEmpty || node.domain == "ai.onnx" else {
        throw fail(node, "operators of domain \(quoted(node.domain)) are not supported")
      }
      do {
        try evaluate(node)
        try checkSizes(node)
      } catch {
        var e = error
        if e.node == nil { e.node = Self.describe(node) }
        throw e
      }
      progress += 1
    }

    var outputs: [String] = []
    for output in graph.outputs {
      outputs += try graphOutput(output)
    }
    for input in otherInputs where !usedInputs.contains(input.name) {
      throw fail(nil, "graph input \(quoted(input.name)) is neither the sequence (\(quoted(sequenceInput))), its lengths, "
        + "nor a GRU's initial state; grucc models take only those")
    }

    var lines: [String] = []
    let file = sourceName.split(separator: "/").last.map(String.init) ?? sourceName
    lines.append("# Imported by grucc \(Compiler.version) from \(file)"
      + (model.producerName.isEmpty ? "" : " (made by \(model.producerName) \(model.producerVersion))") + ".")
    for note in notes { lines.append("# Note: \(note)") }
    lines.append("model \(modelName)")
    lines.append("precision \(precision.rawValue)")
    var input = "input \(inputName)[\(inputFeatures)], layout \(layout.rawValue)"
    if usesLengths, let lengthsName { input += ", lengths \(lengthsName)" }
    lines.append(input)
    lines += body + outputs
    if !tensors.isEmpty { lines.append("weights \"\(weightsFile)\"") }
    return ImportedModel(
      source: lines.joined(separator: "\n") + "\n", tensors: tensors, weightsFile: weightsFile, notes: notes,
      inputs: inputMaps, outputs: outputMaps)
  }

  // MARK: - Inputs

  /// The sequence input is the graph input the first GRU's X is computed from; integer vectors
  /// are lengths, other float inputs initial states (each confirmed by its use).
  private mutating func declareInputs(_ graph: OnnxGraph) throws(ImportError) {
    let initializerNames = Set(graph.initializers.map(\.name))
    let inputs = graph.inputs.filter { !initializerNames.contains($0.name) }
    guard let firstGRU = graph.nodes.first(where: { $0.opType == "GRU" }), let x0 = firstGRU.inputs.first else {
      // A loop is the likely reason there is no GRU: report it before any other stranger.
      if let other = graph.nodes.first(where: { ["Loop", "Scan"].contains($0.opType) })
        ?? graph.nodes.first(where: { !Self.supported.contains($0.opType) })
      {
        var session = self
        do throws(ImportError) {
          try session.evaluate(other)
        } catch {
          throw fail(other, error.message + "; the graph has no GRU node")
        }
        throw fail(other, "operator \(quoted(other.opType)) is not supported, and the graph has no GRU node")
      }
      throw fail(nil, "the graph has no GRU node; grucc imports models built around ONNX's GRU operator")
    }
    let feeding = ancestors(of: x0, in: graph)
    // Lengths may reach X too (sorting the batch by them); the sequence is the float input.
    let candidates = inputs.filter { feeding.contains($0.name) && FoldedKind($0.elementType ?? .float) == .float }
    guard candidates.count == 1, let x = candidates.first else {
      throw fail(nil, candidates.isEmpty ? "the first GRU's input X does not come from a graph input"
        : "the first GRU's input X is computed from several graph inputs (" + candidates.map { quoted($0.name) }.joined(separator: ", ")
          + "); grucc models take one sequence")
    }
    switch x.elementType {
    case .float?, nil: precision = .f32
    case .double?: precision = .f64
    case let t?: throw fail(nil, "input \(quoted(x.name)) has element type \(t.name); grucc reads FLOAT or DOUBLE sequences")
    }
    guard let shape = x.shape, shape.count == 3, case .fixed(let features) = shape[2], features > 0 else {
      throw fail(nil, "input \(quoted(x.name)) must be 3-D with a fixed feature size, as a GRU's X is (found \(dimsText(x.shape)))")
    }
    // The language's bound, checked here before anything is sized by it.
    guard features <= Sema.maxSize else {
      throw fail(nil, "input \(quoted(x.name)) has \(features) features; grucc models take at most \(Sema.maxSize)")
    }
    let (batchDim, timeDim) = layout == .batchMajor ? (shape[0], shape[1]) : (shape[1], shape[0])
    if case .fixed(let b) = batchDim { sizes.batch = b }
    if case .fixed(let t) = timeDim { sizes.time = t }
    if sizes.batch == 0 || sizes.time == 0 { throw fail(nil, "input \(quoted(x.name)) declares an empty batch or sequence \(dimsText(x.shape))") }
    sequenceInput = x.name
    inputFeatures = features
    inputName = program.name(x.name, fallback: "x")
    let slots: [Slot] = layout == .batchMajor ? [.batch, .time, .fixed(features)] : [.time, .batch, .fixed(features)]
    let part = addPart(Part(text: inputName, kind: .expression, features: features, isSequence: true, zeroPastEnd: false))
    values[x.name] = .data(DataValue(slots: slots, elements: (0..<features).map { Element(part: part, column: $0) }))
    inputMaps.append(ImportedTensorMap(grucc: inputName, framework: x.name, axes: slots.map(Self.mapAxis), columns: Array(0..<features)))
    let fixedSizes = [sizes.batch.map { "a batch of \($0)" }, sizes.time.map { "\($0) steps" }].compactMap { $0 }
    if !fixedSizes.isEmpty {
      notes.append("the ONNX graph was exported for \(fixedSizes.joined(separator: " and ")); grucc's model takes "
        + (fixedSizes.count == 2 ? "any" : sizes.batch == nil ? "any number of steps" : "any batch"))
    }

    for input in inputs where input.name != x.name {
      otherInputs.append(input)
      let kind = input.elementType.map(FoldedKind.init)
      switch kind {
      case .integer?:
        guard let s = input.shape, s.count == 1 else {
          throw fail(nil, "graph input \(quoted(input.name)) is integer but not a vector \(dimsText(input.shape)); as sequence lengths it would be [batch]")
        }
        values[input.name] = .perSequence(SequenceVector(kind: .lengths, order: .identity, axes: [.batch], elementKind: .integer))
        lengthsInput = input.name
      case .float?:
        values[input.name] = .data(try initialStateInput(input, batchDim: batchDim))
      default:
        throw fail(nil, "graph input \(quoted(input.name)) has element type \(input.elementType?.name ?? "unknown"); "
          + "besides the sequence, grucc takes integer lengths and float initial states")
      }
    }
  }

  /// The names of everything `name` is computed from, graph inputs included.
  private func ancestors(of name: String, in graph: OnnxGraph) -> Set<String> {
    var producer: [String: OnnxNode] = [:]
    for n in graph.nodes { for o in n.outputs where !o.isEmpty { producer[o] = n } }
    var seen: Set<String> = []
    var stack = [name]
    while let v = stack.popLast() {
      guard seen.insert(v).inserted, let n = producer[v] else { continue }
      // A GRU's output depends on its X; its other inputs are weights, lengths and states.
      stack += n.opType == "GRU" ? Array(n.inputs.prefix(1)) : n.inputs.filter { !$0.isEmpty }
    }
    return seen
  }

  /// A float graph input besides the sequence: an initial state, tracked element by element so
  /// that slicing it per layer and direction leads each GRU to its own part of it.
  private mutating func initialStateInput(_ input: OnnxValueInfo, batchDim: OnnxDim) throws(ImportError) -> DataValue {
    guard let shape = input.shape, !shape.isEmpty else {
      throw fail(nil, "graph input \(quoted(input.name)) has no declared shape; as an initial state it would be [directions, batch, hidden]")
    }
    func isBatch(_ d: OnnxDim) -> Bool {
      switch (d, batchDim) {
      case (.symbolic(let a), .symbolic(let b)): return a == b
      case (.fixed(let a), .fixed(let b)): return a == b
      default: return false
      }
    }
    var candidates = shape.indices.filter { isBatch(shape[$0]) }
    if candidates.isEmpty { candidates = shape.indices.filter { if case .fixed = shape[$0] { false } else { true } } }
    // PyTorch's h0 is [layers·directions, batch, hidden] whatever batch_first says, as ONNX's initial_h.
    guard let batchAxis = candidates.count == 1 ? candidates[0] : (candidates.contains(1) && shape.count == 3 ? 1 : nil) else {
      throw fail(nil, "graph input \(quoted(input.name)) \(dimsText(shape)): grucc cannot tell which axis is the batch")
    }
    var slots: [Slot] = []
    for (k, d) in shape.enumerated() {
      if k == batchAxis { slots.append(.batch); continue }
      guard case .fixed(let n) = d, n > 0 else {
        throw fail(nil, "graph input \(quoted(input.name)) \(dimsText(shape)) has a size that is not fixed besides the batch")
      }
      slots.append(.fixed(n))
    }
    guard let count = Checked.elementCount(slots.compactMap(\.fixedSize)), count <= Sema.maxSize * 64 else {
      throw fail(nil, "graph input \(quoted(input.name)) \(dimsText(shape)) is too large")
    }
    let part = addPart(Part(text: input.name, kind: .input, features: count, isSequence: false, zeroPastEnd: false))
    return DataValue(slots: slots, elements: (0..<count).map { Element(part: part, column: $0) })
  }

  static func mapAxis(_ s: Slot) -> ImportedTensorMap.Axis {
    switch s {
    case .batch: return .batch
    case .time: return .time
    case .fixed(let n): return .fixed(n)
    case .merged: preconditionFailure("graphOutput refuses flattened batch and time axes")
    }
  }

  private func dimsText(_ shape: [OnnxDim]?) -> String {
    guard let shape else { return "(no shape)" }
    return "[" + shape.map { d -> String in
      switch d {
      case .fixed(let n): return String(n)
      case .symbolic(let s): return s
      case .unknown: return "?"
      }
    }.joined(separator: ", ") + "]"
  }

  /// Every axis a node made is one grucc can list: constants and data tensors are held element
  /// by element, so a dimension past FoldedTensor.maxElements (possible when another is 0) would
  /// make a later step list billions of positions.
  private func checkSizes(_ node: OnnxNode) throws(ImportError) {
    for name in node.outputs where !name.isEmpty {
      let dims: [Int]
      switch values[name] {
      case .folded(let t)?: dims = t.dims
      case .data(let d)?: dims = d.fixedDims
      default: continue
      }
      if let big = dims.first(where: { $0 > FoldedTensor.maxElements }) {
        throw importFailure("output \(quoted(name)) would have an axis of \(big) elements; grucc folds at most \(FoldedTensor.maxElements)")
      }
    }
  }

  mutating func addPart(_ p: Part) -> Int {
    parts.append(p)
    return parts.count - 1
  }

  // MARK: - Node inputs and attributes

  func value(_ node: OnnxNode, _ index: Int) throws(ImportError) -> ImportValue? {
    guard index < node.inputs.count, !node.inputs[index].isEmpty else { return nil }
    guard let v = values[node.inputs[index]] else {
      throw importFailure("input \(quoted(node.inputs[index])) is not produced by any earlier node")
    }
    return v
  }

  func required(_ node: OnnxNode, _ index: Int) throws(ImportError) -> ImportValue {
    guard let v = try value(node, index) else { throw importFailure("input \(index) is missing") }
    return v
  }

  /// A constant input (folded), or nil when the optional input is absent.
  func folded(_ node: OnnxNode, _ index: Int, _ what: String) throws(ImportError) -> FoldedTensor? {
    switch try value(node, index) {
    case nil: return nil
    case .folded(let t)?: return t
    case .filled(let f)?:
      let dims = f.shape.compactMap(\.constant)
      if dims.count == f.shape.count, let n = Checked.elementCount(dims), n <= FoldedTensor.maxElements {
        return FoldedTensor(dims: dims, kind: f.kind, numbers: [Double](repeating: f.value, count: n))
      }
      throw importFailure("\(what) must be a constant; it is \(ImportValue.filled(f).kindDescription)")
    case let v?: throw importFailure("\(what) must be a constant; it is \(v.kindDescription)")
    }
  }

  func attribute(_ node: OnnxNode, _ name: String) -> OnnxAttribute.Value? { node.attribute(name)?.value }

  func int(_ node: OnnxNode, _ name: String, default d: Int) throws(ImportError) -> Int {
    switch attribute(node, name) {
    case nil: return d
    case .int(let v)?:
      // Bounded so that adding a rank to it (a negative axis) cannot overflow.
      guard abs(v) <= 1 << 62 else { throw importFailure("attribute \(quoted(name)) is \(v), out of range") }
      return Int(v)
    case let v?: throw importFailure("attribute \(quoted(name)) is \(v.typeName), expected INT")
    }
  }

  func ints(_ node: OnnxNode, _ name: String) throws(ImportError) -> [Int]? {
    switch attribute(node, name) {
    case nil: return nil
    case .ints(let v)?:
      return try v.map { (x) throws(ImportError) -> Int in
        guard abs(x) <= 1 << 62 else { throw importFailure("attribute \(quoted(name)) holds \(x), out of range") }
        return Int(x)
      }
    case let v?: throw importFailure("attribute \(quoted(name)) is \(v.typeName), expected INTS")
    }
  }

  func float(_ node: OnnxNode, _ name: String) throws(ImportError) -> Double? {
    switch attribute(node, name) {
    case nil: return nil
    case .float(let v)?: return Double(v.description) ?? Double(v)
    case let v?: throw importFailure("attribute \(quoted(name)) is \(v.typeName), expected FLOAT")
    }
  }

  /// Attributes this importer does not know would change the numbers silently; refuse them.
  func onlyAttributes(_ node: OnnxNode, _ known: [String]) throws(ImportError) {
    for a in node.attributes where !known.contains(a.name) {
      throw importFailure("attribute \(quoted(a.name)) is not supported")
    }
  }

  /// Axes given by attribute (older opsets) or by a constant input (newer ones); nil if neither.
  func axesArgument(_ node: OnnxNode, input: Int = 1) throws(ImportError) -> [Int]? {
    if let a = try ints(node, "axes") { return a }
    guard let t = try folded(node, input, "the axes") else { return nil }
    return try ShapeFolder.integers(t, "the axes")
  }

  mutating func set(_ node: OnnxNode, _ v: ImportValue, output: Int = 0) {
    if output < node.outputs.count, !node.outputs[output].isEmpty { values[node.outputs[output]] = v }
  }

  // MARK: - Dispatch

  static let activations: Set<String> = [
    "Sigmoid", "Tanh", "Relu", "Softsign", "Softplus", "LeakyRelu", "Elu", "HardSigmoid", "Clip",
  ]
  static let binaryArithmetic: Set<String> = ["Add", "Sub", "Mul", "Div", "Mod", "Pow", "Min", "Max"]
  static let comparisons: Set<String> = ["Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual"]
  static let logic: Set<String> = ["And", "Or", "Xor"]
  static let unaryArithmetic: Set<String> = ["Neg", "Abs", "Floor", "Ceil", "Round", "Sqrt", "Reciprocal", "Sign", "Not"]
  static let reductions: Set<String> = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd"]

  /// The operators this importer reads, for the message that refuses the others.
  static let supported = [
    "GRU", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Mod", "Pow", "Min", "Max", "Neg", "Abs", "Floor", "Ceil",
    "Round", "Sqrt", "Reciprocal", "Sign", "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or",
    "Xor", "Not", "Where", "Sigmoid", "Tanh", "Relu", "LeakyRelu", "Elu", "HardSigmoid", "Softsign", "Softplus", "Clip",
    "Softmax", "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "Transpose", "Squeeze", "Unsqueeze",
    "Reshape", "Flatten", "Gather", "Slice", "Concat", "Expand", "Shape", "Size", "ConstantOfShape", "Constant", "Range",
    "Cast", "CastLike", "TopK", "ScatterElements", "Identity", "Dropout", "Conv", "BatchNormalization", "LayerNormalization",
    "Pad", "AveragePool", "MaxPool", "LpNormalization", "ReduceL2",
  ]

  mutating func evaluate(_ node: OnnxNode) throws(ImportError) {
    let op = node.opType
    switch op {
    case "GRU": try gru(node)
    case "Gemm": try gemm(node)
    case "MatMul": try matMul(node)
    case "Conv": try conv(node)
    case "BatchNormalization": try batchNormalization(node)
    case "LayerNormalization": try layerNormalization(node)
    case "Pad": try padNode(node)
    case "AveragePool", "MaxPool": try pool(node)
    case "LpNormalization": try lpNormalization(node)
    case "ReduceL2": try reduceL2(node)
    case "Identity": set(node, try required(node, 0))
    case "Dropout":
      if node.outputs.count > 1, !node.outputs[1].isEmpty { throw importFailure("its mask output is not supported") }
      set(node, try required(node, 0))
    case "Constant": try constantNode(node)
    case "Shape", "Size": try shapeNode(node)
    case "Cast", "CastLike": try castNode(node)
    case _ where Self.activations.contains(op): try activation(node)
    case "Softmax": try softmax(node)
    case _ where Self.reductions.contains(op): try reduction(node)
    case "Transpose": try transposeNode(node)
    case "Squeeze", "Unsqueeze": try squeezeNode(node)
    case "Reshape", "Flatten": try reshapeNode(node)
    case "Gather": try gatherNode(node)
    case "Slice": try sliceNode(node)
    case "Concat": try concatNode(node)
    case "Expand": try expandNode(node)
    case "ConstantOfShape": try constantOfShape(node)
    case "Range": try rangeNode(node)
    case "TopK": try topK(node)
    case "ScatterElements": try scatterElements(node)
    case "Where": try whereNode(node)
    case _ where Self.binaryArithmetic.contains(op) || Self.comparisons.contains(op) || Self.logic.contains(op)
      || Self.unaryArithmetic.contains(op):
      try arithmeticNode(node)
    case "Loop", "Scan":
      throw importFailure("operator \(quoted(op)) is not supported: grucc imports recurrent layers as ONNX GRU nodes, not as loops "
        + "(tf2onnx writes a Loop for a Keras GRU it cannot fuse into one, such as reset_after=False or a GRU behind Masking)")
    default:
      throw importFailure("operator \(quoted(op)) is not supported; grucc imports " + Self.supported.joined(separator: ", "))
    }
  }

  // MARK: - Outputs

  /// `output` statements for one graph output: one when it is one grucc expression, several when
  /// it joins several (the states of a stacked GRU).
  private mutating func graphOutput(_ output: OnnxValueInfo) throws(ImportError) -> [String] {
    guard let value = values[output.name] else {
      throw fail(nil, "graph output \(quoted(output.name)) is not produced by any node")
    }
    guard case .data(let v) = value else {
      throw fail(nil, "graph output \(quoted(output.name)) is \(value.kindDescription), which does not depend on the input; "
        + "grucc models compute every output from it")
    }
    guard v.order.isIdentity else {
      throw fail(nil, "graph output \(quoted(output.name)) has its sequences \(v.order), not in the input's order")
    }
    if let flat = v.slots.first(where: { if case .merged = $0 { true } else { false } }) {
      throw fail(nil, "graph output \(quoted(output.name)) is \(slotsText(v.slots)), with the \(flat) axes flattened into one; "
        + "grucc outputs sequences with separate batch and time axes")
    }
    let used = v.parts
    var lines: [String] = []
    var made: [(name: String, part: Int)] = []
    for (k, p) in used.enumerated() {
      try materialise(p, for: "graph output \(quoted(output.name))")
      let part = parts[p]
      var columns = [Int](repeating: -1, count: part.features)
      for (i, e) in v.elements.enumerated() where e.part == p {
        guard columns[e.column] < 0 else {
          throw fail(nil, "graph output \(quoted(output.name)) holds feature \(e.column) of \(part.text) twice; grucc outputs each once")
        }
        columns[e.column] = i
      }
      if let missing = columns.firstIndex(of: -1) {
        throw fail(nil, "graph output \(quoted(output.name)) holds only some of the \(part.features) features of \(part.text) "
          + "(not feature \(missing)); grucc outputs whole tensors")
      }
      let hint = used.count == 1 ? output.name : "\(output.name)_\(k + 1)"
      let name = program.name(hint, fallback: "output\(outputMaps.count + 1)")
      lines.append("output \(name) = \(part.text)")
      made.append((name, p))
      outputMaps.append(ImportedTensorMap(grucc: name, framework: output.name, axes: v.slots.map(Self.mapAxis), columns: columns))
      if usesLengths && part.isSequence && !part.zeroPastEnd {
        notes.append("output \(quoted(output.name)) past each sequence's length: grucc writes zeros there, ONNX the values computed from the padding")
      }
    }
    if let note = layoutNote(output.name, v, made: made) { notes.append(note) }
    return lines
  }

  /// Says how grucc's arrangement of an output differs from ONNX's, if it does.
  private func layoutNote(_ name: String, _ v: DataValue, made: [(name: String, part: Int)]) -> String? {
    let grucc = { (p: Int) -> String in
      let f = parts[p].features
      return parts[p].isSequence ? (layout == .batchMajor ? "[B, T, \(f)]" : "[T, B, \(f)]") : "[B, \(f)]"
    }
    if made.count == 1 {
      let core = v.slots.filter { $0 != .fixed(1) }
      let p = made[0].part
      let leading: [Slot] = !parts[p].isSequence ? [.batch] : layout == .batchMajor ? [.batch, .time] : [.time, .batch]
      let standard = leading + v.fixedDims.filter { $0 != 1 }.map(Slot.fixed)
      let identity = v.elements.enumerated().allSatisfy { $0.element.column == $0.offset }
      if core == standard && identity { return nil }
      var text = "output \(quoted(name)) is \(slotsText(v.slots)) in ONNX; grucc writes it as \(grucc(p))"
      if v.fixedDims.filter({ $0 != 1 }).count > 1 { text += ", the fixed axes \(slotsText(v.fixedDims.map(Slot.fixed))) flattened in order" }
      return text
    }
    // Each grucc output is a block of the ONNX tensor's fixed axes (a stacked GRU's h_n: one
    // layer's rows, its directions side by side).
    let list = made.map { m -> String in
      let columns = v.elements.enumerated().filter { $0.element.part == m.part }.map(\.offset)
      return "\(m.name) = \(parts[m.part].text) \(grucc(m.part)) from its elements \(rangeText(columns, v.fixedDims))"
    }.joined(separator: ", ")
    return "output \(quoted(name)) \(slotsText(v.slots)) in ONNX is \(made.count) outputs in grucc: \(list)"
  }

  // MARK: - Parts as grucc expressions

  /// Makes part `p` a plain grucc expression: a pending dense becomes a `let` binding; an input,
  /// or a sum waiting for its division, cannot be used by `user`.
  mutating func materialise(_ p: Int, for user: String) throws(ImportError) {
    switch parts[p].kind {
    case .expression: return
    case .input:
      throw importFailure("the initial state input \(quoted(parts[p].text)) reaches \(user); grucc passes initial states only to GRUs")
    case .timeSum:
      throw importFailure("a sum over time reaches \(user); grucc can use it only divided by the lengths (or the number of steps), which is its mean")
    case .pendingDense(let dense):
      let name = program.name(dense.name, fallback: "dense\(denseCount)")
      body.append("let \(name) = dense(\(parts[dense.source].text), \(dense.units))")
      let dtype: TensorDType = precision == .f32 ? .f32 : .f64
      tensors.append(NamedTensor(name: "\(name).w", dtype: dtype, shape: [dense.units, dense.inputs], values: dense.weight))
      tensors.append(NamedTensor(name: "\(name).b", dtype: dtype, shape: [dense.units], values: dense.bias))
      parts[p].kind = .expression
      parts[p].text = name
    case .pendingConv(let conv):
      parts[p].text = writeConv(conv)
      parts[p].kind = .expression
    case .pendingPad(let pad):
      let name = layerIdentifier(pad.name, stem: "pad")
      body.append("pad \(name) = \(pad.sourceName) -> before \(pad.before)" + (pad.after > 0 ? ", after \(pad.after)" : ""))
      parts[p].text = name
      parts[p].kind = .expression
    case .norm(let source, _):
      throw importFailure("the L2 norm of \(parts[source].text) reaches \(user); grucc computes it only inside l2norm, "
        + "dividing the same tensor by it (F.normalize)")
    }
  }

  /// Part `p` as a name a `gru` line can read (a binding is written for an expression).
  mutating func nameOf(_ p: Int, for user: String, hint: String) throws(ImportError) -> String {
    try materialise(p, for: user)
    let text = parts[p].text
    if ProgramWriter.identifier(text) == text { return text }
    let name = program.name(hint, fallback: hint)
    body.append("let \(name) = \(text)")
    parts[p].text = name
    return name
  }

  /// The one part a value holds whole, features last, or an error naming `user` and why not.
  func wholePart(_ v: DataValue, for user: String) throws(ImportError) -> Int {
    guard let p = v.wholePart(features: { parts[$0].features }) else {
      let used = v.parts.map { parts[$0].text }
      if used.count > 1 {
        throw importFailure("\(user) needs one tensor, but its input joins \(used.count) (\(used.joined(separator: ", "))); grucc has no concatenation")
      }
      throw importFailure("\(user) needs all features of \(used.first ?? "its input") in order, but its input holds "
        + "\(v.elements.count) of its \(v.parts.first.map { parts[$0].features } ?? 0) features, or reorders them")
    }
    return p
  }
}
