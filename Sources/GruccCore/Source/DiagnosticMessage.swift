// Every message grucc can print about a user's input, in one catalogue, alphabetically.
// Tests match the case; golden files match the text. Messages are lower case without a final period.

/// The catalogue of diagnostic messages.
public enum DiagnosticMessage: Sendable, Equatable {
  case badArguments(function: String, usage: String)
  case badLayerGeometry(layer: String, String)
  case biasChoices
  case cannotReadFile(String, reason: String)
  case didYouMean(String)
  case distributionArgument(String)
  case distributionArity(String, Int)
  case duplicateName(String)
  case duplicateOption(String)
  case duplicateStatement(String)
  case emptyFile
  case emptyRange(String)
  case emptyWeightsPath
  case expected(String, found: String)
  case expectedIntegerOption(String, String)
  case expectedNameOption(String)
  case expectedNumberOption(String, String)
  case expectedOneOf([String])
  case expectedRangeOption(String, String)
  case expectedSequence(function: String, found: String)
  case hiddenSizeMismatch(layer: String, hidden: Int, file: String, fileHidden: Int)
  case hiddenSizeOfFile(tensor: String, shape: [Int], hidden: Int)
  case integerTooLarge(String)
  case internalError(String)
  case invalidName(String, String)
  case invalidOptionValue(option: String, value: String)
  case invalidUTF8
  case lengthsUsedAsValue(String)
  case mapBlockOutOfBounds(String, tensor: String, shape: [Int], length: Int)
  case mapBlockShape(target: String, needs: [Int], tensor: String, shape: [Int], block: [Int], transposed: Bool)
  case mapOptionMisplaced(option: String, reason: String)
  case mapTargetUnknown(String)
  case mapWithoutWeights
  case malformedNumber(String)
  /// The memory budget's refusal, already worded (MemoryBudget.refusal).
  case memoryLimit(String)
  case mergeWithoutBidirectional
  case optionNeedsBidirectional(String)
  case optionNeedsLengths(String)
  case optionNeedsReversePass(String)
  case optionsConflict(String, String, reason: String)
  case missingEpsilon(statement: String, layer: String)
  case missingInput
  case missingLayerOption(layer: String, statement: String, option: String)
  case missingModel
  case missingOptionValue(String)
  case missingOutput
  case missingVariantOption(layer: String, option: String)
  case missingWeight(String, file: String)
  case negativeSeed
  case nestingTooDeep
  case nonFiniteWeight(String, index: Int, file: String)
  case nulByte
  case numberNotAValue
  case numberOutOfRange(String)
  case notTrainable(String, statement: String)
  case onlyOneInput
  case storageNeedsF32(String)
  case optionsOf(String, [String])
  case orthogonalNeedsMatrix(String)
  case patternMatchesNothing(String)
  case previousDeclaration
  case resetChoices
  case sequenceLayerChain(String, reason: String)
  case sequenceLayerWithLengths(String, statement: String, reason: String)
  case sequenceOutputSteps(String, String)
  case sizeOutOfRange(String, Int, Int)
  case stateOfNonLayer(String)
  case twoDenseInOneBinding(String)
  case unexpectedCharacter(String)
  case unknownDistribution(String)
  case unknownFunction(String)
  case unknownName(String)
  case unknownOption(String, declaration: String)
  case unknownStatement(String)
  case unsharedNeedsFixedSteps(String)
  case unterminatedString
  case unusedDefinition(String)
  case unusedWeight(String, file: String)
  case updateChoices
  case weightFileInvalid(String, reason: String)
  case weightLayout(String, format: String, reason: String)
  case weightMapHint(String)
  case weightOutOfRange(String, value: Double, file: String, precision: String)
  case weightShapeMismatch(String, file: String, found: [Int], expected: [Int])
  case weightsFileMissingReport
  case weightUsedFor(String)
  case weightVariant(String)

  public var text: String {
    switch self {
    case .badArguments(let f, let usage): return "wrong arguments to '\(f)'; expected \(usage)"
    case .badLayerGeometry(let layer, let problem): return "layer '\(layer)': \(problem)"
    case .biasChoices:
      return "add 'bias separate' (input and recurrent biases: PyTorch, ONNX, Keras reset_after=True), "
        + "'bias single' (one per gate: TF1, Keras reset_after=False) or 'bias none'"
    case .cannotReadFile(let path, let reason): return "cannot read '\(path)': \(reason)"
    case .didYouMean(let s): return "did you mean '\(s)'?"
    case .distributionArgument(let d): return "invalid arguments to distribution '\(d)'"
    case .distributionArity(let d, let n): return "distribution '\(d)' does not take \(n) argument\(n == 1 ? "" : "s")"
    case .duplicateName(let n): return "'\(n)' is already defined"
    case .duplicateOption(let k): return "option '\(k)' is given twice"
    case .duplicateStatement(let s): return "more than one '\(s)' statement"
    case .emptyFile: return "the file is empty; a model needs 'model', 'input', a layer and an 'output'"
    case .emptyWeightsPath: return "the weights file name is empty"
    case .emptyRange(let r): return "'\(r)' selects nothing: the end must be greater than the start"
    case .expectedRangeOption(let k, let v):
      return "option '\(k)' expects a range of indices from 0 such as '0:16' (end excluded, either end optional), found '\(v)'"
    case .expected(let what, let found): return "expected \(what), found \(found)"
    case .expectedIntegerOption(let k, let v): return "option '\(k)' expects a whole number, found '\(v)'"
    case .expectedNameOption(let k): return "option '\(k)' expects a name"
    case .expectedNumberOption(let k, let v): return "option '\(k)' expects a positive number, found '\(v)'"
    case .expectedOneOf(let choices): return "expected " + quotedList(choices)
    case .expectedSequence(let f, let found): return "'\(f)' needs a sequence, but its argument is \(found)"
    case .hiddenSizeMismatch(let layer, let hidden, let file, let fileHidden):
      return "gru layer '\(layer)' has hidden \(hidden), but its weights in '\(file)' are for \(fileHidden) units"
    case .hiddenSizeOfFile(let tensor, let shape, let hidden):
      return "the file's '\(tensor)' is \(shapeText(shape)): hidden \(hidden)?"
    case .integerTooLarge(let s): return "integer '\(s)' is too large"
    case .internalError(let s): return "internal: \(s)"
    case .invalidName(let what, let s):
      return "invalid \(what) '\(s)': use letters, digits and '_', at most 64 characters"
    case .invalidOptionValue(let k, let v): return "invalid value '\(v)' for option '\(k)'"
    case .invalidUTF8: return "invalid UTF-8 byte"
    case .lengthsUsedAsValue(let n): return "'\(n)' is the lengths input and cannot be used as a value"
    case .malformedNumber(let s): return "malformed number '\(s)'"
    case .mapBlockOutOfBounds(let r, let tensor, let shape, let length):
      let axis = shape.count == 1 ? "elements" : r.hasPrefix("rows") ? "rows" : "columns"
      return "'\(r)' is outside tensor '\(tensor)' \(shapeText(shape)), which has \(length) \(axis)"
    case .mapBlockShape(let target, let needs, let tensor, let shape, let block, let transposed):
      return "'\(target)' is \(shapeText(needs)), but the block this map takes from '\(tensor)' \(shapeText(shape)) is "
        + "\(shapeText(block))\(transposed ? " once transposed" : "")"
    case .mapOptionMisplaced(let option, let reason): return "option '\(option)' \(reason)"
    case .mapTargetUnknown(let t):
      return "'\(t)' is not a gru layer, a binding with a 'dense', or a tensor name of this model"
    case .mapWithoutWeights: return "'map' needs a 'weights' statement to say which file it maps"
    case .mergeWithoutBidirectional: return "'merge' applies only to a layer with 'direction bidirectional'"
    case .optionNeedsBidirectional(let k): return "'\(k)' applies only to a layer with 'direction bidirectional'"
    case .optionNeedsLengths(let k):
      return "'\(k)' has no effect: the input has no 'lengths', so every step of every sequence is valid"
    case .optionNeedsReversePass(let k):
      return "'\(k)' applies only to a layer with a reverse pass ('direction reverse' or 'bidirectional')"
    case .optionsConflict(let a, let b, let reason): return "'\(a)' cannot be combined with '\(b)': \(reason)"
    case .missingEpsilon(let statement, let layer):
      return "\(statement) layer '\(layer)' does not say its epsilon (option 'epsilon'); the frameworks' defaults differ "
        + "(PyTorch 1e-5, Keras 1e-3), so grucc will not guess"
    case .missingInput: return "the model has no 'input' statement"
    case .missingModel: return "the file has no 'model' statement"
    case .missingOptionValue(let k): return "option '\(k)' needs a value"
    case .missingLayerOption(let layer, let statement, let option):
      return "\(statement) layer '\(layer)' does not say its '\(option)'; grucc will not guess it (the frameworks' defaults differ)"
    case .missingOutput: return "the model has no 'output' statement"
    case .missingVariantOption(let layer, let option):
      let what: String
      switch option {
      case "reset": what = "where the reset gate acts"
      case "update": what = "what the update gate keeps"
      default: what = "which biases it has"
      }
      return "gru layer '\(layer)' does not say \(what) (option '\(option)'); grucc will not guess the variant"
    case .missingWeight(let n, let file): return "weights file '\(file)' has no tensor '\(n)'"
    case .negativeSeed: return "the seed must not be negative"
    case .memoryLimit(let text): return text
    case .nestingTooDeep: return "expression is nested too deeply"
    case .nonFiniteWeight(let n, let i, let file):
      return "tensor '\(n)' in '\(file)' has a non-finite value at element \(i)"
    case .nulByte: return "NUL byte in source"
    case .numberNotAValue: return "a number cannot be used as a value here"
    case .notTrainable(let name, let statement):
      return "\(statement) '\(name)' cannot be trained yet: 'grucc train' has no gradient for it (compile and run it with weights from a file or 'init')"
    case .numberOutOfRange(let s): return "number '\(s)' is out of range"
    case .onlyOneInput: return "a model has exactly one 'input' statement"
    case .storageNeedsF32(let e): return "'weights-storage \(e)' is for f32 models; an f64 model stores its weights in f64"
    case .optionsOf(let decl, let keys): return "'\(decl)' accepts " + quotedList(keys)
    case .orthogonalNeedsMatrix(let n): return "'orthogonal' needs a matrix, but '\(n)' is a vector"
    case .patternMatchesNothing(let p): return "init pattern '\(p)' matches no parameter of the model"
    case .previousDeclaration: return "previous declaration is here"
    case .resetChoices:
      return "add 'reset before' (Cho et al., TF1 GRUCell, Keras reset_after=False), "
        + "'reset after' (PyTorch, cuDNN, Keras reset_after=True) or 'reset none'"
    case .sequenceLayerChain(let name, let reason):
      return "'\(name)' \(reason): the conv1d, pad and pool layers that read the input (and any batchnorm or layernorm among them) form one chain, each read by the next only"
    case .sequenceLayerWithLengths(let name, let statement, let reason):
      return "\(statement) '\(name)' cannot be used in a model whose input has 'lengths': \(reason)"
    case .sequenceOutputSteps(let first, let second):
      return "sequence outputs '\(first)' and '\(second)' have different numbers of steps (a stride, a pad or a valid window between them): the sequence outputs of a model share one number of steps"
    case .sizeOutOfRange(let what, let v, let max): return "\(what) \(v) is out of range (1 to \(max))"
    case .stateOfNonLayer(let n): return "'state' needs a gru layer, but '\(n)' is not one"
    case .twoDenseInOneBinding(let b):
      return "'\(b)' holds more than one 'dense'; name the inner one with 'let' so its weights have a name"
    case .unexpectedCharacter(let c): return "unexpected character '\(c)'"
    case .unknownDistribution(let d): return "unknown distribution '\(d)'"
    case .unknownFunction(let f): return "unknown function '\(f)'"
    case .unknownName(let n): return "unknown name '\(n)'"
    case .unknownOption(let k, let decl): return "unknown option '\(k)' for '\(decl)'"
    case .unknownStatement(let s): return "unknown statement '\(s)'"
    case .unsharedNeedsFixedSteps(let b):
      return "'\(b)' uses 'dense(..., unshared)', which needs a fixed sequence length: add 'steps N' to the input"
    case .unterminatedString: return "unterminated string"
    case .unusedDefinition(let n): return "'\(n)' is never used"
    case .unusedWeight(let n, let file): return "tensor '\(n)' in '\(file)' is not used by the model"
    case .updateChoices:
      return "add 'update keeps-state' (h = z*h + (1-z)*n: PyTorch, Keras, ONNX, TF1) "
        + "or 'update takes-candidate' (h = (1-z)*h + z*n: Chung et al. 2014)"
    case .weightFileInvalid(let file, let reason): return "invalid weights file '\(file)': \(reason)"
    case .weightOutOfRange(let n, let value, let file, let precision):
      return "weight '\(n)' from '\(file)' has the value \(value), beyond the range of \(precision), the model's precision"
    case .weightLayout(let file, let format, let reason): return "weights file '\(file)' (format \(format)): \(reason)"
    case .weightMapHint(let s): return s
    case .weightsFileMissingReport:
      return "the report lists the tensors the file must hold, with their shapes"
    case .weightUsedFor(let s): return "grucc reads \(s) from it"
    case .weightVariant(let s): return "\(s); the numbers will differ from the framework's"
    case .weightShapeMismatch(let n, let file, let found, let expected):
      return "tensor '\(n)' in '\(file)' has shape \(shapeText(found)), expected \(shapeText(expected))"
    }
  }
}

/// `'a', 'b' or 'c'`
func quotedList(_ items: [String]) -> String {
  let q = items.map { "'\($0)'" }
  if q.count <= 1 { return q.first ?? "" }
  return q.dropLast().joined(separator: ", ") + " or " + q.last!
}
