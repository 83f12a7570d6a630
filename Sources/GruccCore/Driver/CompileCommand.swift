// `grucc MODEL.gru [-o MODEL.c] [--emit KIND]`: the C (model.c, model.h and, with --weights
// external, model.weights), or one stage's output.

extension Driver {
  mutating func compile(_ options: CompileOptions) throws(DriverError) {
    // An imported model is named after the file it goes to (kws.c: kws_run), unless --name says.
    let stem = options.output.map(baseName).flatMap(ProgramWriter.identifier)
    let front = try frontEnd(options.input, modelName: options.name ?? stem)
    let (output, input) = (options.output, options.input)
    switch options.emit {
    case .tokens?:
      var lexer = Lexer(source: front.source)
      let text = lexer.tokenize().map { t in
        // No trailing space after the kind of a token without text: editors strip it from golden files.
        "\(t.range.start.line):\(t.range.start.column) \(t.kind)" + (t.text.isEmpty || t.kind == .newline ? "" : " \(t.text)") + "\n"
      }.joined()
      try deliver(text, to: output, input: input)
    case .ast?:
      try deliver(ASTPrinter.print(front.file), to: output, input: input)
    case .ir(let after)?:
      if after == "irgen" { return try deliver(IRPrinter.print(front.module!), to: output, input: input) }
      let module = try optimise(
        front, through: after, printAfterAll: options.printIRAfterAll, foldBatchNorm: options.weights != .external)
      try deliver(IRPrinter.print(module), to: output, input: input)
    case .gradientIR?:
      try refuseUntrainable(front)
      let module = try optimise(front, through: "lower-dense")
      let gradient: Module
      do throws(PipelineFailure) {
        gradient = try Autodiff.gradientModule(module)
      } catch {
        throw .internalFailure(error)
      }
      try deliver(IRPrinter.print(gradient), to: output, input: input)
    case .train?:
      try emitTrain(front, options)
    case .weights?:
      guard let path = output, path.hasSuffix(".safetensors") else { throw .emitWeightsNeedsOutput }
      let module = try optimise(front, through: "bind-weights")
      try write([(path, Safetensors.write(Self.tensors(of: module), metadata: [("format", "grucc")]))], input: input)
    case .c?, .header?:
      // With --weights external the blob holds the model's own tensors: batchnorms stay ops.
      let module = try optimise(front, printAfterAll: options.printIRAfterAll, foldBatchNorm: options.weights != .external)
      try Self.checkStorage(module, options)
      let emitted = Compiler.emitC(
        module, headerName: "\(module.name).h", activations: options.activations, weights: options.weights)
      try deliver(options.emit == .c ? emitted.source : emitted.header, to: output, input: input)
    case nil:
      // With --weights external the blob holds the model's own tensors: batchnorms stay ops.
      let module = try optimise(front, printAfterAll: options.printIRAfterAll, foldBatchNorm: options.weights != .external)
      let cPath = output ?? "\(module.name).c"
      guard cPath.hasSuffix(".c") else { throw .outputKind(cPath, expected: "'.c' (the header goes beside it as '.h')") }
      try Self.checkStorage(module, options)
      let hPath = String(cPath.dropLast(2)) + ".h"
      let headerName = hPath.split(separator: "/").last.map(String.init) ?? hPath
      let emitted = Compiler.emitC(module, headerName: headerName, activations: options.activations, weights: options.weights)
      var files = [(cPath, Array(emitted.source.utf8)), (hPath, Array(emitted.header.utf8))]
      // With --weights external the blob goes beside the C: model.c, model.h, model.weights.
      if let blob = emitted.blob { files.append((String(cPath.dropLast(2)) + ".weights", blob)) }
      try write(try addingDepfile(files, options), input: input)
    }
  }

  /// `--emit train`: the model lowered as grucc train lowers it, its step as MODEL_train.c and
  /// the header beside it, both written or neither.
  private mutating func emitTrain(_ front: FrontEnd, _ options: CompileOptions) throws(DriverError) {
    try refuseUntrainable(front)
    var start = front
    if options.train.fromInit { start.model?.weights = nil }
    let module = try optimise(start, through: "lower-dense")
    let cPath = options.output ?? "\(module.name)_train.c"
    guard cPath.hasSuffix(".c") else { throw .outputKind(cPath, expected: "'.c' (the header goes beside it as '.h')") }
    let hPath = String(cPath.dropLast(2)) + ".h"
    let headerName = hPath.split(separator: "/").last.map(String.init) ?? hPath
    let optimizer: TrainStepOptimizer = options.train.optimizer == .adam
      ? .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8) : .sgd(momentum: options.train.momentum ?? 0)
    let configuration = TrainStepConfiguration(loss: options.train.loss ?? .quadratic, optimizer: optimizer)
    let emitted: (source: String, header: String, layout: CTrainStepLayout)
    do throws(CGraphUnsupported) {
      emitted = try CTrainStep.emit(module, headerName: headerName, configuration: configuration)
    } catch {
      throw .training("--emit train: \(error.message)")
    }
    try write([(cPath, Array(emitted.source.utf8)), (hPath, Array(emitted.header.utf8))], input: options.input)
  }

  /// A module's parameters as safetensors tensors in its precision.
  static func tensors(of module: Module) -> [NamedTensor] {
    let dtype: TensorDType = module.precision == .f32 ? .f32 : .f64
    return module.parameters.map { NamedTensor(name: $0.name, dtype: dtype, shape: $0.shape, values: $0.values) }
  }

  /// The blob of `--weights external` holds one element type: 16-bit matrices are not in it yet.
  static func checkStorage(_ module: Module, _ options: CompileOptions) throws(DriverError) {
    guard module.weightElement != .f32, options.weights == .external else { return }
    throw .storageNeedsEmbeddedWeights(module.weightElement.rawValue)
  }
}
