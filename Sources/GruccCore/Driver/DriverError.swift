// Why a command stopped, as one type: every command throws it and the Driver prints it once, as
// `grucc: error: ...`. Problems inside a model's text are diagnostics instead, printed where they
// are found (`reported`).

enum DriverError: Error {
  /// The diagnostics that explain it are printed already.
  case reported
  case usage(UsageError)
  case cannotRead(String, reason: String)
  case cannotWrite(String, reason: String)
  /// A file that was read but is not what it should be: `PATH: reason`.
  case invalidFile(String, reason: String)
  /// An output path with the wrong extension: what the command writes there.
  case outputKind(String, expected: String)
  case emitWeightsNeedsOutput
  case importNeedsOnnx(String)
  /// An output that would replace a file the command reads (`what`: "the input file").
  case overwrites(String, what: String)
  case unknownInput(String, inputs: [String])
  case inputGivenTwice(String)
  /// `train` without -o for a model whose weights file cannot hold the result.
  case trainNeedsOutput
  case targetsDiffer(String, valid: [String], training: [String])
  case interpreter(InterpreterError, file: String?)
  case training(String)
  case encoding(String)
  /// `identify` found no variant that reproduces the expected output (exit status 2).
  case noMatch(String)
  case internalFailure(PipelineFailure)
  case importedModelDoesNotCompile
  /// `-MD`/`-MF` would write the dependency file over one of the outputs.
  case depfileOverwrites(String, output: String)
  /// A path the dependency file would name has a line break, which Make syntax cannot escape.
  case depfileLineBreak(String)
  /// `weights-storage f16|bf16` with `--weights external`, whose blob stores f32 only.
  case storageNeedsEmbeddedWeights(String)
  /// An ONNX file grucc cannot read or import, printed as `PATH: error: message` (its own place).
  case onnx(String, message: String)

  var description: String {
    switch self {
    case .reported: return ""
    case .usage(let e): return e.message
    case .cannotRead(let path, let reason): return "cannot read '\(path)': \(reason)"
    case .cannotWrite(let path, let reason): return "cannot write '\(path)': \(reason)"
    case .invalidFile(let path, let reason): return "\(path): \(reason)"
    case .outputKind(let path, let expected): return "output file '\(path)' must end in \(expected)"
    case .emitWeightsNeedsOutput: return "--emit weights writes a safetensors file: give it with -o FILE.safetensors"
    case .importNeedsOnnx(let path): return "'import' reads ONNX models (.onnx); '\(path)' is not one"
    case .overwrites(let path, let what): return "output '\(path)' would overwrite \(what)"
    case .unknownInput(let name, let inputs):
      let names = inputs.map { "'\($0)'" }.joined(separator: ", ")
      return "the model has no input named '\(name)' (its inputs are \(names))" + didYouMean(name, among: inputs)
    case .inputGivenTwice(let name): return "input '\(name)' is given twice"
    case .trainNeedsOutput:
      return "'train' needs -o FILE.safetensors: the model names no safetensors file in grucc's names "
        + "(a 'weights \"FILE.safetensors\"' clause without format or map) to write the trained weights to"
    case .targetsDiffer(let path, let valid, let training):
      return "\(path): the targets are \(valid), the training set's \(training)"
    case .interpreter(let error, let file): return (file.map { "\($0): " } ?? "") + error.message
    case .training(let message), .encoding(let message), .noMatch(let message): return message
    case .internalFailure(let failure):
      guard case .verifier(let pass, let errors, let dump) = failure else { return "internal: a pass failed" }
      return "internal: IR verification failed after pass '\(pass)':\n" + errors.map { "  \($0)\n" }.joined() + dump
    case .importedModelDoesNotCompile: return "internal: the imported model does not compile"
    case .depfileOverwrites(let path, let output):
      return "the dependency file '\(path)' would overwrite the output '\(output)'"
    case .storageNeedsEmbeddedWeights(let storage):
      return "'weights-storage \(storage)' needs the weights compiled in: '--weights external' stores f32 only"
    case .depfileLineBreak(let path):
      return "cannot write the dependency file '\(path)': a path in it contains a line break"
    case .onnx(_, let message): return message
    }
  }

  /// 2 for "ran, found nothing" (identify), 1 for every error.
  var exitCode: Int32 {
    if case .noMatch = self { return 2 }
    return 1
  }
}
