// Framework weight conventions: where each of grucc's tensors sits in a file written by PyTorch,
// Keras, ONNX or TF1, and how to cut it out (Specs/LANGUAGE.md, "Weights"). Frameworks stack the
// gates of a layer into one matrix, each in its own gate order and orientation; grucc keeps one
// [out, in] matrix per gate, so every grucc tensor is a block of some file tensor.

/// One grucc tensor as a block of one file tensor.
struct Extraction: Equatable, Sendable {
  /// The tensor's name in the file.
  var tensor: String
  /// The shape the file tensor must have for this model.
  var fileShape: [Int]
  /// The file tensor is viewed as `[outer, rows, columns]` (a matrix has outer 1, a vector rows 1);
  /// the block is `[index, rows, columns]`, transposed if asked. Nil: the whole tensor, as is.
  var block: Block?
  /// What the model says that fixes this shape, for a note when the file disagrees.
  var hint: String?
  /// The file tensor's values seen as `view` (row-major, the same count), whose axes `order[i]`
  /// become grucc's axis i: Keras's conv kernel `[K, C/G, F]` is grucc's `[F, C/G, K]` with
  /// order `[2, 1, 0]`. Nil: no permutation. (A block and a permutation are never both given.)
  var permutation: Permutation?

  struct Permutation: Equatable, Sendable {
    var view: [Int]
    var order: [Int]
  }

  struct Block: Equatable, Sendable {
    var index = 0
    var rows: Range<Int>
    var columns: Range<Int>
    var transposed = false
    /// The block of every matrix of the file tensor, one after another, instead of matrix
    /// `index` alone: `[T, K, N]` per-step matrices read as `[T, N, K]`.
    var everyMatrix = false
  }

  /// The grucc tensor's values, row-major, from the file tensor's (already shape-checked) values.
  func extract(_ values: [Double]) -> [Double] {
    if let permutation { return permutation.apply(values) }
    guard let block else { return values }
    let dims = fileShape
    let (rowCount, columnCount) =
      dims.count >= 3 ? (dims[dims.count - 2], dims[dims.count - 1])
      : dims.count == 2 ? (dims[0], dims[1]) : (1, dims.first ?? 1)
    let matrices = block.everyMatrix ? 0..<dims.dropLast(2).reduce(1, *) : block.index..<(block.index + 1)
    var out: [Double] = []
    out.reserveCapacity(matrices.count * block.rows.count * block.columns.count)
    for m in matrices {
      let base = m * rowCount * columnCount
      if block.transposed {
        for j in block.columns { for i in block.rows { out.append(values[base + i * columnCount + j]) } }
      } else {
        for i in block.rows { for j in block.columns { out.append(values[base + i * columnCount + j]) } }
      }
    }
    return out
  }

  /// What `map NAME = "SOURCE", rows …, columns …[, transposed]` reads for the model's tensor
  /// `target`: a block of the file tensor, whose shape is only known once the file is read.
  /// `rows` are the second-to-last axis and `columns` the last (a tensor of rank 3 or more gives
  /// the same block of each of its matrices); a vector's one axis takes either word. The block,
  /// transposed if asked, must have the target's shape, axes of size 1 aside, so that a row of a
  /// `[2, 3H]` bias can be a `[H]` bias.
  static func block(
    of source: String, fileShape: [Int], for target: ParameterSpec, rows: IndexRange?, columns: IndexRange?,
    transposed: Bool
  ) -> Result<Extraction, BlockProblem> {
    var block: Block
    var shape: [Int]
    if fileShape.count <= 1 {
      let length = fileShape.first ?? 1
      if let rows, columns != nil { return .failure(.bothOnVector(rows)) }
      let selection = rows ?? columns
      guard let elements = selection.map({ $0.indices(in: length) }) ?? 0..<length else {
        return .failure(.outOfBounds(selection!, length: length))
      }
      block = Block(rows: 0..<1, columns: elements, transposed: transposed)
      shape = transposed ? [elements.count, 1] : [1, elements.count]
    } else {
      let (rowCount, columnCount) = (fileShape[fileShape.count - 2], fileShape[fileShape.count - 1])
      guard let r = rows.map({ $0.indices(in: rowCount) }) ?? 0..<rowCount else {
        return .failure(.outOfBounds(rows!, length: rowCount))
      }
      guard let c = columns.map({ $0.indices(in: columnCount) }) ?? 0..<columnCount else {
        return .failure(.outOfBounds(columns!, length: columnCount))
      }
      block = Block(rows: r, columns: c, transposed: transposed, everyMatrix: fileShape.count > 2)
      shape = Array(fileShape.dropLast(2)) + (transposed ? [c.count, r.count] : [r.count, c.count])
    }
    func squeezed(_ s: [Int]) -> [Int] { s.filter { $0 != 1 } }
    guard squeezed(shape) == squeezed(target.shape) else { return .failure(.shape(shape)) }
    return .success(Extraction(tensor: source, fileShape: fileShape, block: block))
  }

  enum BlockProblem: Error, Equatable {
    case outOfBounds(IndexRange, length: Int)
    case bothOnVector(IndexRange)
    /// The block's shape, when it is not the target's.
    case shape([Int])
  }
}

/// A layer's (or a dense layer's) tensors found in a file: what a `map` selects or the defaults take.
struct WeightGroup: Equatable, Sendable {
  /// The common start of the group's tensor names, separator included (`gru.`, `gru/gru_cell/`).
  var prefix: String
  /// PyTorch's layer index `k` of `weight_ih_l{k}`.
  var layerIndex: Int = 0
  /// For Keras and TF1, whose bidirectional wrappers store each direction as its own group.
  var role: Role = .plain
  /// Which of TF1's two spellings the group's tensors use.
  var tf1Names: TF1Names = .kernel

  enum Role: Sendable { case plain, forward, backward }

  var label: String { prefix.isEmpty ? "(no prefix)" : prefix }
}

extension WeightsFormat {
  /// The gates whose blocks share one stacked tensor, in the order of the blocks. TF1 stacks r
  /// and u in `gates/kernel` and keeps the candidate in `candidate/kernel`; grucc stacks nothing.
  var stackedGates: [Gate] {
    switch self {
    case .pytorch: return [.r, .z, .n]
    case .keras, .onnx: return [.z, .r, .n]
    case .tf1: return [.r, .z]
    case .grucc: return []
    }
  }

  /// Every gate in the order the file holds them: the stacked ones, then any kept apart.
  var gateOrder: [Gate] { stackedGates + Gate.allCases.filter { !stackedGates.contains($0) } }
}

/// TF1 named a GRUCell's variables twice over: TF 1.0 (the `_linear` of seed 002's GRUCell code)
/// as `Gates/Linear/Matrix`, `Gates/Linear/Bias`, `Candidate/Linear/Matrix`, `Candidate/Linear/Bias`;
/// later TF 1.x as `gates/kernel`, `gates/bias`, `candidate/kernel`, `candidate/bias`. The
/// shapes and the layout are the same.
enum TF1Names: Sendable, CaseIterable {
  case linear, kernel

  var gatesKernel: String { self == .linear ? "Gates/Linear/Matrix" : "gates/kernel" }
  var gatesBias: String { self == .linear ? "Gates/Linear/Bias" : "gates/bias" }
  var candidateKernel: String { self == .linear ? "Candidate/Linear/Matrix" : "candidate/kernel" }
  var candidateBias: String { self == .linear ? "Candidate/Linear/Bias" : "candidate/bias" }
}

/// The naming and gate layout of one framework.
struct Convention {
  let format: WeightsFormat

  // MARK: Discovery

  /// The GRU groups in the file, in file order (PyTorch: by prefix, then layer index).
  func gruGroups(_ names: [String]) -> [WeightGroup] {
    var groups: [WeightGroup] = []
    switch format {
    case .pytorch:
      for name in names {
        var stem = Substring(name)
        if stem.hasSuffix("_reverse") { continue }
        guard let range = stem.range(of: "weight_ih_l", options: .backwards) else { continue }
        let digits = stem[range.upperBound...]
        guard let k = Int(digits), digits.allSatisfy(\.isNumber) else { continue }
        stem = stem[..<range.lowerBound]
        guard stem.isEmpty || stem.hasSuffix(".") || stem.hasSuffix("/") else { continue }
        groups.append(WeightGroup(prefix: String(stem), layerIndex: k))
      }
      groups.sort { ($0.prefix, $0.layerIndex) < ($1.prefix, $1.layerIndex) }
    case .keras:
      groups = suffixGroups(names, leaf: "recurrent_kernel", backward: ["backward"], forward: ["forward"])
    case .tf1:
      // One pass, so that groups of both spellings stay in file order.
      groups = names.flatMap { name in
        TF1Names.allCases.flatMap { spelling in
          suffixGroups([name], leaf: spelling.gatesKernel, backward: ["bw/", "BW/", "backward"], forward: ["fw/", "FW/", "forward"])
            .map { g in
              var g = g
              g.tf1Names = spelling
              return g
            }
        }
      }
    case .onnx:
      groups = names.compactMap { name in
        guard name.hasSuffix("R") else { return nil }
        let prefix = String(name.dropLast())
        guard prefix.isEmpty || isSeparator(prefix.last!), names.contains(prefix + "W") else { return nil }
        return WeightGroup(prefix: prefix)
      }
    case .grucc:
      break
    }
    return groups
  }

  private func suffixGroups(_ names: [String], leaf: String, backward: [String], forward: [String]) -> [WeightGroup] {
    names.compactMap { name in
      guard name.hasSuffix(leaf) else { return nil }
      let prefix = String(name.dropLast(leaf.count))
      guard prefix.isEmpty || isSeparator(prefix.last!) else { return nil }
      let role: WeightGroup.Role =
        backward.contains(where: { prefix.contains($0) }) ? .backward
        : forward.contains(where: { prefix.contains($0) }) ? .forward : .plain
      return WeightGroup(prefix: prefix, role: role)
    }
  }

  /// Dense groups: tensors named like a dense layer's weight that belong to no GRU group.
  func denseGroups(_ names: [String], excluding gru: [WeightGroup]) -> [WeightGroup] {
    let leaf = denseWeightLeaf
    return names.compactMap { name in
      guard name.hasSuffix(leaf), format != .grucc else { return nil }
      let prefix = String(name.dropLast(leaf.count))
      guard prefix.isEmpty || isSeparator(prefix.last!) else { return nil }
      if gru.contains(where: { prefix.hasPrefix($0.prefix) && !$0.prefix.isEmpty }) { return nil }
      if format == .tf1 && (prefix.hasSuffix("gates/") || prefix.hasSuffix("candidate/")) { return nil }
      if format == .tf1 && (prefix.hasSuffix("Gates/Linear/") || prefix.hasSuffix("Candidate/Linear/")) { return nil }
      return WeightGroup(prefix: prefix)
    }
  }

  private var denseWeightLeaf: String {
    switch format {
    case .pytorch, .onnx: return "weight"
    case .keras, .tf1: return "kernel"
    case .grucc: return "w"
    }
  }

  /// Whether a group belongs to what `map TARGET = "source"` names: the source is the group's
  /// prefix, with or without its final separator, or any enclosing path of it.
  static func selects(_ source: String, _ group: WeightGroup) -> Bool {
    if source.isEmpty { return true }
    if group.prefix == source { return true }
    return group.prefix.hasPrefix(source) && isSeparator(group.prefix[group.prefix.index(group.prefix.startIndex, offsetBy: source.count)])
  }

  // MARK: Layouts

  /// Where each tensor of one direction of a GRU layer is. `prefix` is the layer's grucc prefix
  /// (`h` or `h.fw`); `group` the file group; `direction` 1 for the backward pass of ONNX's and
  /// PyTorch's bidirectional layers, which keep both directions in one group.
  func gru(
    _ layer: GRULayer, inputs: Int, prefix: String, group: WeightGroup, direction: Int
  ) -> [(String, Extraction)] {
    let h = layer.hidden
    let gates = layer.gates
    var out: [(String, Extraction)] = []
    func add(_ p: CellParameter, _ e: Extraction) { out.append((p.name(in: prefix), e)) }
    // The block of a stacked gate: rows of PyTorch's and ONNX's [3H, ·], columns of Keras's [·, 3H].
    func block(_ g: Gate) -> Range<Int> {
      let i = format.stackedGates.firstIndex(of: g)!
      return (i * h)..<((i + 1) * h)
    }
    let p = group.prefix
    switch format {
    case .pytorch:
      let sfx = "_l\(group.layerIndex)" + (direction == 1 ? "_reverse" : "")
      for g in gates {
        add(.init(.inputWeight, g), Extraction(tensor: "\(p)weight_ih\(sfx)", fileShape: [3 * h, inputs], block: .init(rows: block(g), columns: 0..<inputs)))
        add(.init(.recurrentWeight, g), Extraction(tensor: "\(p)weight_hh\(sfx)", fileShape: [3 * h, h], block: .init(rows: block(g), columns: 0..<h)))
      }
      if layer.bias == .separate {
        for g in gates {
          add(.init(.inputBias, g), Extraction(tensor: "\(p)bias_ih\(sfx)", fileShape: [3 * h], block: .init(rows: 0..<1, columns: block(g))))
          add(.init(.recurrentBias, g), Extraction(tensor: "\(p)bias_hh\(sfx)", fileShape: [3 * h], block: .init(rows: 0..<1, columns: block(g))))
        }
      }
    case .keras:
      for g in gates {
        add(.init(.inputWeight, g), Extraction(tensor: "\(p)kernel", fileShape: [inputs, 3 * h],
                                 block: .init(rows: 0..<inputs, columns: block(g), transposed: true)))
        add(.init(.recurrentWeight, g), Extraction(tensor: "\(p)recurrent_kernel", fileShape: [h, 3 * h],
                                 block: .init(rows: 0..<h, columns: block(g), transposed: true)))
      }
      switch layer.bias {
      case .separate:
        let hint = "'bias separate' is Keras's reset_after=True, whose bias is [2, 3H]; a [3H] bias is reset_after=False: "
          + "use 'reset before, bias single'"
        for g in gates {
          add(.init(.inputBias, g), Extraction(tensor: "\(p)bias", fileShape: [2, 3 * h], block: .init(rows: 0..<1, columns: block(g)), hint: hint))
          add(.init(.recurrentBias, g), Extraction(tensor: "\(p)bias", fileShape: [2, 3 * h], block: .init(rows: 1..<2, columns: block(g)), hint: hint))
        }
      case .single:
        let hint = "'bias single' is Keras's reset_after=False, whose bias is [3H]; a [2, 3H] bias is reset_after=True: "
          + "use 'reset after, bias separate'"
        for g in gates {
          add(.init(.bias, g), Extraction(tensor: "\(p)bias", fileShape: [3 * h], block: .init(rows: 0..<1, columns: block(g)), hint: hint))
        }
      case .none: break
      }
    case .onnx:
      let d = layer.directions
      for g in gates {
        add(.init(.inputWeight, g), Extraction(tensor: "\(p)W", fileShape: [d, 3 * h, inputs],
                                 block: .init(index: direction, rows: block(g), columns: 0..<inputs)))
        add(.init(.recurrentWeight, g), Extraction(tensor: "\(p)R", fileShape: [d, 3 * h, h],
                                 block: .init(index: direction, rows: block(g), columns: 0..<h)))
      }
      if layer.bias == .separate {
        for g in gates {
          // B is [Wb, Rb]: the recurrent biases follow the three input ones.
          let b = block(g)
          add(.init(.inputBias, g), Extraction(tensor: "\(p)B", fileShape: [d, 6 * h],
                                    block: .init(rows: direction..<(direction + 1), columns: b)))
          add(.init(.recurrentBias, g), Extraction(tensor: "\(p)B", fileShape: [d, 6 * h],
                                    block: .init(rows: direction..<(direction + 1), columns: (b.lowerBound + 3 * h)..<(b.upperBound + 3 * h))))
        }
      }
    case .tf1:
      // gates/kernel is [x, h] @ K -> [r, u]; candidate/kernel is [x, r*h] @ K -> n.
      let all = inputs + h
      let names = group.tf1Names
      for g in gates {
        let stacked = format.stackedGates.contains(g)
        let (tensor, columns) = stacked ? (names.gatesKernel, block(g)) : (names.candidateKernel, 0..<h)
        let shape = stacked ? [all, 2 * h] : [all, h]
        add(.init(.inputWeight, g), Extraction(tensor: p + tensor, fileShape: shape, block: .init(rows: 0..<inputs, columns: columns, transposed: true)))
        add(.init(.recurrentWeight, g), Extraction(tensor: p + tensor, fileShape: shape, block: .init(rows: inputs..<all, columns: columns, transposed: true)))
      }
      if layer.bias == .single {
        for g in gates {
          let stacked = format.stackedGates.contains(g)
          let (tensor, columns, shape) = stacked ? (names.gatesBias, block(g), [2 * h]) : (names.candidateBias, 0..<h, [h])
          add(.init(.bias, g), Extraction(tensor: p + tensor, fileShape: shape, block: .init(rows: 0..<1, columns: columns)))
        }
      }
    case .grucc:
      for spec in ParameterSpecs.forGRU(GRUOp(layer: layer, hasLengths: false, hasInitialState: false), inputFeatures: inputs)
      where spec.name.hasPrefix(prefix + ".") && !spec.name.dropFirst(prefix.count + 1).contains(".") {
        let suffix = String(spec.name.dropFirst(prefix.count + 1))
        out.append((spec.name, Extraction(tensor: p + suffix, fileShape: spec.shape)))
      }
    }
    return out
  }

  /// Why a layer cannot be read in this convention at all, if it cannot.
  func unsupported(_ layer: GRULayer) -> String? {
    switch format {
    case .grucc: return nil
    case .pytorch, .keras, .onnx, .tf1:
      if layer.reset == .none {
        return "layer '\(layer.name)' has no reset gate ('reset none'), but \(format.rawValue) files stack three gates"
      }
      if layer.bias == .single && (format == .pytorch || format == .onnx) {
        return "\(format.rawValue) files keep separate input and recurrent biases: use 'bias separate' (or 'bias none')"
      }
      if layer.bias == .separate && format == .tf1 {
        return "TF1's GRUCell has one bias per gate: use 'bias single'"
      }
      if layer.bias == .none && format == .tf1 { return "TF1's GRUCell always has biases: use 'bias single'" }
      return nil
    }
  }

  /// What the framework computes, when the layer says otherwise: a likely variant mismatch.
  func variantWarning(_ layer: GRULayer) -> String? {
    var expected: [(String, String)] = []
    switch format {
    case .pytorch:
      expected = [("reset", "after"), ("update", "keeps-state")]
    case .keras, .onnx:
      expected = [("update", "keeps-state")]
    case .tf1:
      expected = [("reset", "before"), ("update", "keeps-state")]
    case .grucc:
      return nil
    }
    let actual = ["reset": layer.reset.rawValue, "update": layer.update.rawValue]
    let differing = expected.filter { actual[$0.0] != $0.1 }
    guard !differing.isEmpty else { return nil }
    let framework = ["pytorch": "PyTorch's nn.GRU", "keras": "Keras's GRU", "onnx": "ONNX's GRU", "tf1": "TF1's GRUCell"][format.rawValue]!
    return "\(framework) computes " + differing.map { "'\($0.0) \($0.1)'" }.joined(separator: " and ")
      + ", but layer '\(layer.name)' says " + differing.map { "'\($0.0) \(actual[$0.0]!)'" }.joined(separator: " and ")
  }

  /// A dense layer's weight and bias, `[N, K]` and `[N]` (or one per step when unshared).
  func dense(_ d: DenseOp, specs: [ParameterSpec], group: WeightGroup) -> [(String, Extraction)]? {
    guard specs.count == 2 else { return nil }
    let (w, b) = (specs[0], specs[1])
    let p = group.prefix
    switch format {
    case .pytorch, .onnx:
      return [(w.name, Extraction(tensor: p + "weight", fileShape: w.shape)), (b.name, Extraction(tensor: p + "bias", fileShape: b.shape))]
    case .keras, .tf1:
      guard w.shape.count == 2 else { return nil }
      let (n, k) = (w.shape[0], w.shape[1])
      return [
        (w.name, Extraction(tensor: p + "kernel", fileShape: [k, n], block: .init(rows: 0..<k, columns: 0..<n, transposed: true))),
        (b.name, Extraction(tensor: p + "bias", fileShape: b.shape)),
      ]
    case .grucc:
      return [(w.name, Extraction(tensor: p + "w", fileShape: w.shape)), (b.name, Extraction(tensor: p + "b", fileShape: b.shape))]
    }
  }
}

func isSeparator(_ c: Character) -> Bool { c == "." || c == "/" || c == "_" || c == ":" }

extension Extraction.Permutation {
  /// The values of the permuted tensor, row-major.
  func apply(_ values: [Double]) -> [Double] {
    let shape = order.map { view[$0] }
    var strides = [Int](repeating: 1, count: view.count)
    for i in stride(from: view.count - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * view[i + 1] }
    var out: [Double] = []
    out.reserveCapacity(values.count)
    var index = [Int](repeating: 0, count: shape.count)
    for _ in 0..<values.count {
      var at = 0
      for (i, axis) in order.enumerated() { at += index[i] * strides[axis] }
      out.append(values[at])
      var k = shape.count - 1
      while k >= 0 {
        index[k] += 1
        if index[k] < shape[k] { break }
        index[k] = 0
        k -= 1
      }
    }
    return out
  }
}
