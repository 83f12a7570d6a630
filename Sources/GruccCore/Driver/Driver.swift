// The driver: runs a command end to end. It owns the only file I/O and the diagnostics
// rendering, and writes outputs atomically (temporary file, then rename) and only on success.

import Foundation

/// What a run of grucc printed and its exit status. main.swift forwards it; tests inspect it.
public struct DriverResult: Sendable {
  public var exitCode: Int32
  public var stdout: String
  public var stderr: String
}

/// Where a long command (`train`) reports progress while it runs. Without one, its progress
/// lines join the rest of stdout in the DriverResult.
public struct ProgressOutput: Sendable {
  /// Writes lines meant for stdout at once.
  public var line: @Sendable (String) -> Void
  /// Rewrites a live status line (`\r`...), for a terminal on stderr; nil for none.
  public var status: (@Sendable (String) -> Void)?

  public init(line: @escaping @Sendable (String) -> Void, status: (@Sendable (String) -> Void)?) {
    self.line = line
    self.status = status
  }
}

public struct Driver {
  private var colors: Bool
  // Internal, not private: the commands in Driver/*Command.swift extend the Driver.
  var stdout = ""
  var stderr = ""
  var progress: ProgressOutput?
  /// How `train` differentiates (Trainer.defaultGradient unless a test passes another).
  var gradient: any LossGradient
  /// The weights of a model imported from an ONNX file in this run; they never touch the disk.
  private var importedTensors: [NamedTensor]?
  /// How much memory files, weights and interpreter runs may take (`--max-memory`).
  var budget = MemoryBudget.standard

  private init(colors: Bool, progress: ProgressOutput?, gradient: any LossGradient) {
    self.colors = colors
    self.progress = progress
    self.gradient = gradient
  }

  /// Runs one grucc command line (without the program name).
  /// The blob of `--weights external` holds one element type: 16-bit matrices are not in it yet.
  static func storageRefusal(_ module: Module, _ options: CompileOptions) -> String? {
    guard module.weightElement != .f32, options.weights == .external else { return nil }
    return "'weights-storage \(module.weightElement.rawValue)' needs the weights compiled in: "
      + "'--weights external' stores f32 only"
  }

  public static func run(_ arguments: [String], colors: Bool = false, progress: ProgressOutput? = nil) -> DriverResult {
    run(arguments, colors: colors, progress: progress, gradient: Trainer.defaultGradient)
  }

  /// As above, training with `gradient`.
  static func run(
    _ arguments: [String], colors: Bool = false, progress: ProgressOutput? = nil, gradient: any LossGradient
  ) -> DriverResult {
    var driver = Driver(colors: colors, progress: progress, gradient: gradient)
    let code = driver.execute(arguments)
    return DriverResult(exitCode: code, stdout: driver.stdout, stderr: driver.stderr)
  }

  private mutating func execute(_ arguments: [String]) -> Int32 {
    let command: Command
    do {
      let (budget, rest) = try Options.memoryBudget(arguments)
      self.budget = budget
      command = try Options.parse(rest)
    } catch {
      stderr += "grucc: error: \(error.message)\nrun 'grucc --help' for usage\n"
      return 1
    }
    switch command {
    case .help:
      stdout += HelpText.text
      return 0
    case .version:
      stdout += "grucc \(Compiler.version)\n"
      return 0
    case .compile(let options): return compile(options)
    case .run(let options): return runModel(options)
    case .check(let path): return check(path)
    case .identify(let options): return identify(options)
    case .importModel(let input, let output, let name): return importModel(input, output: output, name: name)
    case .train(let options): return train(options, gradient: gradient)
    }
  }

  // MARK: - Loading

  mutating func fail(_ message: String) -> Int32 {
    stderr += "grucc: error: \(message)\n"
    return 1
  }

  struct ReadError: Error, CustomStringConvertible {
    var description: String
  }

  func readFile(_ path: String) -> Result<[UInt8], ReadError> {
    FileAccess.read(path, budget: budget)
  }

  private mutating func report(_ diagnostics: DiagnosticEngine, source: SourceFile?) {
    let renderer = DiagnosticRenderer(source: source, colors: colors)
    stderr += renderer.render(Compiler.sorted(diagnostics.diagnostics))
  }

  /// Reads and checks a model file; nil (with the errors printed) if it has errors. An ONNX file
  /// is imported first and its .gru text checked as if the user had written it.
  mutating func frontEnd(_ path: String, modelName: String? = nil) -> FrontEnd? {
    var bytes: [UInt8]
    switch readFile(path) {
    case .success(let b): bytes = b
    case .failure(let reason):
      _ = fail("cannot read '\(path)': \(reason.description)")
      return nil
    }
    var sourcePath = path
    if path.hasSuffix(".onnx") {
      let name = modelName ?? ProgramWriter.identifier(baseName(path)) ?? "model"
      guard let imported = importOnnx(bytes, path: path, modelName: name, weightsFile: baseName(path) + ".safetensors")
      else { return nil }
      bytes = Array(imported.source.utf8)
      importedTensors = imported.tensors
      sourcePath = path + ".gru"
    }
    let result = Compiler.frontEnd(SourceFile(path: sourcePath, bytes: bytes))
    report(result.diagnostics, source: result.source)
    return result.module == nil ? nil : result
  }

  /// Reads the model's weights file, if it names one, relative to the model file's directory.
  private mutating func weights(for model: Model, modelPath: String) -> (WeightSource, DiagnosticEngine) {
    var diagnostics = DiagnosticEngine()
    guard let spec = model.weights else { return (Compiler.weightSource(for: model, file: nil), diagnostics) }
    if let importedTensors { return (Compiler.weightSource(for: model, file: importedTensors), diagnostics) }
    let path = spec.path.hasPrefix("/") ? spec.path : directory(of: modelPath) + spec.path
    switch readFile(path) {
    case .failure(let reason):
      diagnostics.error(.cannotReadFile(spec.path, reason: reason.description), at: spec.range)
      return (Compiler.weightSource(for: model, file: nil), diagnostics)
    case .success(let bytes):
      do throws(FormatError) {
        let tensors = try WeightFiles.read(bytes, path: spec.path, budget: budget)
        return (Compiler.weightSource(for: model, file: tensors), diagnostics)
      } catch {
        diagnostics.error(.weightFileInvalid(spec.path, reason: error.message), at: spec.range)
        return (Compiler.weightSource(for: model, file: nil), diagnostics)
      }
    }
  }

  func directory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "" }
    return String(path[...slash])
  }

  /// Runs the pass pipeline (or its prefix up to `through`), printing IR dumps if asked.
  mutating func optimise(
    _ front: FrontEnd, through: String? = nil, printAfterAll: Bool = false, materialise: Bool = true
  ) -> Module? {
    guard let model = front.model, let module = front.module else { return nil }
    let (source, weightDiagnostics) = weights(for: model, modelPath: front.source.path)
    if weightDiagnostics.hasErrors {
      report(weightDiagnostics, source: front.source)
      return nil
    }
    var pipeline = PassPipeline.standard(weights: source, budget: budget, materialise: materialise)
    if let through, let prefix = pipeline.prefix(through: through) { pipeline = prefix }
    var diagnostics = weightDiagnostics
    var dumps = ""
    if printAfterAll { dumps += "// ----- IR after irgen -----\n" + IRPrinter.print(module) }
    let result = pipeline.run(module, diagnostics: &diagnostics) { name, m in
      if printAfterAll { dumps += "// ----- IR after \(name) -----\n" + IRPrinter.print(m) }
    }
    report(diagnostics, source: front.source)
    stdout += dumps
    switch result {
    case .success(let m): return m
    case .failure(.diagnostics): return nil
    case .failure(let failure):
      _ = internalFailure(failure)
      return nil
    }
  }

  /// Prints a verifier failure (a bug in grucc, not in the model) with the IR that broke.
  mutating func internalFailure(_ failure: PipelineFailure) -> Int32 {
    guard case .verifier(let pass, let errors, let dump) = failure else { return 1 }
    stderr += "grucc: error: internal: IR verification failed after pass '\(pass)':\n"
    for e in errors { stderr += "  \(e)\n" }
    stderr += dump
    return 1
  }

  // MARK: - Commands

  private mutating func compile(_ options: CompileOptions) -> Int32 {
    // An imported model is named after the file it goes to (kws.c: kws_run), unless --name says.
    let stem = options.output.map(baseName).flatMap(ProgramWriter.identifier)
    guard let front = frontEnd(options.input, modelName: options.name ?? stem) else { return 1 }
    switch options.emit {
    case .tokens?:
      var lexer = Lexer(source: front.source)
      let text = lexer.tokenize().map { t in
        // No trailing space after the kind of a token without text: editors strip it from golden files.
        "\(t.range.start.line):\(t.range.start.column) \(t.kind)" + (t.text.isEmpty || t.kind == .newline ? "" : " \(t.text)") + "\n"
      }.joined()
      return deliver(text, to: options.output, input: options.input)
    case .ast?:
      return deliver(ASTPrinter.print(front.file), to: options.output, input: options.input)
    case .ir(let after)?:
      if after == "irgen" { return deliver(IRPrinter.print(front.module!), to: options.output, input: options.input) }
      guard let module = optimise(front, through: after, printAfterAll: options.printIRAfterAll) else { return 1 }
      return deliver(IRPrinter.print(module), to: options.output, input: options.input)
    case .gradientIR?:
      guard let module = optimise(front, through: "lower-dense") else { return 1 }
      do throws(PipelineFailure) {
        return deliver(IRPrinter.print(try Autodiff.gradientModule(module)), to: options.output, input: options.input)
      } catch {
        return internalFailure(error)
      }
    case .weights?:
      guard let path = options.output, path.hasSuffix(".safetensors") else {
        return fail("--emit weights writes a safetensors file: give it with -o FILE.safetensors")
      }
      guard let module = optimise(front, through: "bind-weights") else { return 1 }
      let dtype: TensorDType = module.precision == .f32 ? .f32 : .f64
      let tensors = module.parameters.map { NamedTensor(name: $0.name, dtype: dtype, shape: $0.shape, values: $0.values) }
      return write([(path, Safetensors.write(tensors, metadata: [("format", "grucc")]))], input: options.input)
    case .c?, .header?:
      guard let module = optimise(front, printAfterAll: options.printIRAfterAll) else { return 1 }
      if let refusal = Self.storageRefusal(module, options) { return fail(refusal) }
      let headerName = "\(module.name).h"
      let emitted = CEmitter.emit(module, headerName: headerName, activations: options.activations, weights: options.weights)
      return deliver(options.emit == .c ? emitted.source : emitted.header, to: options.output, input: options.input)
    case nil:
      guard let module = optimise(front, printAfterAll: options.printIRAfterAll) else { return 1 }
      let cPath = options.output ?? "\(module.name).c"
      guard cPath.hasSuffix(".c") else { return fail("output file '\(cPath)' must end in '.c' (the header goes beside it as '.h')") }
      if let refusal = Self.storageRefusal(module, options) { return fail(refusal) }
      let hPath = String(cPath.dropLast(2)) + ".h"
      let headerName = hPath.split(separator: "/").last.map(String.init) ?? hPath
      let emitted = CEmitter.emit(module, headerName: headerName, activations: options.activations, weights: options.weights)
      var files = [(cPath, Array(emitted.source.utf8)), (hPath, Array(emitted.header.utf8))]
      // With --weights external the blob goes beside the C: model.c, model.h, model.weights.
      if let blob = emitted.blob { files.append((String(cPath.dropLast(2)) + ".weights", blob)) }
      return write(files, input: options.input)
    }
  }

  /// Prints text, or writes it atomically to `path`.
  private mutating func deliver(_ text: String, to path: String?, input: String) -> Int32 {
    guard let path else {
      stdout += text
      return 0
    }
    return write([(path, Array(text.utf8))], input: input)
  }

  /// Writes every file or none: each goes to a temporary file first, and only when all are
  /// written are they renamed over their targets.
  mutating func write(_ files: [(path: String, bytes: [UInt8])], input: String?) -> Int32 {
    for f in files where input.map({ samePath($0, f.path) }) ?? false {
      return fail("output '\(f.path)' would overwrite the input file")
    }
    // A rename onto a directory fails; find that before anything is replaced, or the .c could
    // be new while the .h is not.
    for f in files {
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: f.path, isDirectory: &isDirectory), isDirectory.boolValue {
        return fail("cannot write '\(f.path)': it is a directory")
      }
    }
    var temporaries: [String] = []
    func cleanUp() { for t in temporaries { unlink(t) } }
    for f in files {
      let temporary = "\(f.path).grucc-\(getpid()).tmp"
      unlink(temporary)  // left by a run of the same process id that was killed
      if let reason = FileAccess.create(temporary, f.bytes) {
        unlink(temporary)
        cleanUp()
        return fail("cannot write '\(f.path)': \(reason)")
      }
      temporaries.append(temporary)
    }
    for (f, t) in zip(files, temporaries) where rename(t, f.path) != 0 {
      let reason = String(cString: strerror(errno))  // before cleanUp's unlink sets errno
      cleanUp()
      return fail("cannot write '\(f.path)': \(reason)")
    }
    return 0
  }

  /// Whether writing `output` would replace the file `input` reads, however the paths are spelled:
  /// `.`, `..` and symbolic links are resolved. The output's own last component is not resolved,
  /// because the rename replaces a link there rather than the file it points to.
  func samePath(_ input: String, _ output: String) -> Bool {
    let out = URL(fileURLWithPath: output).standardizedFileURL
    let outDirectory = out.deletingLastPathComponent().resolvingSymlinksInPath()
    return URL(fileURLWithPath: input).resolvingSymlinksInPath().path
      == outDirectory.appendingPathComponent(out.lastPathComponent).path
  }

  // MARK: - Import

  private func baseName(_ path: String) -> String {
    let file = path.split(separator: "/").last.map(String.init) ?? path
    return file.split(separator: ".").first.map(String.init) ?? file
  }

  private mutating func importOnnx(_ bytes: [UInt8], path: String, modelName: String, weightsFile: String) -> ImportedModel? {
    guard let model = readOnnxModel(bytes, path: path) else { return nil }
    switch OnnxImporter.importModel(model, modelName: modelName, weightsFile: weightsFile, sourceName: path) {
    case .success(let imported): return imported
    case .failure(let error):
      stderr += "\(path): error: \(error.description)\n"
      return nil
    }
  }

  /// `grucc import model.onnx -o model.gru`: the .gru text and its weights file beside it.
  private mutating func importModel(_ input: String, output: String?, name: String?) -> Int32 {
    let gruPath = output ?? (String(input.dropLast(input.hasSuffix(".onnx") ? 5 : 0)) + ".gru")
    guard gruPath.hasSuffix(".gru") else { return fail("output file '\(gruPath)' must end in '.gru'") }
    guard input.hasSuffix(".onnx") else { return fail("'import' reads ONNX models (.onnx); '\(input)' is not one") }
    let bytes: [UInt8]
    switch readFile(input) {
    case .success(let b): bytes = b
    case .failure(let reason): return fail("cannot read '\(input)': \(reason.description)")
    }
    let modelName = name ?? ProgramWriter.identifier(baseName(gruPath)) ?? "model"
    guard let imported = importOnnx(bytes, path: input, modelName: modelName, weightsFile: baseName(gruPath) + ".safetensors")
    else { return 1 }
    // The text must compile as written: check it before anything is written.
    let front = Compiler.frontEnd(SourceFile(path: gruPath, bytes: Array(imported.source.utf8)))
    guard front.module != nil else {
      report(front.diagnostics, source: front.source)
      return fail("internal: the imported model does not compile")
    }
    let weightsPath = directory(of: gruPath) + imported.weightsFile
    var files = [(gruPath, Array(imported.source.utf8))]
    if !imported.tensors.isEmpty {
      files.append((weightsPath, Safetensors.write(imported.tensors, metadata: [("format", "grucc"), ("source", baseName(input) + ".onnx")])))
    }
    let code = write(files, input: input)
    if code == 0 {
      stdout += "wrote \(gruPath)" + (imported.tensors.isEmpty ? "" : " and \(weightsPath)") + "\n"
      for note in imported.notes { stdout += "note: \(note)\n" }
    }
    return code
  }

  /// `grucc identify`: reads the weights, x and y, tries every GRU variant and layout that fits
  /// (Identify/), prints the table and the matching model; exit 1 when nothing matches.
  private mutating func identify(_ options: IdentifyOptions) -> Int32 {
    var tensors: [NamedTensor] = []
    switch readFile(options.weights) {
    case .failure(let reason): return fail("cannot read '\(options.weights)': \(reason.description)")
    case .success(let bytes):
      do throws(FormatError) {
        tensors = try WeightFiles.read(bytes, path: options.weights, budget: budget)
      } catch {
        return fail("\(options.weights): \(error.message)")
      }
    }
    var arrays: [IdentifyArray] = []
    for path in [options.input, options.expect] {
      switch readFile(path) {
      case .failure(let reason): return fail("cannot read '\(path)': \(reason.description)")
      case .success(let bytes):
        do throws(FormatError) {
          let members =
            path.hasSuffix(".npz") ? try Npz.read(bytes, budget: budget).map(\.array) : [try Npy.read(bytes, budget: budget)]
          guard members.count == 1 else { return fail("\(path): expected one array, found \(members.count)") }
          let a = members[0]
          let isDouble = !a.dtype.hasSuffix("f4") && !a.dtype.hasSuffix("f2")
          arrays.append(IdentifyArray(path: path, shape: a.shape, values: a.values, isDouble: isDouble))
        } catch {
          return fail("\(path): \(error.message)")
        }
      }
    }
    let request = IdentifyRequest(
      weightsPath: options.weights, tensors: tensors, x: arrays[0], y: arrays[1], hidden: options.hidden, format: options.format,
      convertedPath: options.output)
    let report: IdentifyReport
    do throws(IdentifyError) {
      report = try Identify.run(request)
    } catch {
      return fail("\(options.weights): \(error.message)")
    }
    stdout += report.text
    if let failure = report.failure { return fail(failure) }
    if let path = options.output, let converted = report.converted {
      return write([(path, Safetensors.write(converted, metadata: [("format", "grucc")]))], input: options.weights)
    }
    return 0
  }

  private mutating func check(_ path: String) -> Int32 {
    // The report needs the weights' shapes, not their values: init rules are checked, not drawn.
    guard let front = frontEnd(path), let module = optimise(front, materialise: false) else { return 1 }
    stdout += ModelReport.text(front: front, optimised: module)
    return 0
  }

  private mutating func runModel(_ options: RunOptions) -> Int32 {
    guard let front = frontEnd(options.model), let module = optimise(front) else { return 1 }
    var inputs: [String: ArrayValue] = [:]
    var files: [String: String] = [:]
    let layout = module.layout
    let arguments = module.graph.argumentNodes.compactMap { i -> (String, TensorType)? in
      if case .argument(let name, let type) = module.graph.nodes[i].op { return (name, type) }
      return nil
    }
    for (name, path) in options.inputs {
      let bytes: [UInt8]
      switch readFile(path) {
      case .success(let b): bytes = b
      case .failure(let reason): return fail("cannot read '\(path)': \(reason.description)")
      }
      do throws(FormatError) {
        for (member, array) in try DataFiles.read(bytes, path: path, budget: budget) {
          let target = name ?? member ?? arguments.first { $0.1.isSequence }!.0
          guard let argument = arguments.first(where: { $0.0 == target }) else {
            let names = arguments.map { "'\($0.0)'" }.joined(separator: ", ")
            return fail("the model has no input named '\(target)' (its inputs are \(names))")
          }
          guard inputs[target] == nil else { return fail("input '\(target)' is given twice") }
          files[target] = path
          inputs[target] = DataFiles.canonical(array, for: argument.1, layout: layout, text: DataFiles.isText(path))
        }
      } catch {
        return fail("\(path): \(error.message)")
      }
    }
    let outputs: [(name: String, value: ArrayValue)]
    do throws(InterpreterError) {
      outputs = try Interpreter.run(module, inputs: inputs, activations: options.activations, budget: budget)
    } catch {
      return fail((error.input.flatMap { files[$0] }.map { "\($0): " } ?? "") + error.message)
    }
    let presented = outputs.map { ($0.name, DataFiles.presented($0.value, layout: layout)) }
    guard let path = options.output else {
      stdout += DataFiles.csv(presented, precision: module.precision)
      return 0
    }
    do throws(DataFiles.EncodeError) {
      let bytes = try DataFiles.encode(presented, path: path, precision: module.precision)
      return write([(path, bytes)], input: options.model)
    } catch {
      return fail(error.message)
    }
  }
}
