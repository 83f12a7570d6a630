// What the generated C looks like from outside, derived from the optimised module: its inputs
// and outputs, the streaming state, the scratch memory and the cost per step. The emitters and
// `grucc check` both read it, so the header, the code and the report agree.

/// One model output as the C API exposes it.
struct COutput {
  var name: String
  var value: ValueRef
  var isSequence: Bool
  var features: Int
}

/// One recurrent loop of the model (a direction of a GRU layer) and its carried states.
struct CScanInfo {
  var node: Int
  var name: String
  var direction: ScanDirection
  var stateSizes: [Int]
  /// The streaming state struct's member for each carried state (see `assignMembers`).
  var members: [String] = []
}

/// A reduction over time; streaming keeps an accumulator for it in the state struct.
struct CReduction {
  var node: Int
  var kind: Reduction
  var features: Int
  /// The streaming state struct's member holding the running value.
  var member = ""
}

struct CInterface {
  let module: Module
  let names: CNames
  let real: String
  let input: (name: String, features: Int)
  let lengths: String?
  /// Arguments holding caller-given initial states (`h.h0`), in graph order.
  let initialStates: [(name: String, features: Int)]
  let outputs: [COutput]
  let scans: [CScanInfo]
  let reductions: [CReduction]
  /// The sequence layers (conv1d) computed before the rest of the model, in order (CConv.swift).
  let frontEnd: [CFrontEndLayer]
  /// The sequence layers after gru layers, computed inside the sequence function, in graph order.
  let midLayers: [CFrontEndLayer]
  /// For each node, the layer after a gru layer whose output steps it has, or nil (Graph.stepDomains).
  let stepDomains: [Int?]
  /// Streaming: the layers after gru layers that give no output on some steps, and for each node
  /// how many of them it depends on (CConv.streamGates, streamLevels).
  let streamGates: [Int]
  let streamLevels: [Int]
  /// Why the model cannot be run one step at a time, or nil if it can.
  let streamBlocker: String?
  /// The identifier the header's refusing macros expand to, naming the reason.
  let streamBlockerMarker: String
  /// Multiply-adds of one time step (the per-step products and the recurrence).
  let macsPerStep: Int
  /// Multiply-adds done once per sequence, after the time loop (heads on reduced values).
  let macsPerSequence: Int
  /// Where every value lives.
  let plan: MemoryPlan

  /// `headerName` is the header's file name, whose include guard no parameter may be named.
  init(_ module: Module, headerName: String = "model.h", weights: WeightStorage = .embedded) {
    self.module = module
    real = module.precision == .f32 ? "float" : "double"
    let graph = module.graph
    var input: (String, Int) = ("x", 1)
    var lengths: String?
    var initial: [(String, Int)] = []
    var scans: [CScanInfo] = []
    var reductions: [CReduction] = []
    var frontEnd: [CFrontEndLayer] = []
    var midLayers: [CFrontEndLayer] = []
    let isFrontEnd = graph.frontEndLayers
    var blocker: String?
    var perStep = 0
    var perSequence = 0
    for (i, node) in graph.nodes.enumerated() {
      let type = node.types.first.flatMap { $0 }
      switch node.op {
      case .argument(let name, let t):
        if t.isSequence { input = (name, t.features) } else if t.dtype == .i32 { lengths = name } else {
          initial.append((name, t.features))
        }
      case .scan(let s):
        let stateSizes = node.types.prefix(s.states).map { $0?.features ?? 0 }
        scans.append(CScanInfo(node: i, name: s.name, direction: s.direction, stateSizes: stateSizes))
        if s.direction == .reverse && blocker == nil {
          blocker = "'\(s.name)' reads its sequence backwards, so each output depends on steps not yet seen"
        }
        perStep += CInterface.macs(of: s.body)
      case .reverseTime:
        if blocker == nil {
          blocker = "'\(node.hint ?? "a layer")' reads its sequence backwards, so each output depends on steps not yet seen"
        }
      case .sequenceLayer(let l):
        let layer = CFrontEndLayer(
          node: i, op: l, inChannels: graph.type(of: node.operands[0])?.features ?? 0, outChannels: type?.features ?? 0)
        if isFrontEnd[i] { frontEnd.append(layer) } else { midLayers.append(layer) }
        perStep += layer.macsPerOutputStep
      case .reduce(let r):
        reductions.append(CReduction(node: i, kind: r, features: type?.features ?? 0))
      case .linear, .packedLinear:
        let macs = CInterface.macs(of: node, in: graph)
        if type?.isSequence == true { perStep += macs } else { perSequence += macs }
      case .linearUnshared:
        let w = graph.type(of: node.operands[1])?.fixedShape ?? [0, 0, 0]
        perStep += w[1] * w[2]
      case .parameter, .zeros, .gru, .dense, .norm, .activation, .add, .mul, .scale, .blend, .slice, .concat, .mask, .hold, .fused, .gradient:
        break
      }
    }
    self.input = input
    self.lengths = lengths
    self.initialStates = initial
    // The sequence layers stream when none reads a step ahead (CConv.streamProblem); a reverse
    // pass found above is the reason given first.
    var marker = "cannot_stream_a_reverse_pass"
    if blocker == nil, let problem = CConv.streamProblem(frontEnd) {
      blocker = problem
      marker = "cannot_stream_a_layer_that_reads_ahead"
    }
    if blocker == nil, let problem = CConv.midStreamProblem(midLayers, graph: graph) {
      blocker = problem.reason
      marker = problem.readsAhead ? "cannot_stream_a_layer_that_reads_ahead" : "cannot_stream_two_branches_that_skip_steps"
    }
    let gates = CConv.streamGates(midLayers, graph: graph)
    CInterface.assignMembers(&scans, &reductions, &frontEnd, &midLayers, gates: gates, graph: graph)
    self.scans = scans
    self.reductions = reductions
    self.frontEnd = frontEnd
    self.midLayers = midLayers
    self.stepDomains = graph.stepDomains
    streamGates = gates
    streamLevels = CConv.streamLevels(gates: gates, graph: graph)
    self.streamBlocker = blocker
    self.streamBlockerMarker = marker
    self.macsPerStep = perStep
    self.macsPerSequence = perSequence
    let outputs = graph.outputs.map { o in
      let t = graph.type(of: o.value)
      return COutput(name: o.name, value: o.value, isSequence: t?.isSequence ?? false, features: t?.features ?? 0)
    }
    self.outputs = outputs
    let names = CNames(
      model: module.name, headerGuard: CNames.headerGuard(headerName),
      parameters: initial.map { ($0.0, false) } + outputs.map { ($0.name, $0.isSequence) },
      weights: module.parameters.map(\.name), scans: scans.map(\.name),
      sizeMacros: outputs.map { ("output_\($0.name)_size", "output", $0.name, "size") }
        + initial.map { ("initial_\($0.0)_size", "initial", $0.0, "size") }
        + scans.map { ("layer_\($0.name)_hidden_size", "layer", $0.name, "hidden_size") })
    let parameterNames =
      initial.map { names.parameter($0.0) }
      + outputs.flatMap { o in [names.parameter(o.name)] + (o.isSequence ? ["_b", "_t"].map { names.parameter(o.name) + $0 } : []) }
    self.names = names
    plan = MemoryPlan(
      module: module, names: names,
      reserved: CSequenceEmitter.reservedNames + parameterNames + (midLayers.isEmpty ? [] : CConv.localNames), weights: weights)
  }

  /// Whether the weights come from a blob the caller passes (`--weights external`).
  var externalWeights: Bool { plan.weights != nil }

  /// How a function reaches a weight tensor: its array, or its place in the blob's data `w`.
  func weight(_ name: String) -> String {
    externalWeights ? "(w + \(names.weight(name)))" : names.weight(name)
  }

  /// The internal functions' first parameters after `nb`: the blob's data, when there is one.
  var weightParameter: [String] { externalWeights ? ["const \(real) *w"] : [] }
  var weightArgument: [String] { externalWeights ? ["w"] : [] }

  /// The public functions' first parameter: the blob, when there is one.
  var blobParameter: [String] { externalWeights ? ["const void *weights"] : [] }

  /// The C parameter names the API's functions give the initial states and outputs (and, inside
  /// the whole-sequence function, the outputs' strides): no local may take them.
  var parameterNames: [String] {
    initialStates.map { names.parameter($0.name) }
      + outputs.flatMap { o in [names.parameter(o.name)] + (o.isSequence ? ["_b", "_t"].map { names.parameter(o.name) + $0 } : []) }
  }

  /// All the sequence layers: the chain from the input, then those after gru layers.
  var sequenceLayers: [CFrontEndLayer] { frontEnd + midLayers }

  /// The steps of what the sequence function reads, for the macros' `(T)` input steps.
  var frontEndFormula: StepsFormula { frontEnd.reduce(StepsFormula()) { $0.after($1.op) } }

  /// The steps of the values in `domain` (Graph.stepDomains), for the macros' `(T)`.
  func formula(of domain: Int?) -> StepsFormula {
    var roots: [SequenceLayerOp] = []
    var at = domain
    while let d = at, case .sequenceLayer(let l) = module.graph.nodes[d].op {
      roots.append(l)
      at = stepDomains[module.graph.nodes[d].operands[0].node]
    }
    return roots.reversed().reduce(frontEndFormula) { $0.after($1) }
  }

  /// The layers after gru layers that change the number of steps (each the root of a domain).
  var midDomains: [Int] { midLayers.map(\.node).filter { stepDomains[$0] == $0 } }

  /// The steps of every sequence output (Sema gives them one count); without any, of what the
  /// last layer after a gru layer that skips steps gives (the steps `step` returns OK for), or of
  /// what the first gru layer reads; for the macros' `(T)`.
  var sequenceOutputSteps: String {
    let domain = outputs.first(where: \.isSequence).map { stepDomains[$0.value.node] }
      ?? streamGates.last.flatMap { stepDomains[$0] }
    return formula(of: domain).c
  }

  /// Scratch values for B sequences of T steps, as a C expression of the macro's B and T.
  var scratchSizeExpression: String {
    let s = plan.sequence
    // With sequence layers, their outputs first, then the rest of the model's for T' steps.
    // After gru layers only a pad adds steps: T' plus all their pads bounds every value's steps.
    var t = frontEndFormula.c
    let pads = midLayers.reduce(0) { sum, l in if case .pad(let b, let a) = l.op.kind { return sum + b + a } else { return sum } }
    if pads > 0 { t = "(\(t) + \(pads))" }
    let stepsInScratch = s.chunkSteps.map { "(\(t) < \($0) ? \(t) : \($0))" } ?? t
    let front = frontEnd.isEmpty ? "" : CConv.scratchPerSequence(frontEnd) + " + "
    return "((size_t)(B) * (\(front)(size_t)\(stepsInScratch) * \(s.perStep) + \(s.perSequence)))"
  }

  /// Names the state struct's members after the layers and reductions, made unique: a layer may be
  /// called `int`, `steps` (the struct's step counter) or `m_acc` (next to the accumulator of `m`).
  private static func assignMembers(
    _ scans: inout [CScanInfo], _ reductions: inout [CReduction], _ frontEnd: inout [CFrontEndLayer],
    _ midLayers: inout [CFrontEndLayer], gates: [Int], graph: Graph
  ) {
    var names = LocalNames(reserved: ["steps", "work", "input_steps"])
    for k in scans.indices {
      let base = scans[k].name
      scans[k].members = scans[k].stateSizes.count == 1
        ? [names.fresh(base)] : scans[k].stateSizes.indices.map { names.fresh("\(base)_\($0)") }
    }
    for k in reductions.indices {
      let node = reductions[k].node
      reductions[k].member = names.fresh((graph.nodes[node].hint ?? "reduce\(node)") + "_acc")
    }
    for k in frontEnd.indices where frontEnd[k].window > 0 {
      let base = frontEnd[k].op.name
      frontEnd[k].members = (names.fresh(base + "_window"), names.fresh(base + "_out"), names.fresh(base + "_seen"))
    }
    for k in frontEnd.indices where frontEnd[k].isNorm {
      frontEnd[k].members.out = names.fresh(frontEnd[k].op.name + "_out")
    }
    for k in midLayers.indices where midLayers[k].window > 0 {
      let base = midLayers[k].op.name
      midLayers[k].members = (names.fresh(base + "_window"), names.fresh(base + "_out"), names.fresh(base + "_seen"))
    }
    for k in midLayers.indices where gates.contains(midLayers[k].node) {
      midLayers[k].counter = names.fresh(midLayers[k].op.name + "_steps")
    }
    for k in midLayers.indices where midLayers[k].isNorm {
      midLayers[k].members.out = names.fresh(midLayers[k].op.name + "_out")
    }
  }

  /// Multiply-adds of one row of a (packed) linear: outputs × inputs, padding rows not counted.
  static func macs(of node: Node, in graph: Graph) -> Int {
    switch node.op {
    case .linear:
      let k = graph.type(of: node.operands[0])?.features ?? 0
      return (graph.type(of: node.operands[1])?.fixedShape?.first ?? 0) * k
    case .packedLinear(let p): return p.outputs * (graph.type(of: node.operands[0])?.features ?? 0)
    case .linearUnshared:
      // One [N, K] product per step, like a linear; the C calls it once per step.
      let k = graph.type(of: node.operands[0])?.features ?? 0
      return (graph.type(of: node.operands[1])?.fixedShape.map { $0.count == 3 ? $0[1] : 0 } ?? 0) * k
    case .argument, .parameter, .zeros, .activation, .add, .mul, .scale, .blend, .slice, .concat, .reduce, .mask,
      .hold, .reverseTime, .fused, .norm:
      return 0
    case .gru, .dense, .sequenceLayer, .scan, .gradient:
      // Lowered before the C backend (gru, dense), counted through their bodies (scan), or
      // never compiled to C (gradient): counting them here would be a mistake.
      preconditionFailure("'\(node.op.mnemonic)' has no multiply-add count of its own")
    }
  }

  static func macs(of graph: Graph) -> Int {
    graph.nodes.reduce(0) { $0 + macs(of: $1, in: graph) }
  }

  var stateSize: Int { scans.reduce(0) { $0 + $1.stateSizes.reduce(0, +) } }

  /// The model's weights and biases: what the weight arrays hold (packing adds no zeros).
  var parameterCount: Int { module.parameters.reduce(0) { $0 + $1.count } }


  var elementBytes: Int { module.precision == .f32 ? 4 : 8 }

  /// Whether a parameter is stored in 16 bits (`weights-storage f16 | bf16`): the packed matrices.
  func isNarrow(_ p: Parameter) -> Bool { module.weightElement != .f32 && p.panel != nil }

  /// Bytes of the weights as the C stores them (int8: with the padding and the scales, CInt8).
  var weightBytes: Int {
    module.parameters.reduce(0) { sum, p in
      guard isNarrow(p) else { return sum + p.count * elementBytes }
      if module.weightElement == .int8 { return sum + CInt8.bytes(rows: p.shape[0], columns: p.shape[1]) }
      return sum + p.count * module.weightElement.bytes
    }
  }
}

extension CInterface {
  /// The state member counting the steps of the values at streaming level `level` (0: every call).
  func stepCounter(level: Int) -> String {
    level == 0 ? "steps" : midLayers.first { $0.node == streamGates[level - 1] }!.counter
  }
}
