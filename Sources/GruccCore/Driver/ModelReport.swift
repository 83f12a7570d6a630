// `grucc check`: what the model is, what it holds and what it costs, in a short plain report.

enum ModelReport {
  static func text(front: FrontEnd, optimised: Module) -> String {
    var diagnostics = DiagnosticEngine()
    let typed = ShapeInference().run(front.module!, diagnostics: &diagnostics)
    let iface = CInterface(optimised)
    let real = optimised.precision.rawValue
    var out = "model \(optimised.name) (\(real), \(optimised.layout.rawValue)), from \(front.source.path)\n"
    let graph = typed.graph
    for node in graph.nodes {
      let types = node.types.compactMap { $0?.description }.joined(separator: ", ")
      switch node.op {
      case .argument(let name, let type):
        let memory = type.isSequence && optimised.layout == .timeMajor ? " (in memory [T, B, \(type.features)])" : ""
        out += "  input \(name): \(type)\(memory)\n"
      case .gru(let g):
        let specs = ParameterSpecs.required(by: node, in: graph)
        out += "  \(ModelSummary.layer(g.layer))\n"
        out += "      output, final state: \(types); \(count(specs)) parameters\n"
        out += tensors(specs)
      case .dense(let d):
        let x = graph.type(of: node.operands[0])
        let specs = ParameterSpecs.required(by: node, in: graph)
        out += "  dense '\(d.name)': \(x?.description ?? "?") -> \(types); \(count(specs)) parameters\n"
        out += tensors(specs)
      case .sequenceLayer(let l):
        let x = graph.type(of: node.operands[0])
        let specs = ParameterSpecs.required(by: node, in: graph)
        out += "  \(l.kind.keyword) \(l.name): \(l.kind.optionsText)\n"
        out += "      \(x?.description ?? "?") -> \(types); \(count(specs)) parameters"
        if let layer = iface.sequenceLayers.first(where: { $0.op.name == l.name }) {
          switch l.kind {
          case .conv1d: out += ", \(layer.macsPerOutputStep) multiply-adds per output step\n"
          case .pool(let p):
            out += ", \(p.size * layer.inChannels) \(p.kind == .average ? "additions" : "comparisons") per output step\n"
          case .pad: out += ", copies only\n"
          case .norm: out += ", \(layer.macsPerOutputStep) multiply-adds per output step\n"
          }
          out += "      memory: \(layer.outChannels) scratch values per output step of a sequence; "
          out += layer.window > 0
            ? "streaming keeps its last \(layer.window) input steps, \(layer.streamValues) values (\(layer.streamValues * iface.elementBytes) bytes) in the state\n"
            : "nothing in the streaming state\n"
        } else {
          out += "\n"
        }
        // Types keep a symbolic T; the count a layer gives is worth saying where it is another.
        if !l.keepsSteps, x?.dims[1].fixedValue == nil {
          out += "      steps: \(l.outputStepsC("T")) for T input steps\n"
        }
        if !specs.isEmpty { out += tensors(specs) }
      case .norm(let n):
        out += NormReport.text(n, node: node, graph: graph, optimised: optimised)
      default:
        break
      }
    }
    for o in typed.graph.outputs {
      out += "  output \(o.name): \(typed.graph.type(of: o.value)?.description ?? "?")\n"
    }
    let bytes = iface.elementBytes
    out += "parameters: \(iface.parameterCount) (\(iface.parameterCount * bytes) bytes of \(real)"
    out += ")\n"
    out += "state: \(iface.stateSize) values (\(iface.stateSize * bytes) bytes) per stream or sequence"
    let windows = iface.sequenceLayers.reduce(0) { $0 + $1.streamValues }
    out += windows > 0 ? ", plus \(windows) values (\(windows * bytes) bytes) of the sequence layers' windows per stream\n" : "\n"
    if !iface.frontEnd.isEmpty {
      let perStep = iface.frontEnd.reduce(0) { $0 + $1.outChannels }
      out += "scratch of the sequence layers: \(perStep) values (\(perStep * bytes) bytes) per step of their outputs, "
        + "for all the steps of a sequence (SCRATCH_SIZE counts them)\n"
    }
    let plan = iface.plan.sequence
    out += "scratch: \(plan.perStep) values (\(plan.perStep * bytes) bytes) per step of a sequence, "
      + "plus \(plan.perSequence) (\(plan.perSequence * bytes) bytes) per sequence; "
      + (plan.chunkSteps.map { "time in chunks of \($0) steps, so at most \($0) steps' worth" }
        ?? "all T steps at once: \(plan.wholeSequenceReason ?? "the model needs them")") + "\n"
    out += "multiply-adds per step: \(iface.macsPerStep)"
    out += iface.macsPerSequence > 0 ? ", plus \(iface.macsPerSequence) per sequence\n" : "\n"
    out += "streaming: " + (iface.streamBlocker.map { "no: \($0)" } ?? "yes") + "\n"
    // The stack bound the header declares, so a firmware engineer can size a task's stack before
    // writing any C.
    let stack = iface.plan.stack
    out += "stack: at most \(stack.narrow) bytes on 32-bit targets, \(stack.wide) on 64-bit ones (STACK_BYTES)\n"
    out += "weights: \(iface.weightBytes) bytes compiled in"
    let full = iface.parameterCount * bytes
    if iface.weightBytes < full {
      let saved = full - iface.weightBytes
      out += " (weights-storage \(optimised.weightElement.rawValue): \(saved) bytes saved, "
        + "\(Int((Double(saved) / Double(full) * 100).rounded()))% of \(full))\n"
    } else {
      // The blob holds one element type, so 16-bit storage is compiled in only.
      out += ", or a \(WeightLayout(optimised).bytes)-byte blob with --weights external\n"
    }
    return out
  }

  /// The same report as one JSON object on one line, for tools: the model, its inputs, each
  /// layer's tensors (the names and shapes a weights file must hold), its outputs and its costs.
  static func json(front: FrontEnd, optimised: Module) -> String {
    var diagnostics = DiagnosticEngine()
    let typed = ShapeInference().run(front.module!, diagnostics: &diagnostics)
    let graph = typed.graph
    let iface = CInterface(optimised)
    func tensorList(_ specs: [ParameterSpec]) -> JSONValue {
      .array(specs.map { .object([("name", .string($0.name)), ("shape", .array($0.shape.map(JSONValue.int)))]) })
    }
    var inputs: [JSONValue] = []
    var layers: [JSONValue] = []
    for node in graph.nodes {
      switch node.op {
      case .argument(let name, let type):
        inputs.append(.object([("name", .string(name)), ("type", .string(type.description))]))
      case .gru(let g):
        let specs = ParameterSpecs.required(by: node, in: graph)
        layers.append(.object([
          ("kind", .string("gru")), ("name", .string(g.layer.name)), ("description", .string(ModelSummary.layer(g.layer))),
          ("parameters", .int(count(specs))), ("tensors", tensorList(specs)),
        ]))
      case .dense(let d):
        let specs = ParameterSpecs.required(by: node, in: graph)
        layers.append(.object([
          ("kind", .string("dense")), ("name", .string(d.name)), ("parameters", .int(count(specs))),
          ("tensors", tensorList(specs)),
        ]))
      case .sequenceLayer(let l):
        let specs = ParameterSpecs.required(by: node, in: graph)
        let layer = iface.sequenceLayers.first { $0.op.name == l.name }
        layers.append(.object([
          ("kind", .string(l.kind.keyword)), ("name", .string(l.name)),
          ("description", .string("\(l.kind.keyword) \(l.name): \(l.kind.optionsText)")),
          ("parameters", .int(count(specs))), ("tensors", tensorList(specs)),
          ("macs_per_output_step", .int(layer?.macsPerOutputStep ?? 0)),
          ("scratch_values_per_output_step", .int(layer?.outChannels ?? 0)),
          ("window_steps", .int(layer?.window ?? 0)), ("state_values", .int(layer?.streamValues ?? 0)),
        ]))
      case .norm(let n):
        layers.append(NormReport.json(n, node: node, graph: graph, optimised: optimised))
      default:
        break
      }
    }
    let outputs = graph.outputs.map { o in
      JSONValue.object([("name", .string(o.name)), ("type", .string(graph.type(of: o.value)?.description ?? "?"))])
    }
    let bytes = iface.elementBytes
    let plan = iface.plan.sequence
    let object = JSONValue.object([
      ("model", .string(optimised.name)), ("precision", .string(optimised.precision.rawValue)),
      ("layout", .string(optimised.layout.rawValue)), ("source", .string(front.source.path)),
      ("inputs", .array(inputs)), ("layers", .array(layers)), ("outputs", .array(outputs)),
      ("parameters", .int(iface.parameterCount)), ("parameter_bytes", .int(iface.parameterCount * bytes)),
      ("state_values", .int(iface.stateSize)), ("state_bytes", .int(iface.stateSize * bytes)),
      ("scratch_values_per_step", .int(plan.perStep)), ("scratch_values_per_sequence", .int(plan.perSequence)),
      ("chunk_steps", plan.chunkSteps.map(JSONValue.int) ?? .null),
      ("macs_per_step", .int(iface.macsPerStep)), ("macs_per_sequence", .int(iface.macsPerSequence)),
      ("streaming", .bool(iface.streamBlocker == nil)),
      ("weight_storage", .string(optimised.weightElement.rawValue)), ("weight_bytes", .int(iface.weightBytes)),
      ("stack_bytes_32bit", .int(iface.plan.stack.narrow)), ("stack_bytes_64bit", .int(iface.plan.stack.wide)),
    ])
    return object.text + "\n"
  }

  /// The tensor names and shapes a weights file must hold, a few per line.
  private static func tensors(_ specs: [ParameterSpec]) -> String {
    var out = ""
    var line = "      tensors:"
    for spec in specs {
      let item = " \(spec.name) \(shapeText(spec.shape))"
      if line.count + item.count > 100 {
        out += line + "\n"
        line = "              "
      }
      line += item
    }
    return out + line + "\n"
  }

  private static func count(_ specs: [ParameterSpec]) -> Int {
    specs.reduce(0) { $0 + $1.shape.reduce(1, *) }
  }
}
