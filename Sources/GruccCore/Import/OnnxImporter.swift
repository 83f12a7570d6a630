// ONNX → .gru: evaluates the graph symbolically, node by node, tracking for every tensor what it
// is in grucc's terms (a sequence or vector expression and the order of its axes, a constant, a
// shape computed from the input) and writing the .gru statements as GRU, Gemm and MatMul nodes
// appear. Exporters surround a GRU with Transpose, Squeeze and Reshape nodes and compute the zero
// initial state from Shape(x); those fold away here. Anything else is refused by name.

/// The axes of a data tensor, as the ONNX graph orders them.
enum ImportAxis: Equatable, Sendable {
  case batch, time, feature
  /// ONNX's num_directions axis of a bidirectional GRU's outputs (size 2).
  case direction
  /// A size-1 axis (num_directions of a one-way GRU, or one added by Unsqueeze).
  case unit
}

/// One dimension of a shape computed inside the graph (Shape, Gather, Concat).
enum ImportDim: Equatable, Sendable {
  case known(Int), batch, time
}

/// What an ONNX tensor is, as far as the import is concerned.
enum ImportValue {
  /// A tensor that depends on the model input: a .gru expression and the ONNX axis order.
  case data(DataValue)
  /// A number tensor known at import time.
  case constant(dims: [Int], values: [Double])
  /// A shape (or one dimension of it, `dims` empty) computed from the input's shape.
  case shape([ImportDim], scalar: Bool)
  /// All zeros of a computed shape (ConstantOfShape): an initial state nobody gave.
  case zeros
  /// The per-sequence lengths input.
  case lengths(String)
  /// A graph input given as a GRU's initial_h.
  case initialState(String)
}

struct DataValue {
  var expr: String
  var axes: [ImportAxis]
  /// Size of the feature axis (of one direction when a direction axis is present).
  var features: Int
  var isSequence: Bool { axes.contains(.time) }

  /// The size of one of the value's axes, as Shape would report it.
  func dimension(_ a: ImportAxis) -> ImportDim {
    switch a {
    case .batch: return .batch
    case .time: return .time
    case .feature: return .known(features)
    case .direction: return .known(2)
    case .unit: return .known(1)
    }
  }
  /// A MatMul whose bias may still come from a following Add; becomes a `dense` when used.
  var pending: PendingDense?
}

struct PendingDense {
  var source: String
  var weight: [Double]  // [N, K]
  var bias: [Double]  // [N]
  var units: Int
  var inputs: Int
  var name: String
}

public enum OnnxImporter {
  /// Imports a model. `baseName` names the model and the weights file (`<baseName>.safetensors`).
  public static func importModel(
    _ bytes: [UInt8], baseName: String, sourceName: String
  ) -> Result<ImportedModel, ImportError> {
    let model: OnnxModel
    do {
      model = try Onnx.read(bytes)
    } catch {
      return .failure(ImportError(node: nil, message: error.message))
    }
    // Which input axis is the batch is decided by how the input reaches the first GRU; trying
    // both orders is simpler than tracing it, and the graphs are small.
    var best: ImportError?
    for layout in [SequenceLayout.batchMajor, .timeMajor] {
      var session = OnnxImportSession(model: model, layout: layout, baseName: baseName, sourceName: sourceName)
      switch session.run() {
      case .success(let imported): return .success(imported)
      case .failure(let e):
        if best == nil || e.progress >= best!.progress { best = e }
      }
    }
    return .failure(best!)
  }
}

/// One attempt at importing a graph under one assumption about the input's layout.
struct OnnxImportSession {
  let model: OnnxModel
  let layout: SequenceLayout
  let baseName: String
  let sourceName: String
  var values: [String: ImportValue] = [:]
  var program = ProgramWriter()
  var body: [String] = []
  var tensors: [NamedTensor] = []
  var notes: [String] = []
  var inputNames: [String: String] = [:]
  var outputNames: [String: String] = [:]
  var progress = 0
  var layerCount = 0
  var denseCount = 0
  var precision = Precision.f32
  var inputName = ""
  var lengthsName: String?
  var usesLengths = false

  init(model: OnnxModel, layout: SequenceLayout, baseName: String, sourceName: String) {
    self.model = model
    self.layout = layout
    self.baseName = baseName
    self.sourceName = sourceName
  }

  private func fail(_ node: OnnxNode?, _ message: String) -> ImportError {
    ImportError(node: node.map { "node '\($0.name.isEmpty ? $0.outputs.first ?? "?" : $0.name)' (\($0.opType))" },
                message: message, progress: progress)
  }

  mutating func run() -> Result<ImportedModel, ImportError> {
    do throws(ImportError) {
      return .success(try importGraph())
    } catch {
      return .failure(error)
    }
  }

  private mutating func importGraph() throws(ImportError) -> ImportedModel {
    let graph = model.graph
    for t in graph.initializers { values[t.name] = .constant(dims: t.dims, values: t.values) }
    let initializerNames = Set(graph.initializers.map(\.name))
    let inputs = graph.inputs.filter { !initializerNames.contains($0.name) }
    try declareInputs(inputs, graph: graph)

    for node in graph.nodes {
      guard node.domain.isEmpty || node.domain == "ai.onnx" else {
        throw fail(node, "operators of domain '\(node.domain)' are not supported")
      }
      try evaluate(node)
      progress += 1
    }

    var outputs: [String] = []
    for output in graph.outputs {
      guard case .data(var v) = values[output.name] ?? .zeros else {
        throw fail(nil, "graph output '\(output.name)' does not depend on the input; grucc models compute every output from it")
      }
      v = materialise(v)
      let name = program.name(output.name, fallback: "output\(outputs.count + 1)")
      outputNames[output.name] = name
      outputs.append("output \(name) = \(v.expr)")
      if let note = layoutNote(v, name: output.name) { notes.append(note) }
    }

    var lines: [String] = []
    let file = sourceName.split(separator: "/").last.map(String.init) ?? sourceName
    lines.append("# Imported by grucc \(Compiler.version) from \(file)"
      + (model.producerName.isEmpty ? "" : " (made by \(model.producerName) \(model.producerVersion))") + ".")
    for note in notes { lines.append("# Note: \(note)") }
    let modelName = program.name(baseName, fallback: "model")
    lines.append("model \(modelName)")
    lines.append("precision \(precision.rawValue)")
    var input = "input \(inputName)[\(inputFeatures)], layout \(layout.rawValue)"
    if usesLengths, let lengthsName { input += ", lengths \(lengthsName)" }
    lines.append(input)
    lines += body + outputs
    let weightsFile = "\(baseName).safetensors"
    if !tensors.isEmpty { lines.append("weights \"\(weightsFile)\"") }
    return ImportedModel(
      source: lines.joined(separator: "\n") + "\n", tensors: tensors, weightsFile: weightsFile, notes: notes,
      inputNames: inputNames, outputNames: outputNames)
  }

  private var inputFeatures = 0

  /// The one sequence input, and what the other inputs are used for (lengths, initial states).
  private mutating func declareInputs(_ inputs: [OnnxValueInfo], graph: OnnxGraph) throws(ImportError) {
    var lengthsInputs = Set<String>()
    var initialInputs = Set<String>()
    for node in graph.nodes where node.opType == "GRU" {
      if node.inputs.count > 4, !node.inputs[4].isEmpty { lengthsInputs.insert(node.inputs[4]) }
      if node.inputs.count > 5, !node.inputs[5].isEmpty { initialInputs.insert(node.inputs[5]) }
    }
    var sequence: [OnnxValueInfo] = []
    for input in inputs {
      if lengthsInputs.contains(input.name) {
        let name = program.name(input.name, fallback: "lengths")
        lengthsName = name
        inputNames[input.name] = name
        values[input.name] = .lengths(name)
      } else if initialInputs.contains(input.name) {
        values[input.name] = .initialState(input.name)
      } else {
        sequence.append(input)
      }
    }
    guard sequence.count == 1, let x = sequence.first else {
      throw fail(nil, sequence.isEmpty ? "the graph has no sequence input"
        : "the graph has \(sequence.count) data inputs (" + quotedList(sequence.map(\.name)) + "); grucc models take one sequence")
    }
    switch x.elementType {
    case .float?, nil: precision = .f32
    case .double?: precision = .f64
    case let t?: throw fail(nil, "input '\(x.name)' has element type \(t.name); grucc reads FLOAT or DOUBLE sequences")
    }
    guard let shape = x.shape, shape.count == 3, case .fixed(let features) = shape[2], features > 0 else {
      throw fail(nil, "input '\(x.name)' must be 3-D with a fixed feature size, as a GRU's X is")
    }
    inputFeatures = features
    inputName = program.name(x.name, fallback: "x")
    inputNames[x.name] = inputName
    let axes: [ImportAxis] = layout == .batchMajor ? [.batch, .time, .feature] : [.time, .batch, .feature]
    values[x.name] = .data(DataValue(expr: inputName, axes: axes, features: features))
  }

  // MARK: - Nodes

  private mutating func value(_ node: OnnxNode, _ index: Int) throws(ImportError) -> ImportValue? {
    guard index < node.inputs.count, !node.inputs[index].isEmpty else { return nil }
    guard let v = values[node.inputs[index]] else {
      throw fail(node, "input '\(node.inputs[index])' is not produced by any earlier node")
    }
    return v
  }

  private mutating func data(_ node: OnnxNode, _ index: Int) throws(ImportError) -> DataValue {
    guard case .data(let v)? = try value(node, index) else {
      throw fail(node, "input \(index) must depend on the model input")
    }
    return v
  }

  private mutating func constant(_ node: OnnxNode, _ index: Int) throws(ImportError) -> (dims: [Int], values: [Double])? {
    switch try value(node, index) {
    case .constant(let dims, let values)?: return (dims, values)
    case nil: return nil
    default: throw fail(node, "input \(index) ('\(node.inputs[index])') must be a constant")
    }
  }

  private func attribute(_ node: OnnxNode, _ name: String) -> OnnxAttribute.Value? { node.attribute(name)?.value }

  private func int(_ node: OnnxNode, _ name: String, default d: Int) throws(ImportError) -> Int {
    switch attribute(node, name) {
    case nil: return d
    case .int(let v)?: return Int(v)
    case let v?: throw fail(node, "attribute '\(name)' is \(v.typeName), expected INT")
    }
  }

  private func ints(_ node: OnnxNode, _ name: String) throws(ImportError) -> [Int]? {
    switch attribute(node, name) {
    case nil: return nil
    case .ints(let v)?: return v.map { Int($0) }
    case let v?: throw fail(node, "attribute '\(name)' is \(v.typeName), expected INTS")
    }
  }

  private func float(_ node: OnnxNode, _ name: String) throws(ImportError) -> Double? {
    switch attribute(node, name) {
    case nil: return nil
    case .float(let v)?: return Double(v.description) ?? Double(v)
    case let v?: throw fail(node, "attribute '\(name)' is \(v.typeName), expected FLOAT")
    }
  }

  /// Attributes this importer does not know would change the numbers silently; refuse them.
  private func onlyAttributes(_ node: OnnxNode, _ known: [String]) throws(ImportError) {
    for a in node.attributes where !known.contains(a.name) {
      throw fail(node, "attribute '\(a.name)' is not supported")
    }
  }

  /// Axes listed by attribute (older opsets) or by a constant second input (newer ones).
  private mutating func axesArgument(_ node: OnnxNode, rank: Int) throws(ImportError) -> [Int]? {
    var raw = try ints(node, "axes")
    if raw == nil, let c = try constant(node, 1) { raw = c.values.map { Int($0) } }
    return raw.map { $0.map { $0 < 0 ? $0 + rank : $0 } }
  }

  private mutating func set(_ node: OnnxNode, _ v: ImportValue, output: Int = 0) {
    if output < node.outputs.count, !node.outputs[output].isEmpty { values[node.outputs[output]] = v }
  }

  private mutating func evaluate(_ node: OnnxNode) throws(ImportError) {
    switch node.opType {
    case "GRU": try gru(node)
    case "Gemm": try gemm(node)
    case "MatMul": try matMul(node)
    case "Add": try add(node)
    case "Identity", "Dropout":
      if node.opType == "Dropout", node.outputs.count > 1, !node.outputs[1].isEmpty {
        throw fail(node, "its mask output is not supported")
      }
      if let v = try value(node, 0) { set(node, v) }
    case "Sigmoid", "Tanh", "Relu", "Softsign", "Softplus", "LeakyRelu", "Elu", "HardSigmoid":
      try elementwise(node)
    case "Softmax": try softmax(node)
    case "ReduceMean", "ReduceMax": try reduce(node)
    case "Transpose": try transpose(node)
    case "Squeeze", "Unsqueeze": try squeeze(node)
    case "Reshape": try reshape(node)
    case "Gather": try gather(node)
    case "Slice": try slice(node)
    case "Constant": try constantNode(node)
    case "Shape": try shape(node)
    case "Concat": try concat(node)
    case "ConstantOfShape":
      if let t = node.attribute("value"), case .tensor(let tensor) = t.value, tensor.values.contains(where: { $0 != 0 }) {
        throw fail(node, "only zeros are supported (an initial state of zeros)")
      }
      set(node, .zeros)
    case "Cast":
      if let v = try value(node, 0) { set(node, v) }
    default:
      throw fail(node, "operator '\(node.opType)' is not supported; grucc imports GRU, Gemm, MatMul, Add, Sigmoid, Tanh, "
        + "Relu, LeakyRelu, Elu, HardSigmoid, Softsign, Softplus, Softmax, ReduceMean, ReduceMax, Transpose, Squeeze, "
        + "Unsqueeze, Reshape, Gather, Slice, Concat, Shape, ConstantOfShape, Constant, Cast, Identity and Dropout")
    }
  }

  // MARK: GRU

  private mutating func gru(_ node: OnnxNode) throws(ImportError) {
    try onlyAttributes(node, ["activation_alpha", "activation_beta", "activations", "clip", "direction", "hidden_size",
                              "layout", "linear_before_reset"])
    var x = try data(node, 0)
    x = materialise(x)
    let layoutAttr = try int(node, "layout", default: 0)
    guard layoutAttr == 0 || layoutAttr == 1 else { throw fail(node, "attribute 'layout' must be 0 or 1, found \(layoutAttr)") }
    let expected: [ImportAxis] = layoutAttr == 0 ? [.time, .batch, .feature] : [.batch, .time, .feature]
    guard x.axes == expected else {
      throw fail(node, "input X has axes \(axesText(x.axes)), but layout=\(layoutAttr) needs \(axesText(expected))")
    }
    guard let w = try constant(node, 1), let r = try constant(node, 2) else {
      throw fail(node, "W and R must be constants (initializers)")
    }
    var direction = "forward"
    if case .string(let s)? = attribute(node, "direction") { direction = s }
    guard ["forward", "reverse", "bidirectional"].contains(direction) else {
      throw fail(node, "attribute 'direction' is '\(direction)'; expected forward, reverse or bidirectional")
    }
    let d = direction == "bidirectional" ? 2 : 1
    guard w.dims.count == 3, w.dims[0] == d, w.dims[1] % 3 == 0, w.dims[2] == x.features else {
      throw fail(node, "W has shape \(shapeText(w.dims)), expected [\(d), 3·hidden_size, \(x.features)]")
    }
    let h = w.dims[1] / 3
    let hiddenAttr = try int(node, "hidden_size", default: h)
    guard hiddenAttr == h, r.dims == [d, 3 * h, h] else {
      throw fail(node, "hidden_size \(hiddenAttr) and R \(shapeText(r.dims)) disagree with W \(shapeText(w.dims))")
    }
    let b = try constant(node, 3)
    if let b, b.dims != [d, 6 * h] { throw fail(node, "B has shape \(shapeText(b.dims)), expected [\(d), \(6 * h)]") }
    let lbr = try int(node, "linear_before_reset", default: 0)
    guard lbr == 0 || lbr == 1 else { throw fail(node, "attribute 'linear_before_reset' must be 0 or 1") }

    var options = [
      "reset \(lbr == 1 ? "after" : "before")", "update keeps-state", "bias \(b == nil ? "none" : "separate")",
    ]
    if d == 2 { options.append("direction bidirectional") } else if direction == "reverse" { options.append("direction reverse") }
    let acts = try activations(node, directions: d)
    let (f, g) = (acts[0], acts[1])
    if f != .sigmoid { options.append("gate-activation \(f.spelling)") }
    if g != .tanh { options.append("candidate-activation \(g.spelling)") }
    if d == 2 && acts[2] != f { options.append("backward-gate-activation \(acts[2].spelling)") }
    if d == 2 && acts[3] != g { options.append("backward-candidate-activation \(acts[3].spelling)") }
    if let clip = try float(node, "clip") {
      guard clip > 0 else { throw fail(node, "attribute 'clip' must be positive, found \(clip)") }
      options.append("clip \(clip)")
    }
    switch try value(node, 4) {
    case nil: break
    case .lengths?: usesLengths = true
    default: throw fail(node, "sequence_lens must be a graph input")
    }
    layerCount += 1
    let name = program.name("gru\(layerCount)", fallback: "gru\(layerCount)")
    switch try value(node, 5) {
    case nil, .zeros?: break
    case .constant(_, let v)? where v.allSatisfy { $0 == 0 }: break
    case .initialState(let input)?:
      options.append("initial given")
      inputNames[input] = "\(name).h0"
      if d == 2 && layoutAttr == 0 {
        notes.append("ONNX's initial_h '\(input)' is [2, B, \(h)]; grucc's '\(name).h0' is [B, \(2 * h)] (forward, then backward)")
      }
    default: throw fail(node, "initial_h must be a graph input or zeros")
    }

    // The layer reads a name: the input, a layer, or a binding made here for an expression.
    var source = x.expr
    if !isName(source) {
      source = program.name("\(name)_in", fallback: "\(name)_in")
      body.append("let \(source) = \(x.expr)")
    }
    body.append("gru \(name) = \(source) -> hidden \(h), " + options.joined(separator: ", "))

    // Weights in grucc's names, cut from W, R, B as the onnx convention says.
    var layer = GRULayer(
      name: name, source: source, hidden: h, reset: lbr == 1 ? .after : .before, update: .keepsState,
      bias: b == nil ? .none : .separate, direction: d == 2 ? .bidirectional : (direction == "reverse" ? .reverse : .forward),
      merge: .concat, initial: .zero, outputActivation: .identity, range: .none)
    layer.gateActivation = f
    let convention = Convention(format: .onnx)
    let op = GRUOp(layer: layer, hasLengths: false, hasInitialState: false)
    let files: [String: (dims: [Int], values: [Double])] = ["W": w, "R": r, "B": b ?? ([], [])]
    for (k, prefix) in op.directionPrefixes.enumerated() {
      for (tensorName, e) in convention.gru(layer, inputs: x.features, prefix: prefix, group: WeightGroup(prefix: ""), direction: k) {
        let file = files[e.tensor]!
        let shape = tensorName.contains(".u_") ? [h, h] : tensorName.contains(".w_") ? [h, x.features] : [h]
        tensors.append(NamedTensor(name: tensorName, dtype: precision == .f32 ? .f32 : .f64, shape: shape, values: e.extract(file.values)))
      }
    }

    let dirAxis: ImportAxis = d == 2 ? .direction : .unit
    let yAxes: [ImportAxis] = layoutAttr == 0 ? [.time, dirAxis, .batch, .feature] : [.batch, .time, dirAxis, .feature]
    let hAxes: [ImportAxis] = layoutAttr == 0 ? [dirAxis, .batch, .feature] : [.batch, dirAxis, .feature]
    set(node, .data(DataValue(expr: name, axes: yAxes, features: h)), output: 0)
    set(node, .data(DataValue(expr: "state(\(name))", axes: hAxes, features: h)), output: 1)
  }

  /// ONNX's `activations` list (f, g per direction) with alpha and beta consumed in order by the
  /// activations that take them, as onnxruntime reads them.
  private func activations(_ node: OnnxNode, directions: Int) throws(ImportError) -> [Activation] {
    guard case .strings(let names)? = attribute(node, "activations") else {
      if attribute(node, "activations") != nil { throw fail(node, "attribute 'activations' must be STRINGS") }
      return directions == 2 ? [.sigmoid, .tanh, .sigmoid, .tanh] : [.sigmoid, .tanh]
    }
    guard names.count == 2 * directions else {
      throw fail(node, "attribute 'activations' has \(names.count) entries; a GRU with \(directions) direction(s) needs \(2 * directions)")
    }
    var alphas: [Double] = []
    var betas: [Double] = []
    if case .floats(let a)? = attribute(node, "activation_alpha") { alphas = a.map(Double.init) }
    if case .floats(let b)? = attribute(node, "activation_beta") { betas = b.map(Double.init) }
    // ONNX's parameters are floats: write them as the float's shortest decimal, which reads
    // back as the same float in an f32 model.
    alphas = alphas.map { Double(Float($0).description) ?? $0 }
    betas = betas.map { Double(Float($0).description) ?? $0 }
    var made: [Activation] = []
    for name in names {
      func alpha(_ d: Double?) throws(ImportError) -> Double {
        if !alphas.isEmpty { return alphas.removeFirst() }
        guard let d else { throw fail(node, "activation '\(name)' needs a value in 'activation_alpha'") }
        return d
      }
      func beta(_ d: Double?) throws(ImportError) -> Double {
        if !betas.isEmpty { return betas.removeFirst() }
        guard let d else { throw fail(node, "activation '\(name)' needs a value in 'activation_beta'") }
        return d
      }
      switch name.lowercased() {
      case "sigmoid": made.append(.sigmoid)
      case "tanh": made.append(.tanh)
      case "relu": made.append(.relu)
      case "softsign": made.append(.softsign)
      case "softplus": made.append(.softplus)
      case "hardsigmoid": made.append(.hardSigmoid(alpha: try alpha(0.2), beta: try beta(0.5)))
      case "leakyrelu": made.append(.leakyRelu(alpha: try alpha(0.01)))
      case "thresholdedrelu": made.append(.thresholdedRelu(alpha: try alpha(1.0)))
      case "scaledtanh": made.append(.scaledTanh(alpha: try alpha(nil), beta: try beta(nil)))
      case "affine": made.append(.affine(alpha: try alpha(nil), beta: try beta(nil)))
      case "elu": made.append(.elu(alpha: try alpha(1.0)))
      default: throw fail(node, "activation '\(name)' in attribute 'activations' is not an ONNX RNN activation")
      }
    }
    return made
  }

  // MARK: Dense layers

  private mutating func gemm(_ node: OnnxNode) throws(ImportError) {
    try onlyAttributes(node, ["alpha", "beta", "transA", "transB"])
    let a = materialise(try data(node, 0))
    guard try int(node, "transA", default: 0) == 0 else { throw fail(node, "transA=1 is not supported") }
    guard a.axes.last == .feature, !a.axes.contains(.direction) else {
      throw fail(node, "A must have the features last, found axes \(axesText(a.axes))")
    }
    guard let b = try constant(node, 1), b.dims.count == 2 else { throw fail(node, "B must be a constant matrix") }
    let transB = try int(node, "transB", default: 0) == 1
    let (n, k) = transB ? (b.dims[0], b.dims[1]) : (b.dims[1], b.dims[0])
    guard k == a.features else { throw fail(node, "B \(shapeText(b.dims)) does not fit A's \(a.features) features") }
    let alpha = try float(node, "alpha") ?? 1
    let beta = try float(node, "beta") ?? 1
    var weight = [Double](repeating: 0, count: n * k)
    for i in 0..<n { for j in 0..<k { weight[i * k + j] = alpha * (transB ? b.values[i * k + j] : b.values[j * n + i]) } }
    var bias = [Double](repeating: 0, count: n)
    if let c = try constant(node, 2) {
      guard c.values.count == n || c.values.count == 1 else { throw fail(node, "C \(shapeText(c.dims)) does not broadcast to [\(n)]") }
      bias = (0..<n).map { beta * c.values[c.values.count == 1 ? 0 : $0] }
    }
    let dense = PendingDense(source: a.expr, weight: weight, bias: bias, units: n, inputs: k, name: denseName(node))
    set(node, .data(materialise(DataValue(expr: "", axes: a.axes, features: n, pending: dense))))
  }

  private mutating func matMul(_ node: OnnxNode) throws(ImportError) {
    let a = materialise(try data(node, 0))
    guard a.axes.last == .feature, !a.axes.contains(.direction) else {
      throw fail(node, "A must have the features last, found axes \(axesText(a.axes))")
    }
    guard let b = try constant(node, 1), b.dims.count == 2, b.dims[0] == a.features else {
      throw fail(node, "B must be a constant [\(a.features), N] matrix")
    }
    let (k, n) = (b.dims[0], b.dims[1])
    var weight = [Double](repeating: 0, count: n * k)
    for i in 0..<n { for j in 0..<k { weight[i * k + j] = b.values[j * n + i] } }
    let dense = PendingDense(source: a.expr, weight: weight, bias: [Double](repeating: 0, count: n), units: n, inputs: k,
                             name: denseName(node))
    set(node, .data(DataValue(expr: "", axes: a.axes, features: n, pending: dense)))
  }

  /// A bias added to a MatMul's result becomes the dense layer's bias.
  private mutating func add(_ node: OnnxNode) throws(ImportError) {
    let first = try value(node, 0)
    let second = try value(node, 1)
    let pair: (DataValue, (dims: [Int], values: [Double]))
    switch (first, second) {
    case (.data(let v)?, .constant(let dims, let vals)?), (.constant(let dims, let vals)?, .data(let v)?):
      pair = (v, (dims, vals))
    default:
      throw fail(node, "only a constant bias added to a MatMul is supported")
    }
    guard var dense = pair.0.pending, pair.1.values.count == dense.units || pair.1.values.count == 1 else {
      throw fail(node, "only a constant bias added to a MatMul is supported")
    }
    for i in 0..<dense.units { dense.bias[i] += pair.1.values[pair.1.values.count == 1 ? 0 : i] }
    var v = pair.0
    v.pending = dense
    set(node, .data(v))
  }

  private mutating func denseName(_ node: OnnxNode) -> String {
    denseCount += 1
    // torch.onnx names nodes after modules: "/fc/MatMul" → "fc".
    let parts = node.name.split(separator: "/")
    return parts.count >= 2 ? String(parts[parts.count - 2]) : "dense\(denseCount)"
  }

  /// Writes a pending dense as a `let` binding; its weights take the binding's name.
  private mutating func materialise(_ v: DataValue) -> DataValue {
    guard let dense = v.pending else { return v }
    let name = program.name(dense.name, fallback: "dense\(denseCount)")
    body.append("let \(name) = dense(\(dense.source), \(dense.units))")
    let dtype: TensorDType = precision == .f32 ? .f32 : .f64
    tensors.append(NamedTensor(name: "\(name).w", dtype: dtype, shape: [dense.units, dense.inputs], values: dense.weight))
    tensors.append(NamedTensor(name: "\(name).b", dtype: dtype, shape: [dense.units], values: dense.bias))
    return DataValue(expr: name, axes: v.axes, features: v.features)
  }

  // MARK: Elementwise, softmax, reductions

  private mutating func elementwise(_ node: OnnxNode) throws(ImportError) {
    let v = materialise(try data(node, 0))
    let f: Activation
    switch node.opType {
    case "Sigmoid": f = .sigmoid
    case "Tanh": f = .tanh
    case "Relu": f = .relu
    case "Softsign": f = .softsign
    case "Softplus": f = .softplus
    case "LeakyRelu":
      try onlyAttributes(node, ["alpha"])
      f = .leakyRelu(alpha: try float(node, "alpha") ?? 0.01)
    case "Elu":
      try onlyAttributes(node, ["alpha"])
      f = .elu(alpha: try float(node, "alpha") ?? 1)
    default:
      try onlyAttributes(node, ["alpha", "beta"])
      f = .hardSigmoid(alpha: try float(node, "alpha") ?? 0.2, beta: try float(node, "beta") ?? 0.5)
    }
    set(node, .data(DataValue(expr: call(f, v.expr), axes: v.axes, features: v.features)))
  }

  private func call(_ f: Activation, _ e: String) -> String {
    "\(f.name)(\(([e] + f.parameters.map(Activation.format)).joined(separator: ", ")))"
  }

  private mutating func softmax(_ node: OnnxNode) throws(ImportError) {
    let v = materialise(try data(node, 0))
    let opset = model.opsetVersion(domain: "") ?? 13
    var axis = try int(node, "axis", default: opset >= 13 ? -1 : 1)
    if axis < 0 { axis += v.axes.count }
    // Before opset 13 softmax normalises over all axes from `axis` on; the same when that is the last.
    guard axis == v.axes.count - 1, v.axes.last == .feature, !v.axes.contains(.direction) else {
      throw fail(node, "softmax must run over the features (the last axis); axis \(axis) of \(axesText(v.axes)) is not supported")
    }
    set(node, .data(DataValue(expr: "softmax(\(v.expr))", axes: v.axes, features: v.features)))
  }

  private mutating func reduce(_ node: OnnxNode) throws(ImportError) {
    try onlyAttributes(node, ["axes", "keepdims", "noop_with_empty_axes"])
    let v = materialise(try data(node, 0))
    guard let axes = try axesArgument(node, rank: v.axes.count), axes.count == 1, v.axes[axes[0]] == .time else {
      throw fail(node, "only a reduction over the time axis is supported (axes \(axesText(v.axes)))")
    }
    if usesLengths {
      // grucc's mean and max look only at the valid steps; ONNX's look at the padding too.
      throw fail(node, "a reduction over time with sequence_lens: ONNX includes the padded steps, grucc does not")
    }
    let keep = try int(node, "keepdims", default: 1) == 1
    var axesOut = v.axes
    if keep { axesOut[axes[0]] = .unit } else { axesOut.remove(at: axes[0]) }
    let kind = node.opType == "ReduceMean" ? "mean" : "max"
    set(node, .data(DataValue(expr: "\(kind)(\(v.expr))", axes: axesOut, features: v.features)))
  }

  // MARK: Axes

  private mutating func transpose(_ node: OnnxNode) throws(ImportError) {
    try onlyAttributes(node, ["perm"])
    guard case .data(let v)? = try value(node, 0) else { throw fail(node, "only transposes of data tensors are supported") }
    let perm = try ints(node, "perm") ?? Array((0..<v.axes.count).reversed())
    guard perm.sorted() == Array(0..<v.axes.count) else { throw fail(node, "attribute 'perm' \(perm) does not fit rank \(v.axes.count)") }
    var out = v
    out.axes = perm.map { v.axes[$0] }
    set(node, .data(out))
  }

  private mutating func squeeze(_ node: OnnxNode) throws(ImportError) {
    try onlyAttributes(node, ["axes"])
    let input = try value(node, 0)
    if node.opType == "Unsqueeze", case .shape(let dims, true)? = input {
      set(node, .shape(dims, scalar: false))
      return
    }
    if case .constant(let dims, let vals)? = input, node.opType == "Unsqueeze", dims.isEmpty {
      set(node, .constant(dims: [1], values: vals))
      return
    }
    guard case .data(var v)? = input else { throw fail(node, "only data tensors and shape values are supported") }
    if node.opType == "Squeeze" {
      let axes = try axesArgument(node, rank: v.axes.count) ?? v.axes.indices.filter { v.axes[$0] == .unit }
      for a in axes.sorted(by: >) {
        guard a < v.axes.count, v.axes[a] == .unit else {
          throw fail(node, "axis \(a) of \(axesText(v.axes)) does not have size 1")
        }
        v.axes.remove(at: a)
      }
    } else {
      guard let axes = try axesArgument(node, rank: v.axes.count + 1) else { throw fail(node, "Unsqueeze needs axes") }
      let rank = v.axes.count + axes.count
      for a in axes.map({ $0 < 0 ? $0 + rank : $0 }).sorted() { v.axes.insert(.unit, at: min(a, v.axes.count)) }
    }
    set(node, .data(v))
  }

  /// Reshapes that only regroup axes: merging ONNX's direction axis into the features (which is
  /// exactly grucc's `merge concat`), dropping or adding size-1 axes.
  private mutating func reshape(_ node: OnnxNode) throws(ImportError) {
    try onlyAttributes(node, ["allowzero"])
    guard case .data(let v)? = try value(node, 0) else { throw fail(node, "only reshapes of data tensors are supported") }
    var target: [ImportDim]
    switch try value(node, 1) {
    case .constant(_, let vals)?: target = vals.map { .known(Int($0)) }
    case .shape(let dims, _)?: target = dims
    default: throw fail(node, "the shape must be a constant or computed from the input's shape")
    }
    func size(_ a: ImportAxis) -> ImportDim { v.dimension(a) }
    // Group the source axes (size-1 axes dropped) and match the target dims one by one.
    var source = v.axes.filter { $0 != .unit }
    var out: [ImportAxis] = []
    var features = v.features
    var i = 0
    for (position, dim) in target.enumerated() {
      var dim = dim
      if dim == .known(0) {
        guard position < v.axes.count else { throw fail(node, "0 at position \(position) has no axis to copy") }
        dim = size(v.axes[position])
      }
      if dim == .known(1) {
        out.append(.unit)
        if i < source.count, source[i] == .unit { i += 1 }
        continue
      }
      guard i < source.count else { throw fail(node, "the new shape has more axes than \(axesText(v.axes))") }
      let next = source[i]
      if dim == .known(-1) && position == target.count - 1 || (next == .direction && i + 1 < source.count && source[i + 1] == .feature && dim == .known(2 * v.features)) {
        // The rest in one axis: allowed only for direction + features, or the features alone.
        let rest = Array(source[i...])
        if rest == [.direction, .feature] {
          out.append(.feature)
          features = 2 * v.features
        } else if rest == [.feature] {
          out.append(.feature)
        } else {
          throw fail(node, "merging axes \(axesText(rest)) is not supported")
        }
        i = source.count
        continue
      }
      guard dim == size(next) || dim == .known(-1) else {
        throw fail(node, "reshaping \(axesText(v.axes)) to \(target) mixes axes; only merging directions into features is supported")
      }
      out.append(next)
      i += 1
    }
    source.removeFirst(i)
    guard source.isEmpty else { throw fail(node, "the new shape drops axes \(axesText(source))") }
    set(node, .data(DataValue(expr: v.expr, axes: out, features: features, pending: v.pending)))
  }

  /// Gather of step -1 along time (`out[:, -1]`) is grucc's `last`; Gather on a computed shape
  /// picks one of its dimensions.
  private mutating func gather(_ node: OnnxNode) throws(ImportError) {
    try onlyAttributes(node, ["axis"])
    let axis = try int(node, "axis", default: 0)
    guard let index = try constant(node, 1), index.values.count == 1 else { throw fail(node, "the index must be one constant") }
    let k = Int(index.values[0])
    switch try value(node, 0) {
    case .shape(let dims, false)?:
      let i = k < 0 ? k + dims.count : k
      guard dims.indices.contains(i) else { throw fail(node, "index \(k) is out of range") }
      set(node, .shape([dims[i]], scalar: index.dims.isEmpty))
    case .constant(let dims, let vals)? where dims.count <= 1:
      let i = k < 0 ? k + vals.count : k
      guard vals.indices.contains(i) else { throw fail(node, "index \(k) is out of range") }
      set(node, .constant(dims: index.dims.isEmpty ? [] : [1], values: [vals[i]]))
    case .data(let v)?:
      let a = axis < 0 ? axis + v.axes.count : axis
      guard v.axes.indices.contains(a), v.axes[a] == .time, k == -1 else {
        throw fail(node, "only the last step (index -1 along time) can be gathered from data")
      }
      try lastStep(node, v, axis: a, keep: !index.dims.isEmpty)
    default:
      throw fail(node, "unsupported input")
    }
  }

  private mutating func lastStep(_ node: OnnxNode, _ v: DataValue, axis: Int, keep: Bool) throws(ImportError) {
    if usesLengths {
      throw fail(node, "taking step T-1 with sequence_lens reads padding; use the GRU's Y_h output instead")
    }
    let m = materialise(v)
    var axes = m.axes
    if keep { axes[axis] = .unit } else { axes.remove(at: axis) }
    set(node, .data(DataValue(expr: "last(\(m.expr))", axes: axes, features: m.features)))
  }

  private mutating func slice(_ node: OnnxNode) throws(ImportError) {
    guard node.attributes.isEmpty else { throw fail(node, "Slice with attributes (opset < 10) is not supported") }
    let starts = try constant(node, 1)?.values.map { Int($0) } ?? []
    let ends = try constant(node, 2)?.values.map { Int($0) } ?? []
    let axesArg = try constant(node, 3)?.values.map { Int($0) }
    let steps = try constant(node, 4)?.values.map { Int($0) }
    guard starts.count == 1, ends.count == 1, steps == nil || steps! == [1] else {
      throw fail(node, "only a slice along one axis with step 1 is supported")
    }
    switch try value(node, 0) {
    case .zeros?: set(node, .zeros)
    case .constant(let dims, let vals)? where dims.count == 1:
      let n = vals.count
      let lo = max(0, min(n, starts[0] < 0 ? starts[0] + n : starts[0]))
      let hi = max(lo, min(n, ends[0] < 0 ? ends[0] + n : ends[0]))
      set(node, .constant(dims: [hi - lo], values: Array(vals[lo..<hi])))
    case .data(let v)?:
      var axis = axesArg?.first ?? 0
      if axis < 0 { axis += v.axes.count }
      guard v.axes.indices.contains(axis), v.axes[axis] == .time, starts[0] == -1, ends[0] >= Int(Int32.max) else {
        throw fail(node, "only the last step (start -1 to the end, along time) can be sliced from data")
      }
      try lastStep(node, v, axis: axis, keep: true)
    default: throw fail(node, "unsupported input")
    }
  }

  // MARK: Constants and shapes

  private mutating func constantNode(_ node: OnnxNode) throws(ImportError) {
    switch node.attributes.first?.value {
    case .tensor(let t)?: set(node, .constant(dims: t.dims, values: t.values))
    case .float(let f)?: set(node, .constant(dims: [], values: [Double(f)]))
    case .int(let i)?: set(node, .constant(dims: [], values: [Double(i)]))
    case .floats(let f)?: set(node, .constant(dims: [f.count], values: f.map(Double.init)))
    case .ints(let i)?: set(node, .constant(dims: [i.count], values: i.map(Double.init)))
    default: throw fail(node, "unsupported constant value")
    }
  }

  private mutating func shape(_ node: OnnxNode) throws(ImportError) {
    guard node.attributes.isEmpty else { throw fail(node, "Shape with start/end is not supported") }
    guard case .data(let v)? = try value(node, 0) else { throw fail(node, "only shapes of data tensors are supported") }
    set(node, .shape(v.axes.map(v.dimension), scalar: false))
  }

  private mutating func concat(_ node: OnnxNode) throws(ImportError) {
    var dims: [ImportDim] = []
    var allConstant = true
    var constants: [Double] = []
    for i in node.inputs.indices {
      switch try value(node, i) {
      case .shape(let d, _)?:
        dims += d
        allConstant = false
      case .constant(let ds, let vals)? where ds.count <= 1:
        dims += vals.map { .known(Int($0)) }
        constants += vals
      default:
        throw fail(node, "only concatenations of shapes are supported")
      }
    }
    set(node, allConstant ? .constant(dims: [constants.count], values: constants) : .shape(dims, scalar: false))
  }

  // MARK: Helpers

  private func isName(_ s: String) -> Bool { !s.contains("(") }

  private func axesText(_ axes: [ImportAxis]) -> String {
    "[" + axes.map { a in
      switch a {
      case .batch: return "batch"
      case .time: return "time"
      case .feature: return "features"
      case .direction: return "directions"
      case .unit: return "1"
      }
    }.joined(separator: ", ") + "]"
  }

  /// Says how an output's memory order differs from the ONNX output's, if it does.
  private func layoutNote(_ v: DataValue, name: String) -> String? {
    let core = v.axes.filter { $0 != .unit }
    let sequence: [ImportAxis] = layout == .batchMajor ? [.batch, .time, .feature] : [.time, .batch, .feature]
    // Directions just before the features are grucc's concatenation, in the same memory order.
    if core == sequence || core == [.batch, .feature] || core == [.batch, .direction, .feature] { return nil }
    if core == (layout == .batchMajor ? [.batch, .time, .direction, .feature] : [.time, .batch, .direction, .feature]) {
      return nil
    }
    let grucc = v.isSequence ? (layout == .batchMajor ? "[B, T, F]" : "[T, B, F]") : "[B, F]"
    return "output '\(name)' is \(axesText(v.axes)) in ONNX; grucc writes it as \(grucc)"
      + (v.axes.contains(.direction) ? " with the directions concatenated (forward, then backward)" : "")
  }
}
