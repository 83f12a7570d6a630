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
  let steps = full.steps ?? 3
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
