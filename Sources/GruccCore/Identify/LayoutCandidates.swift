// The ways one GRU layer's tensors can be read (`grucc identify`): which framework's names they
// carry, or which per-gate tensor is which; the gate order of stacked matrices; the bias layout;
// the orientation of per-gate matrices. Each way is a `LayerLayout`: a weights statement (format
// and `map` lines) that grucc's own weight binding reads, so what identify tries is what a model
// file would do. Gate orders other than the format's own are tried on a copy of the file's
// tensors with the gate blocks moved into the format's order.

/// One way to read the file's tensors as one GRU layer.
struct LayerLayout {
  /// The weights statement's format.
  var format: WeightsFormat
  /// grucc's gates the layer has: r, z, n, or z, n for a cell without reset gate.
  var gates: [Gate]
  var bias: BiasLayout
  /// Which gate each of the file's gate blocks (stacked) or gate tensors (per-gate) holds, in file order.
  var gateOrder: [Gate]
  var orientation: String
  /// Tensor maps (`map h.w_r = "Wr", transposed`) for per-gate tensors.
  var maps: [TensorMap] = []
  /// The tensors the weights statement reads: the file's, with gate blocks reordered when
  /// `readsFileAsIs` is false.
  var tensors: [NamedTensor]
  /// Whether a weights statement reads the file itself (the format's own gate order).
  var readsFileAsIs: Bool
  /// Per-gate tensors assigned to gates by the letters in their names.
  var fromNames = false

  struct TensorMap: Equatable {
    /// grucc's tensor within the layer: `w_r`, `b_hn`.
    var target: CellParameter
    var source: String
    var transposed: Bool
  }

  var resets: [ResetPlacement] { gates.count == 2 ? [.none] : [.before, .after] }

  /// The gate order as the report prints it: `z,r,n`.
  func gateOrderText(_ separator: String) -> String { gateOrder.map(\.rawValue).joined(separator: separator) }
}

/// What the file holds and the ways to read it.
struct FileLayouts {
  /// How the file was read, for the report: `PyTorch names: gru.weight_ih_l0 [18, 4], ...`.
  var summary: String
  /// Ways to try, most likely first.
  var layouts: [LayerLayout]
  /// Per-gate tensors with names that say their gates: the other assignments, tried only when
  /// no layout in `layouts` matches.
  var fallback: [LayerLayout] = []
  /// File tensors no layout uses.
  var ignored: [NamedTensor] = []
  /// For per-gate tensors: the file's gate tensors in the order `gateOrder` refers to.
  var slotNames: [String] = []
}

/// What `grucc identify` reports instead of a result.
struct IdentifyError: Error, Equatable, CustomStringConvertible {
  var message: String
  init(_ message: String) { self.message = message }
  var description: String { message }
}

enum LayoutCandidates {
  static let stackedFormats: [WeightsFormat] = [.pytorch, .keras, .onnx, .tf1]

  static func frameworkName(_ format: WeightsFormat) -> String {
    switch format {
    case .pytorch: return "PyTorch"
    case .keras: return "Keras"
    case .onnx: return "ONNX"
    case .tf1: return "TF1"
    case .grucc: return "grucc"
    }
  }

  static func describe(_ t: NamedTensor) -> String { "\(quoted(t.name)) \(shapeText(t.shape))" }

  static func describe(_ ts: [NamedTensor]) -> String { ts.map(describe).joined(separator: ", ") }

  /// Keras and TF1 name variables `kernel:0`; the suffix is not part of the name.
  static func stem(_ name: String) -> String { name.hasSuffix(":0") ? String(name.dropLast(2)) : name }

  /// The layouts that fit `tensors` for a layer of `hidden` units reading `inputs` features.
  /// `data` describes x and y for messages about sizes that disagree with the weights.
  static func find(
    _ all: [NamedTensor], hidden: Int, inputs: Int, format requested: WeightsFormat?, data: (x: String, y: String)
  ) throws(IdentifyError) -> FileLayouts {
    let tensors = all.filter { $0.dtype.isFloat }
    guard !tensors.isEmpty else {
      throw IdentifyError(
        all.isEmpty ? "the file holds no tensors" : "the file holds no float tensors (it has \(describe(all)))")
    }
    var found: [(WeightsFormat, [WeightGroup])] = []
    for format in stackedFormats where requested == nil || requested == format {
      let names = tensors.map { format == .keras || format == .tf1 ? stem($0.name) : $0.name }
      let groups = Convention(format: format).gruGroups(names)
      if !groups.isEmpty { found.append((format, groups)) }
    }
    if let requested, requested != .grucc, found.isEmpty {
      throw IdentifyError(
        "the file has no GRU tensors in \(frameworkName(requested)) names (\(expectedNames(requested))); it has \(describe(tensors))"
      )
    }
    if found.count > 1 {
      throw IdentifyError(
        "the tensor names fit several conventions (" + found.map { frameworkName($0.0) }.joined(separator: ", ")
          + "): say which with --format")
    }
    if let (format, groups) = found.first {
      guard groups.count == 1 else {
        let labels = groups.map { format == .pytorch ? "\($0.label) layer \($0.layerIndex)" : $0.label }
        throw IdentifyError(
          "the file holds \(groups.count) GRU layers in \(frameworkName(format)) names (\(labels.joined(separator: "; "))); "
            + "identify reads one layer: save that layer's tensors alone")
      }
      var stacked = StackedReader(
        format: format, group: groups[0], tensors: tensors, hidden: hidden, inputs: inputs, data: data)
      var result = try stacked.layouts()
      result.ignored = tensors.filter { t in !stacked.used.contains(t.name) } + all.filter { !$0.dtype.isFloat }
      return result
    }
    var result = try PerGateReader(tensors: tensors, hidden: hidden, inputs: inputs, data: data).layouts()
    result.ignored += all.filter { !$0.dtype.isFloat }
    return result
  }

  static func expectedNames(_ format: WeightsFormat) -> String {
    switch format {
    case .pytorch: return "weight_ih_l0 [3H, I], weight_hh_l0 [3H, H], bias_ih_l0 and bias_hh_l0 [3H]"
    case .keras: return "kernel [I, 3H], recurrent_kernel [H, 3H], bias [3H] or [2, 3H]"
    case .onnx: return "W [1, 3H, I], R [1, 3H, H], B [1, 6H]"
    case .tf1:
      return "gates/kernel [I+H, 2H], gates/bias [2H], candidate/kernel [I+H, H], candidate/bias [H] "
        + "(TF 1.0: Gates/Linear/Matrix, Gates/Linear/Bias, Candidate/Linear/Matrix, Candidate/Linear/Bias)"
    case .grucc: return "w_r, w_z, w_n [H, I], u_r, u_z, u_n [H, H], biases [H]"
    }
  }

  /// Every ordering of `items`, `items` itself first.
  static func permutations<T>(_ items: [T]) -> [[T]] {
    guard items.count > 1 else { return [items] }
    var out: [[T]] = []
    for (i, first) in items.enumerated() {
      var rest = items
      rest.remove(at: i)
      for p in permutations(rest) { out.append([first] + p) }
    }
    return out
  }

  /// The tensor with its gate blocks moved: along `axis`, blocks of `block` values come in groups
  /// of `order.count`, holding the gates in `order`; afterwards they hold them in `target` order.
  static func reorder<G: Equatable>(_ t: NamedTensor, axis: Int, block: Int, from order: [G], to target: [G]) -> NamedTensor
  {
    let g = order.count
    let length = t.shape[axis]
    let outer = t.shape[..<axis].reduce(1, *)
    let inner = t.shape[(axis + 1)...].reduce(1, *)
    var values = t.values
    for o in 0..<outer {
      for p in 0..<length {
        let (group, slot, offset) = (p / (block * g), (p % (block * g)) / block, p % block)
        let source = group * block * g + order.firstIndex(of: target[slot])! * block + offset
        let (to, from) = ((o * length + p) * inner, (o * length + source) * inner)
        values.replaceSubrange(to..<(to + inner), with: t.values[from..<(from + inner)])
      }
    }
    var out = t
    out.values = values
    return out
  }
}

/// The tensors of one layer in a framework's stacked names.
private struct StackedReader {
  let format: WeightsFormat
  let group: WeightGroup
  let tensors: [NamedTensor]
  let hidden: Int
  let inputs: Int
  let data: (x: String, y: String)
  /// File names of the tensors the layer uses.
  var used: Set<String> = []

  init(
    format: WeightsFormat, group: WeightGroup, tensors: [NamedTensor], hidden: Int, inputs: Int,
    data: (x: String, y: String)
  ) {
    self.format = format
    self.group = group
    self.tensors = tensors
    self.hidden = hidden
    self.inputs = inputs
    self.data = data
  }

  var framework: String { LayoutCandidates.frameworkName(format) }

  mutating func tensor(_ leaf: String) -> NamedTensor? {
    let name = group.prefix + leaf
    let t = tensors.first { (format == .keras || format == .tf1 ? LayoutCandidates.stem($0.name) : $0.name) == name }
    if let t { used.insert(t.name) }
    return t
  }

  func require(_ t: NamedTensor?, _ leaf: String) throws(IdentifyError) -> NamedTensor {
    guard let t else {
      throw IdentifyError(
        "the \(framework) GRU tensors under \(quoted(group.label)) have no \(quoted(group.prefix + leaf)) (\(framework) names: "
          + "\(LayoutCandidates.expectedNames(format))); the file has \(LayoutCandidates.describe(tensors))")
    }
    return t
  }

  func shapeError(_ t: NamedTensor, _ expected: String) -> IdentifyError {
    IdentifyError("\(LayoutCandidates.describe(t)) does not fit a \(framework) GRU layer, whose \(expected)")
  }

  /// The gate-stacked tensors and how their blocks lie: (tensor, axis, number of gates per group).
  mutating func layouts() throws(IdentifyError) -> FileLayouts {
    var stacks: [(NamedTensor, axis: Int, gates: Int)] = []
    var fixed: [NamedTensor] = []
    var bias: BiasLayout = .none
    var h = 0
    var i = 0
    switch format {
    case .pytorch:
      let k = group.layerIndex
      if tensors.contains(where: { $0.name.hasPrefix(group.prefix) && $0.name.hasSuffix("_l\(k)_reverse") }) {
        throw IdentifyError(
          "the PyTorch GRU under \(quoted(group.label)) is bidirectional (it has '_reverse' tensors); identify reads one direction: "
            + "save the forward tensors alone")
      }
      let whh = try require(tensor("weight_hh_l\(k)"), "weight_hh_l\(k)")
      guard whh.shape.count == 2, whh.shape[1] > 0, whh.shape[0] == 3 * whh.shape[1] else {
        throw shapeError(whh, "weight_hh is [3H, H]")
      }
      h = whh.shape[1]
      let wih = try require(tensor("weight_ih_l\(k)"), "weight_ih_l\(k)")
      guard wih.shape.count == 2, wih.shape[0] == 3 * h, wih.shape[1] > 0 else {
        throw shapeError(wih, "weight_ih is [3H, I] = [\(3 * h), I]")
      }
      i = wih.shape[1]
      stacks = [(wih, 0, 3), (whh, 0, 3)]
      let (bih, bhh) = (tensor("bias_ih_l\(k)"), tensor("bias_hh_l\(k)"))
      switch (bih, bhh) {
      case (nil, nil): bias = .none
      case (let a?, let b?):
        for t in [a, b] where t.shape != [3 * h] { throw shapeError(t, "biases are [3H] = [\(3 * h)]") }
        stacks += [(a, 0, 3), (b, 0, 3)]
        bias = .separate
      default:
        throw IdentifyError(
          "the PyTorch GRU under \(quoted(group.label)) has "
            + (bih == nil ? "bias_hh but no bias_ih" : "bias_ih but no bias_hh")
            + " (a PyTorch layer has both or neither)")
      }
    case .keras:
      let rk = try require(tensor("recurrent_kernel"), "recurrent_kernel")
      guard rk.shape.count == 2, rk.shape[0] > 0, rk.shape[1] == 3 * rk.shape[0] else {
        throw shapeError(rk, "recurrent_kernel is [H, 3H]")
      }
      h = rk.shape[0]
      let k = try require(tensor("kernel"), "kernel")
      guard k.shape.count == 2, k.shape[1] == 3 * h, k.shape[0] > 0 else {
        throw shapeError(k, "kernel is [I, 3H] = [I, \(3 * h)]")
      }
      i = k.shape[0]
      stacks = [(k, 1, 3), (rk, 1, 3)]
      if let b = tensor("bias") {
        if b.shape == [3 * h] {
          bias = .single
          stacks.append((b, 0, 3))
        } else if b.shape == [2, 3 * h] {
          bias = .separate
          stacks.append((b, 1, 3))
        } else {
          throw shapeError(
            b, "bias is [3H] = [\(3 * h)] (reset_after=False) or [2, 3H] = [2, \(3 * h)] (reset_after=True)")
        }
      }
    case .onnx:
      let r = try require(tensor("R"), "R")
      guard r.shape.count == 3, r.shape[2] > 0, r.shape[1] == 3 * r.shape[2] else {
        throw shapeError(r, "R is [D, 3H, H]")
      }
      if r.shape[0] != 1 {
        throw IdentifyError(
          "\(LayoutCandidates.describe(r)) holds \(r.shape[0]) directions; identify reads one direction: save a [1, 3H, H] slice"
        )
      }
      h = r.shape[2]
      let w = try require(tensor("W"), "W")
      guard w.shape.count == 3, w.shape[0] == 1, w.shape[1] == 3 * h, w.shape[2] > 0 else {
        throw shapeError(w, "W is [1, 3H, I] = [1, \(3 * h), I]")
      }
      i = w.shape[2]
      stacks = [(w, 1, 3), (r, 1, 3)]
      if let b = tensor("B") {
        guard b.shape == [1, 6 * h] else { throw shapeError(b, "B is [1, 6H] = [1, \(6 * h)]") }
        bias = .separate
        stacks.append((b, 1, 3))
      }
    case .tf1:
      let names = group.tf1Names
      let ck = try require(tensor(names.candidateKernel), names.candidateKernel)
      guard ck.shape.count == 2, ck.shape[1] > 0, ck.shape[0] > ck.shape[1] else {
        throw shapeError(ck, "\(names.candidateKernel) is [I+H, H]")
      }
      h = ck.shape[1]
      i = ck.shape[0] - h
      let gk = try require(tensor(names.gatesKernel), names.gatesKernel)
      guard gk.shape == [i + h, 2 * h] else { throw shapeError(gk, "\(names.gatesKernel) is [I+H, 2H] = [\(i + h), \(2 * h)]") }
      let gb = try require(tensor(names.gatesBias), names.gatesBias)
      guard gb.shape == [2 * h] else { throw shapeError(gb, "\(names.gatesBias) is [2H] = [\(2 * h)]") }
      let cb = try require(tensor(names.candidateBias), names.candidateBias)
      guard cb.shape == [h] else { throw shapeError(cb, "\(names.candidateBias) is [H] = [\(h)]") }
      stacks = [(gk, 1, 2), (gb, 0, 2)]
      fixed = [ck, cb]
      bias = .single
    case .grucc:
      preconditionFailure("grucc names are read as per-gate tensors")
    }
    let whh = stacks[format == .tf1 ? 0 : 1].0
    if h != hidden {
      throw IdentifyError(
        "the weights are a layer of \(h) units (\(LayoutCandidates.describe(whh))), but \(data.y) has \(hidden) values per step or state"
      )
    }
    if i != inputs {
      let wih = format == .tf1 ? fixed[0] : stacks[0].0
      throw IdentifyError(
        "the weights read \(i) input features (\(LayoutCandidates.describe(wih))), but \(data.x) has \(inputs) per step"
      )
    }

    let native = format.stackedGates
    let orientation = format == .pytorch || format == .onnx ? "[out,in]" : "[in,out]"
    var layouts: [LayerLayout] = []
    let stackedNames = Set(stacks.map(\.0.name))
    let others = tensors.filter { !stackedNames.contains($0.name) }
    for order in LayoutCandidates.permutations(native) {
      let reordered =
        order == native
        ? stacks.map(\.0)
        : stacks.map { LayoutCandidates.reorder($0.0, axis: $0.axis, block: h, from: order, to: native) }
      layouts.append(
        LayerLayout(
          format: format, gates: Gate.allCases, bias: bias, gateOrder: order + format.gateOrder.dropFirst(order.count),
          orientation: orientation, tensors: reordered + others, readsFileAsIs: order == native))
    }
    let what = stacks.map(\.0) + fixed
    return FileLayouts(summary: "\(framework) names: \(LayoutCandidates.describe(what))", layouts: layouts)
  }
}

/// One GRU layer as separate tensors per gate with names of the user's choosing (`Wr`, `Uz`, `bh`, grucc's `h.w_r`).
private struct PerGateReader {
  let tensors: [NamedTensor]
  let hidden: Int
  let inputs: Int
  let data: (x: String, y: String)

  enum Kind { case input, recurrent, bias }
  enum Side { case input, hidden }

  /// What a tensor's name says: input or recurrent matrix or bias (and its side), and the gate.
  struct NameSays {
    var kind: Kind?
    var side: Side?
    var gate: Gate?
  }

  /// Reads names like `Wr`, `U_z`, `b_h` (the seeds), `W_xr`, `W_hr`, `b_r` (Cho et al., d2l),
  /// `w_r`, `u_z`, `b_in`, `b_hn` (grucc): a kind letter, an optional side letter, a gate letter.
  static func parse(_ name: String) -> NameSays {
    let leaf =
      LayoutCandidates.stem(name).split(whereSeparator: { $0 == "." || $0 == "/" }).last.map(String.init) ?? name
    let letters = Array(leaf.lowercased().filter { $0 != "_" && $0 != "-" })
    var says = NameSays()
    guard letters.count == 2 || letters.count == 3 else { return says }
    switch letters.last! {
    case "r": says.gate = .r
    case "z", "u": says.gate = .z
    case "n", "h", "c": says.gate = .n
    default: break
    }
    let middle: Character? = letters.count == 3 ? letters[1] : nil
    switch letters[0] {
    case "w", "k":
      switch middle {
      case nil, "x", "i": says.kind = .input
      case "h", "u": says.kind = .recurrent
      default: break
      }
    case "u", "r": says.kind = middle == nil ? .recurrent : nil
    case "b":
      says.kind = .bias
      switch middle {
      case nil: break
      case "i", "x", "w": says.side = .input
      case "h", "u", "r": says.side = .hidden
      default: says.kind = nil
      }
    default: break
    }
    return says
  }

  /// One gate's tensors.
  struct Slot {
    var w: NamedTensor
    var u: NamedTensor
    var biases: [NamedTensor]
  }

  func layouts() throws(IdentifyError) -> FileLayouts {
    let (h, i) = (hidden, inputs)
    func fits(_ t: NamedTensor) -> Bool {
      t.shape == [h] || t.shape == [h, h] || t.shape == [h, i] || t.shape == [i, h]
    }
    let used = tensors.filter(fits)
    let ignored = tensors.filter { !fits($0) }
    let matrices = used.filter { $0.shape.count == 2 }
    let vectors = used.filter { $0.shape.count == 1 }
    let expected =
      "per-gate tensors for H = \(h) (\(data.y)) and I = \(i) (\(data.x)): 6 matrices, W of r, z, n [H, I] or [I, H] and U [H, H] "
      + "(4 for a cell without reset gate), with 0, 3 or 6 biases [H] (0, 2 or 4); or stacked tensors in PyTorch, Keras, ONNX or TF1 names"
    func noLayout(_ why: String) -> IdentifyError {
      IdentifyError("the tensors \(LayoutCandidates.describe(tensors)) fit no GRU layout: \(why); expected \(expected)")
    }
    guard matrices.count == 6 || matrices.count == 4 else {
      throw noLayout("\(matrices.count) matri\(matrices.count == 1 ? "x fits" : "ces fit")")
    }
    let gates: [Gate] = matrices.count == 6 ? [.r, .z, .n] : [.z, .n]
    let g = gates.count
    guard [0, g, 2 * g].contains(vectors.count) else {
      throw noLayout("\(vectors.count) bias vector\(vectors.count == 1 ? "" : "s") for \(g) gates")
    }
    let says = Dictionary(used.map { ($0.name, Self.parse($0.name)) }, uniquingKeysWith: { a, _ in a })

    // Input and recurrent matrices: by shape when I ≠ H, else by name, else by file order.
    var ws: [NamedTensor]
    var us: [NamedTensor]
    if i != h {
      ws = matrices.filter { $0.shape != [h, h] }
      us = matrices.filter { $0.shape == [h, h] }
      guard ws.count == g, us.count == g else {
        throw noLayout("\(us.count) recurrent matrices [H, H] and \(ws.count) input matrices for \(g) gates")
      }
    } else {
      let named = (
        matrices.filter { says[$0.name]?.kind == .input }, matrices.filter { says[$0.name]?.kind == .recurrent }
      )
      (ws, us) =
        named.0.count == g && named.1.count == g ? named : (Array(matrices.prefix(g)), Array(matrices.suffix(g)))
    }
    // Biases: one per gate, or input-side then recurrent-side (by name, else by file order).
    var biasGroups: [[NamedTensor]] = []
    let bias: BiasLayout = vectors.isEmpty ? .none : vectors.count == g ? .single : .separate
    if bias == .single { biasGroups = [vectors] }
    if bias == .separate {
      let named = (vectors.filter { says[$0.name]?.side == .input }, vectors.filter { says[$0.name]?.side == .hidden })
      biasGroups =
        named.0.count == g && named.1.count == g
        ? [named.0, named.1] : [Array(vectors.prefix(g)), Array(vectors.suffix(g))]
    }

    // Slots: one per gate. When every group's names say each gate once, the names pair them;
    // otherwise they pair by position in the file.
    func byGate(_ group: [NamedTensor]) -> [Gate: NamedTensor]? {
      var out: [Gate: NamedTensor] = [:]
      for t in group {
        guard let gate = says[t.name]?.gate else { return nil }
        if g == 2 && gate == .r { return nil }
        if out[gate] != nil { return nil }
        out[gate] = t
      }
      return Set(out.keys) == Set(gates) ? out : nil
    }
    let groups = [ws, us] + biasGroups
    let named = groups.map(byGate)
    let fromNames = named.allSatisfy { $0 != nil }
    var slots: [Slot] = []
    var slotGates: [Gate]
    if fromNames {
      // In the file order of the input matrices, so the gate order column reads as the file does.
      slotGates = ws.map { w in gates.first { named[0]![$0]!.name == w.name }! }
      slots = slotGates.map { gate in
        Slot(w: named[0]![gate]!, u: named[1]![gate]!, biases: named.dropFirst(2).map { $0![gate]! })
      }
    } else {
      slotGates = gates
      slots = (0..<g).map { k in Slot(w: ws[k], u: us[k], biases: biasGroups.map { $0[k] }) }
    }

    // Orientations: input matrices by shape when I ≠ H; the recurrent ones either way.
    var orientations: [(w: Bool?, u: Bool)] = []
    let wGuess = ws.allSatisfy { $0.shape == [i, h] } && i != h
    for w in i != h ? [nil] : [false, true] as [Bool?] {
      let wt = w ?? wGuess
      orientations += [(w, wt), (w, !wt)]
    }

    func layout(_ assignment: [Gate], _ o: (w: Bool?, u: Bool)) -> LayerLayout {
      var maps: [LayerLayout.TensorMap] = []
      var wFlags: [Bool] = []
      for (slot, gate) in zip(slots, assignment) {
        let wt = o.w ?? (slot.w.shape == [i, h] && i != h)
        wFlags.append(wt)
        maps.append(.init(target: .init(.inputWeight, gate), source: slot.w.name, transposed: wt))
        maps.append(.init(target: .init(.recurrentWeight, gate), source: slot.u.name, transposed: o.u))
      }
      for (slot, gate) in zip(slots, assignment) {
        switch bias {
        case .single: maps.append(.init(target: .init(.bias, gate), source: slot.biases[0].name, transposed: false))
        case .separate:
          maps.append(.init(target: .init(.inputBias, gate), source: slot.biases[0].name, transposed: false))
          maps.append(.init(target: .init(.recurrentBias, gate), source: slot.biases[1].name, transposed: false))
        case .none: break
        }
      }
      // grucc's order of tensors: w_*, u_*, biases, each in gate order r, z, n.
      func rank(_ m: LayerLayout.TensorMap) -> Int {
        GateTensorKind.allCases.firstIndex(of: m.target.kind)! * 10 + gates.firstIndex(of: m.target.gate)!
      }
      maps.sort { rank($0) < rank($1) }
      let orientation: String
      if wFlags.allSatisfy({ $0 == o.u }) {
        orientation = o.u ? "[in,out]" : "[out,in]"
      } else if Set(wFlags).count == 1 {
        orientation = "W \(wFlags[0] ? "[in,out]" : "[out,in]"), U \(o.u ? "[in,out]" : "[out,in]")"
      } else {
        orientation = "W by shape, U \(o.u ? "[in,out]" : "[out,in]")"
      }
      return LayerLayout(
        format: .grucc, gates: gates, bias: bias, gateOrder: assignment, orientation: orientation, maps: maps,
        tensors: tensors, readsFileAsIs: true, fromNames: fromNames)
    }

    let assignments = LayoutCandidates.permutations(slotGates)
    var result = FileLayouts(summary: "", layouts: [], ignored: ignored)
    for (k, assignment) in assignments.enumerated() {
      for o in orientations {
        if fromNames && k > 0 {
          result.fallback.append(layout(assignment, o))
        } else {
          result.layouts.append(layout(assignment, o))
        }
      }
    }
    let slotText = slots.map { s in ([s.w, s.u] + s.biases).map(\.name).joined(separator: "/") }
    result.slotNames = slotText
    result.summary =
      "per-gate tensors (\(fromNames ? "gates from their names" : "names do not say the gates: trying every assignment")): "
      + LayoutCandidates.describe(used)
    return result
  }
}
