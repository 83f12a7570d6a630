// IRGen: builds the high-level IR graph from a checked `Model`. One node per declaration and
// head operation, each carrying the source range it came from; types are left to ShapeInference.

public enum IRGen {
  public static func generate(_ model: Model, sourceName: String) -> Module {
    var graph = Graph()
    let dtype = DType(model.precision)
    let input = model.input
    let steps: Dim = input.steps.map { .fixed($0) } ?? .time
    let inputType = TensorType(dtype, [.batch, steps, .fixed(input.features)])
    let x = graph.append(Node(.argument(name: input.name, type: inputType), [], types: [inputType], range: input.range))
    var lengths: ValueRef?
    if let name = input.lengths {
      let type = TensorType(.i32, [.batch])
      lengths = graph.append(Node(.argument(name: name, type: type), [], types: [type], range: input.range))
    }

    // What each defined name evaluates to, and which of its steps are meaningful.
    var values: [String: (value: ValueRef, steps: ValidSteps)] = [input.name: (x, .prefix)]
    var layerNodes: [String: Int] = [:]

    /// Lowers a head expression. The binding's outermost node is named after the binding and
    /// inner ones after the binding and their function, so the generated C reads `p`, `p_dense`.
    func lower(_ e: HeadExpr, binding: String, top: Bool = true) -> (ValueRef, ValidSteps) {
      func hint(_ function: String) -> String { top ? binding : "\(binding)_\(function)" }
      switch e {
      case .ref(let name, _):
        return values[name]!
      case .state(let layer, _):
        return (ValueRef(layerNodes[layer]!, 1), .vector)
      case .dense(let inner, let units, let unshared, let range):
        let (v, seq) = lower(inner, binding: binding, top: false)
        let op = Op.dense(DenseOp(name: binding, units: units, unshared: unshared))
        return (graph.append(Node(op, [v], range: range, hint: hint("dense"))), seq)
      case .activation(let a, let inner, let range):
        let (v, seq) = lower(inner, binding: binding, top: false)
        return (graph.append(Node(.activation(a), [v], range: range, hint: hint(Op.activation(a).mnemonic))), seq)
      case .reduce(let r, let inner, let range):
        let (v, steps) = lower(inner, binding: binding, top: false)
        // A sequence whose every step is meaningful is reduced over all T steps.
        let operands = [v] + (steps == .all ? [] : lengths.map { [$0] } ?? [])
        return (graph.append(Node(.reduce(r), operands, range: range, hint: hint(r.rawValue))), .vector)
      }
    }

    for definition in model.definitions {
      switch definition {
      case .gru(let layer):
        var operands = [values[layer.source]!.value]
        if let lengths { operands.append(lengths) }
        if layer.initial == .given {
          let type = TensorType(dtype, [.batch, .fixed(layer.hidden * layer.directions)])
          let h0 = graph.append(
            Node(.argument(name: "\(layer.name).h0", type: type), [], types: [type], range: layer.range))
          operands.append(h0)
        }
        let op = Op.gru(GRUOp(layer: layer, hasLengths: lengths != nil, hasInitialState: layer.initial == .given))
        let v = graph.append(Node(op, operands, range: layer.range))
        layerNodes[layer.name] = v.node
        values[layer.name] = (v, ValidSteps(layer))
      case .sequence(let layer):
        // Sema allows these only in models without lengths: every step is meaningful.
        let (source, steps) = values[layer.source]!
        let op = Op.sequenceLayer(SequenceLayerOp(name: layer.name, kind: layer.kind))
        values[layer.name] = (graph.append(Node(op, [source], range: layer.range, hint: layer.name)), steps)
      case .norm(let layer):
        // Per step: its output means something at the steps its source's does.
        let source = values[layer.source]!
        let v = graph.append(Node(.norm(NormOp(layer: layer)), [source.value], range: layer.range, hint: layer.name))
        values[layer.name] = (v, source.steps)
      case .value(let def):
        var (v, seq) = lower(def.value, binding: def.name)
        if def.isOutput {
          // A sequence output is zero past each sequence's end, whatever the head computed there,
          // unless its layers give those steps a meaning (past-end hold, padding processed).
          if seq == .prefix, let lengths {
            v = graph.append(Node(.mask, [v, lengths], range: def.range, hint: "\(def.name)_masked"))
          }
          graph.outputs.append(GraphOutput(name: def.name, value: v))
        }
        values[def.name] = (v, seq)
      }
    }
    var module = Module(
      name: model.name, precision: model.precision, layout: input.layout, steps: input.steps,
      sourceName: sourceName, graph: graph)
    module.weightElement = model.weightElement
    module.summary = ModelSummary.lines(model)
    return module
  }
}

/// Which steps of a value mean something when the model has lengths.
enum ValidSteps: Equatable {
  /// Not a sequence.
  case vector
  /// Steps before each sequence's length; what lies past it is padding, zeroed in outputs.
  case prefix
  /// As `prefix` for reductions, but the steps past the end hold what the layer chose to output
  /// there (`past-end hold`), so outputs keep them.
  case held
  /// Every step: the layer processed the padding too, so reductions and outputs use all T steps.
  case all

  init(_ layer: GRULayer) {
    if layer.padding == .processed { self = .all } else if layer.pastEnd == .hold { self = .held } else { self = .prefix }
  }
}
