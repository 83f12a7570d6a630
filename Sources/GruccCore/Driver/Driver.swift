// The driver: runs a command end to end. Each command is a file of its own (CompileCommand,
// RunCommand, CheckCommand, IdentifyCommand, ImportCommand, TrainCommand); this file holds what
// they share: reading files (through FileAccess only), the front end and the pass pipeline with
// the model's weights, and printing diagnostics. Outputs are written by OutputFiles, atomically.

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
  /// Seconds on a monotonic clock, for steps/s and the time left; nil: neither is shown, so the
  /// lines are the same run to run.
  public var clock: (@Sendable () -> Double)?

  public init(
    line: @escaping @Sendable (String) -> Void, status: (@Sendable (String) -> Void)?, clock: (@Sendable () -> Double)? = nil
  ) {
    self.line = line
    self.status = status
    self.clock = clock
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
  var importedTensors: [NamedTensor]?
  /// How much memory files, weights and interpreter runs may take (`--max-memory`).
  var budget = MemoryBudget.standard
  /// Every file this run read, for `-MD`/`-MF` (Depfile.swift).
  let fileLog = FileAccess.Log()
  var diagnosticsFormat = DiagnosticsFormat.text
  /// Errors and warnings printed so far, for clang's closing "2 errors generated." line.
  private var errorCount = 0
  private var warningCount = 0

  private init(colors: Bool, progress: ProgressOutput?, gradient: any LossGradient) {
    self.colors = colors
    self.progress = progress
    self.gradient = gradient
  }

  /// Runs one grucc command line (without the program name).

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
    do throws(DriverError) {
      try perform(arguments)
      printSummary()
      return 0
    } catch {
      printSummary()
      report(error)
      return error.exitCode
    }
  }

  private mutating func perform(_ arguments: [String]) throws(DriverError) {
    let command: Command
    do throws(UsageError) {
      let (format, afterFormat) = try Options.diagnosticsFormat(arguments)
      diagnosticsFormat = format
      let (budget, rest) = try Options.memoryBudget(afterFormat)
      self.budget = budget
      command = try Options.parse(rest)
    } catch {
      throw .usage(error)
    }
    switch command {
    case .help(let topic): stdout += topic.map(HelpText.text(for:)) ?? HelpText.text
    case .version: stdout += "grucc \(Compiler.version)\n"
    case .compile(let options): try compile(options)
    case .run(let options): try runModel(options)
    case .check(let path, let json): try check(path, json: json)
    case .identify(let options): try identify(options)
    case .importModel(let input, let output, let name): try importModel(input, output: output, name: name)
    case .train(let options): try train(options, gradient: gradient)
    }
  }

  /// Prints why the command stopped (unless its diagnostics said so already).
  private mutating func report(_ error: DriverError) {
    if case .reported = error { return }
    let message = error.description
    if diagnosticsFormat == .json {
      var file: String?
      switch error {
      case .onnx(let path, _), .cannotRead(let path, _), .cannotWrite(let path, _), .invalidFile(let path, _): file = path
      default: break
      }
      stderr += DiagnosticJSON.driverError(message.hasSuffix("\n") ? String(message.dropLast()) : message, file: file)
      return
    }
    if case .onnx(let path, let message) = error {
      stderr += "\(path): error: \(message)\n"
      return
    }
    stderr += "grucc: error: \(message)" + (message.hasSuffix("\n") ? "" : "\n")
    if case .usage(let usage) = error {
      stderr += "run 'grucc " + (usage.topic.map { "help \($0.rawValue)" } ?? "--help") + "' for usage\n"
    }
  }

  /// clang's closing count, after diagnostics in text: "1 warning and 2 errors generated."
  private mutating func printSummary() {
    guard diagnosticsFormat == .text, errorCount + warningCount > 0 else { return }
    func count(_ n: Int, _ noun: String) -> String? { n == 0 ? nil : "\(n) \(noun)\(n == 1 ? "" : "s")" }
    let parts = [count(warningCount, "warning"), count(errorCount, "error")].compactMap { $0 }
    stderr += parts.joined(separator: " and ") + " generated.\n"
  }

  // MARK: - Reading

  /// The bytes of the file at `path`.
  func read(_ path: String) throws(DriverError) -> [UInt8] {
    switch readFile(path) {
    case .success(let bytes): return bytes
    case .failure(let reason): throw .cannotRead(path, reason: reason.description)
    }
  }

  /// The bytes of the file at `path`, or why not. Every file a command reads comes through here
  /// and FileAccess (ONNX external data aside, which OnnxFiles opens inside the model's folder).
  func readFile(_ path: String) -> Result<[UInt8], ReadError> {
    FileAccess.read(path, budget: budget, log: fileLog)
  }

  struct ReadError: Error, CustomStringConvertible {
    var description: String
  }

  /// Prints diagnostics about `source` in the chosen format, sorted by position.
  mutating func report(_ diagnostics: DiagnosticEngine, source: SourceFile?) {
    let sorted = Compiler.sorted(diagnostics.diagnostics)
    errorCount += sorted.filter { $0.severity == .error }.count
    warningCount += sorted.filter { $0.severity == .warning }.count
    switch diagnosticsFormat {
    case .text: stderr += DiagnosticRenderer(source: source, colors: colors).render(sorted)
    case .json: stderr += DiagnosticJSON.render(sorted, fileName: source?.path ?? "grucc")
    }
  }

  // MARK: - Front end and pipeline

  /// Reads and checks a model file; throws (with the errors printed) if it has errors. An ONNX
  /// file is imported first and its .gru text checked as if the user had written it.
  mutating func frontEnd(_ path: String, modelName: String? = nil) throws(DriverError) -> FrontEnd {
    var bytes = try read(path)
    var sourcePath = path
    if path.hasSuffix(".onnx") {
      let name = modelName ?? ProgramWriter.identifier(baseName(path)) ?? "model"
      let imported = try importOnnx(bytes, path: path, modelName: name, weightsFile: baseName(path) + ".safetensors")
      bytes = Array(imported.source.utf8)
      importedTensors = imported.tensors
      sourcePath = path + ".gru"
    }
    let result = Compiler.frontEnd(SourceFile(path: sourcePath, bytes: bytes))
    report(result.diagnostics, source: result.source)
    guard result.module != nil else { throw .reported }
    return result
  }

  /// What became of the model's weights file: its tensors, or a diagnostic at its `weights` line.
  enum WeightsFileState {
    case noFile
    case tensors([NamedTensor])
    /// The file does not exist (ENOENT): `check` still reports the tensors it must hold.
    case missing(Diagnostic)
    case invalid(Diagnostic)
  }

  /// Reads the model's weights file, if it names one, relative to the model file's directory.
  mutating func weightsFile(for model: Model, modelPath: String) -> WeightsFileState {
    guard let spec = model.weights else { return .noFile }
    if let importedTensors { return .tensors(importedTensors) }
    let path = spec.path.hasPrefix("/") ? spec.path : directory(of: modelPath) + spec.path
    switch readFile(path) {
    case .failure(let reason):
      let d = Diagnostic(.error, .cannotReadFile(spec.path, reason: reason.description), at: spec.range)
      return reason.description == FileAccess.reason(ENOENT) ? .missing(d) : .invalid(d)
    case .success(let bytes):
      do throws(FormatError) {
        return .tensors(try WeightFiles.read(bytes, path: spec.path, budget: budget))
      } catch {
        return .invalid(Diagnostic(.error, .weightFileInvalid(spec.path, reason: error.message), at: spec.range))
      }
    }
  }

  /// Runs the pass pipeline (or its prefix up to `through`) with the model's weights, printing
  /// IR dumps if asked. `initRulesIfMissing`: a weights file that does not exist is a warning,
  /// and the shapes come from the init rules (for `check`).
  mutating func optimise(
    _ front: FrontEnd, through: String? = nil, printAfterAll: Bool = false, materialise: Bool = true,
    initRulesIfMissing: Bool = false, foldBatchNorm: Bool = true
  ) throws(DriverError) -> Module {
    guard let model = front.model, let module = front.module else { throw .reported }
    var tensors: [NamedTensor]?
    switch weightsFile(for: model, modelPath: front.source.path) {
    case .noFile: break
    case .tensors(let t): tensors = t
    case .missing(var d) where initRulesIfMissing:
      d.severity = .warning
      d.notes.append(.note(.weightsFileMissingReport))
      var diagnostics = DiagnosticEngine()
      diagnostics.append(d)
      report(diagnostics, source: front.source)
    case .missing(let d), .invalid(let d):
      var diagnostics = DiagnosticEngine()
      diagnostics.append(d)
      report(diagnostics, source: front.source)
      throw .reported
    }
    let optimised = Compiler.optimise(
      module, weights: Compiler.weightSource(for: model, file: tensors), budget: budget, through: through,
      printAfterAll: printAfterAll, materialise: materialise, foldBatchNorm: foldBatchNorm)
    report(optimised.diagnostics, source: front.source)
    stdout += optimised.dumps
    switch optimised.result {
    case .success(let m): return m
    case .failure(.diagnostics): throw .reported
    case .failure(let failure): throw .internalFailure(failure)
    }
  }

  // MARK: - Paths

  func directory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "" }
    return String(path[...slash])
  }

  /// The file name without folders and extensions.
  func baseName(_ path: String) -> String {
    let file = path.split(separator: "/").last.map(String.init) ?? path
    return file.split(separator: ".").first.map(String.init) ?? file
  }
}
