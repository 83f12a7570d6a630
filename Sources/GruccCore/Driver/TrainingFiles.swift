// A training or validation .npz as a TrainingBatch: an array per model input (named as `grucc run`
// names them: the sequence input, its lengths, `LAYER.h0`) and a target per trained output, named
// after the output. Shapes are checked here, in the user's layout, with the examples first
// (time-major models: the sequence arrays are [T, N, F]); the batch is batch-major.

enum TrainingFiles {
  /// The module's inputs and outputs with their types.
  struct Interface {
    var inputs: [(name: String, type: TensorType)]
    var outputs: [(name: String, type: TensorType)]
    var layout: SequenceLayout

    init(_ module: Module) {
      let graph = module.graph
      inputs = graph.argumentNodes.compactMap { i in
        if case .argument(let name, let type) = graph.nodes[i].op { return (name, type) }
        return nil
      }
      outputs = graph.outputs.compactMap { o in graph.type(of: o.value).map { (o.name, $0) } }
      layout = module.layout
    }

    /// The shape an array must have, in the user's layout: N examples, T steps ("T" if any).
    func expected(_ type: TensorType) -> String {
      if type.dtype == .i32 { return "[N]" }
      guard type.isSequence else { return "[N, \(type.features)]" }
      let steps = type.dims[1].fixedValue.map(String.init) ?? "T"
      return layout == .timeMajor ? "[\(steps), N, \(type.features)]" : "[N, \(steps), \(type.features)]"
    }
  }

  static func batch(
    _ members: [(String?, ArrayValue)], path: String, interface: Interface
  ) -> Result<TrainingBatch, TrainingError> {
    func failure(_ message: String) -> Result<TrainingBatch, TrainingError> { .failure(TrainingError("\(path): \(message)")) }
    func list(_ names: [String]) -> String { names.map { "'\($0)'" }.joined(separator: ", ") }
    var arrays: [String: ArrayValue] = [:]
    for (name, array) in members {
      guard let name else { return failure("an array has no name") }
      arrays[name] = array
    }
    var batch = TrainingBatch(inputs: [:], targets: [:])
    // Examples and steps as the first array of each kind says; every other array must agree.
    var examples: (count: Int, name: String)?
    var steps: (count: Int, name: String)?
    func check(_ name: String, _ type: TensorType, _ a: ArrayValue) -> String? {
      let expected = interface.expected(type)
      let rank = type.dtype == .i32 ? 1 : type.isSequence ? 3 : 2
      guard a.shape.count == rank, type.dtype == .i32 || a.shape.last == type.features else {
        return "'\(name)' has shape \(shapeText(a.shape)), expected \(expected)"
      }
      let sequence = type.isSequence
      let n = sequence && interface.layout == .timeMajor ? a.shape[1] : a.shape[0]
      if let e = examples, e.count != n {
        return "'\(name)' has \(n) examples, '\(e.name)' has \(e.count)"
      }
      examples = examples ?? (n, name)
      if sequence {
        let t = interface.layout == .timeMajor ? a.shape[0] : a.shape[1]
        if let fixed = type.dims[1].fixedValue, t != fixed {
          return "'\(name)' has shape \(shapeText(a.shape)), expected \(expected)"
        }
        if let s = steps, s.count != t { return "'\(name)' has \(t) steps, '\(s.name)' has \(s.count)" }
        steps = steps ?? (t, name)
      }
      if type.dtype != .i32, !a.values.allSatisfy(\.isFinite) { return "'\(name)' has a value that is not finite" }
      return nil
    }
    for (name, type) in interface.inputs {
      guard let a = arrays.removeValue(forKey: name) else {
        return failure("no array '\(name)' for the model's input '\(name)' (\(interface.expected(type)))")
      }
      if let problem = check(name, type, a) { return failure(problem) }
      batch.inputs[name] = DataFiles.canonical(a, for: type, layout: interface.layout)
    }
    for (name, type) in interface.outputs {
      guard let a = arrays.removeValue(forKey: name) else { continue }
      if let problem = check(name, type, a) { return failure(problem) }
      batch.targets[name] = DataFiles.canonical(a, for: type, layout: interface.layout)
    }
    if let stray = arrays.keys.sorted().first {
      return failure(
        "array '\(stray)' is neither an input nor an output of the model (inputs: \(list(interface.inputs.map(\.name))); "
          + "outputs: \(list(interface.outputs.map(\.name))))")
    }
    if batch.targets.isEmpty {
      return failure("no target: name an array after the output to train (\(list(interface.outputs.map(\.name))))")
    }
    if examples?.count == 0 { return failure("there are no examples") }
    return .success(batch)
  }
}
