// libFuzzer target: the .gru front end (lexer, parser, Sema, IRGen), then the pass pipeline
// with the weights as placeholders (what `grucc check` runs), then, for small models, the
// pipeline with real weights, the C emitter and one interpreter run. A verifier failure is a
// compiler bug, so it crashes the target; so does an error without a location.

@testable import GruccCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGru(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let source = SourceFile(path: "fuzz.gru", bytes: FuzzInput.bytes(data, size))
  let front = Compiler.frontEnd(source)
  _ = DiagnosticRenderer(source: source).render(front.diagnostics.diagnostics)
  guard let model = front.model, let module = front.module else {
    FuzzInput.require(front.diagnostics.hasErrors, "no module and no error")
    return 0
  }
  let weights = Compiler.weightSource(for: model, file: nil)
  var diagnostics = front.diagnostics
  let checked = PassPipeline.standard(weights: weights, budget: FuzzInput.budget, materialise: false)
    .run(module, diagnostics: &diagnostics)
  guard case .success(let shaped) = checked else {
    if case .failure(.verifier(let pass, let errors, _)) = checked {
      fatalError("verifier failed after \(pass): \(errors)")
    }
    return 0
  }
  // Small enough to make the weights, emit the C and run it quickly.
  guard shaped.parameters.reduce(0, { $0 + $1.count }) <= 50_000, (shaped.steps ?? 3) <= 16 else { return 0 }
  var more = front.diagnostics
  guard case .success(let full) = PassPipeline.standard(weights: weights, budget: FuzzInput.budget)
    .run(module, diagnostics: &more)
  else { return 0 }
  _ = CEmitter.emit(full, headerName: "fuzz.h")
  _ = CEmitter.emit(full, headerName: "fuzz.h", activations: .fast)
  var inputs: [String: ArrayValue] = [:]
  // Sequence layers (a valid conv1d, a strided pool) may leave a short sequence no step at all,
  // which run refuses as it should: a dynamic model gets the first T from 3 up that leaves the
  // rest of the model a step (Sema refuses a fixed T that leaves none).
  var steps = full.steps ?? 3
  while full.steps == nil, chainSteps(full, steps) < 1 {
    guard steps < 4096 else { return 0 }
    steps *= 2
  }
  for i in full.graph.argumentNodes {
    guard case .argument(let name, let type) = full.graph.nodes[i].op else { continue }
    if type.dtype == .i32 {
      inputs[name] = ArrayValue(shape: [2], values: [Double(steps), 0])
    } else {
      let shape = type.isSequence ? [2, steps, type.features] : [2, type.features]
      let count = shape.reduce(1, *)
      inputs[name] = ArrayValue(shape: shape, values: (0..<count).map { Double($0 % 7) / 7 - 0.5 })
    }
  }
  let ran = try? Interpreter.run(full, inputs: inputs, budget: FuzzInput.budget)
  FuzzInput.require(ran != nil, "a model that compiles does not run on valid inputs")
  return 0
}

/// The fewest steps a sequence layer of `module` gives for `steps` input steps (`steps` without any).
func chainSteps(_ module: Module, _ steps: Int) -> Int {
  var out: [Int: Int] = [:]
  var fewest = steps
  for (i, node) in module.graph.nodes.enumerated() {
    guard case .sequenceLayer(let layer) = node.op, let source = node.operands.first else { continue }
    let channels = module.graph.nodes[source.node].types[source.result]?.features ?? 1
    let n = layer.outputSteps(out[source.node] ?? steps, inChannels: channels)
    out[i] = n
    fewest = min(fewest, n)
  }
  return fewest
}
