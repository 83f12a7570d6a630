// Command-line parsing: argv to a `Command`. No I/O here; errors are values the Driver prints.

/// What `--emit` asks for.
public enum EmitKind: Sendable, Equatable {
  case tokens, ast, c, header
  /// The model's weights as bound (from its file or its init rules), as a safetensors file.
  case weights
  /// The IR after the whole pipeline (`ir`), or after the named pass (`ir-after=NAME`;
  /// `ir-after=irgen` is the graph before any pass).
  case ir(after: String?)
  /// The gradient graph (Autodiff) of the model lowered through `lower-dense`.
  case gradientIR
}

public struct CompileOptions: Sendable, Equatable {
  public var input: String
  public var output: String?
  public var emit: EmitKind?
  public var printIRAfterAll = false
  /// How the generated C computes sigmoid, tanh and exp.
  public var activations: ActivationMode = .fast
  /// Whether the weights are compiled in or written to a blob the C reads at run time.
  public var weights: WeightStorage = .embedded
  /// `--name PREFIX`: the name (and C prefix) of a model imported from ONNX.
  public var name: String?
}

public struct RunOptions: Sendable, Equatable {
  public var model: String
  /// `--input FILE` (name nil: the model's sequence input) or `--input NAME=FILE`.
  public var inputs: [(name: String?, path: String)]
  public var output: String?
  /// How the interpreter computes sigmoid, tanh and exp: as the C of the same mode does.
  public var activations: ActivationMode = .fast

  public static func == (a: RunOptions, b: RunOptions) -> Bool {
    a.model == b.model && a.output == b.output && a.activations == b.activations && a.inputs.map(\.path) == b.inputs.map(\.path)
      && a.inputs.map(\.name) == b.inputs.map(\.name)
  }
}

/// `grucc identify WEIGHTS --input X --expect Y [--hidden N] [--format F] [-o FILE]`.
public struct IdentifyOptions: Sendable, Equatable {
  public var weights: String
  public var input: String
  public var expect: String
  public var hidden: Int?
  public var format: WeightsFormat?
  /// Write the matched layer's tensors here, in grucc's names.
  public var output: String?
}

public enum Command: Sendable, Equatable {
  case compile(CompileOptions)
  case run(RunOptions)
  case check(String)
  case identify(IdentifyOptions)
  /// `grucc import MODEL.onnx [-o MODEL.gru] [--name PREFIX]`
  case importModel(String, output: String?, name: String?)
  case train(TrainOptions)
  case help
  case version
}

/// A command line that makes no sense.
public struct UsageError: Error, Sendable, Equatable {
  public var message: String
}

public enum Options {
  /// Takes `--max-memory SIZE` (or `--max-memory=SIZE`), which every command accepts anywhere on
  /// its command line, out of `arguments`; the budget and the other arguments.
  public static func memoryBudget(_ arguments: [String]) throws(UsageError) -> (MemoryBudget, [String]) {
    var budget = MemoryBudget.standard
    var rest: [String] = []
    var args = arguments[...]
    while let a = args.popFirst() {
      let text: String
      if a == MemoryBudget.option {
        text = try value(after: a, &args)
      } else if a.hasPrefix(MemoryBudget.option + "=") {
        text = String(a.dropFirst(MemoryBudget.option.count + 1))
      } else {
        rest.append(a)
        continue
      }
      guard let limit = MemoryBudget.parse(text) else {
        throw UsageError(
          message: "'\(MemoryBudget.option)' takes a size in bytes, or with K, M, G or T (binary: 1K = 1024), not '\(text)'")
      }
      budget = MemoryBudget(limit: limit)
    }
    return (budget, rest)
  }

  public static func parse(_ arguments: [String]) throws(UsageError) -> Command {
    var args = arguments[...]
    guard let first = args.first else { throw UsageError(message: "no input file") }
    if first == "--help" || first == "-h" || first == "help" { return .help }
    if first == "--version" { return .version }
    switch first {
    case "run":
      args = args.dropFirst()
      return .run(try parseRun(&args))
    case "check":
      args = args.dropFirst()
      var model: String?
      while let a = args.popFirst() {
        if a.hasPrefix("-") { throw UsageError(message: "unknown option '\(a)' for 'check'") }
        if model != nil { throw UsageError(message: "'check' takes one model file") }
        model = a
      }
      guard let model else { throw UsageError(message: "'check' needs a model file") }
      return .check(model)
    case "identify":
      args = args.dropFirst()
      return .identify(try parseIdentify(&args))
    case "train":
      args = args.dropFirst()
      return .train(try parseTrain(&args))
    case "import":
      args = args.dropFirst()
      var model: String?
      var output: String?
      var name: String?
      while let a = args.popFirst() {
        if a == "-o" {
          output = try value(after: "-o", &args)
        } else if a == "--name" {
          name = try modelName(try value(after: "--name", &args))
        } else if a.hasPrefix("-") {
          throw UsageError(message: "unknown option '\(a)' for 'import'")
        } else if model != nil {
          throw UsageError(message: "'import' takes one model file")
        } else {
          model = a
        }
      }
      guard let model else { throw UsageError(message: "'import' needs an ONNX model file") }
      return .importModel(model, output: output, name: name)
    default:
      return .compile(try parseCompile(&args))
    }
  }

  /// A `--name` value: it prefixes every C symbol, so it must be a C identifier.
  static func modelName(_ text: String) throws(UsageError) -> String {
    guard ProgramWriter.identifier(text) == text else {
      throw UsageError(
        message: "'--name' takes a C identifier (letters, digits and '_', not starting with a digit), not '\(text)'")
    }
    return text
  }

  static func value(after option: String, _ args: inout ArraySlice<String>) throws(UsageError) -> String {
    guard let v = args.popFirst() else { throw UsageError(message: "option '\(option)' needs a value") }
    return v
  }

  private static func parseCompile(_ args: inout ArraySlice<String>) throws(UsageError) -> CompileOptions {
    var input: String?
    var options = CompileOptions(input: "")
    while let a = args.popFirst() {
      switch a {
      case "-o": options.output = try value(after: "-o", &args)
      case "--print-ir-after-all": options.printIRAfterAll = true
      case "--activations":
        let mode = try value(after: "--activations", &args)
        options.activations = try activationMode(mode)
      case "--weights":
        let storage = try value(after: "--weights", &args)
        guard let s = WeightStorage(rawValue: storage) else {
          throw UsageError(message: "'--weights' takes 'embedded' or 'external', not '\(storage)'")
        }
        options.weights = s
      case "--name": options.name = try modelName(try value(after: "--name", &args))
      case "--emit": options.emit = try emitKind(try value(after: "--emit", &args))
      case _ where a.hasPrefix("--emit="): options.emit = try emitKind(String(a.dropFirst("--emit=".count)))
      case "--help", "-h": throw UsageError(message: "'--help' must come first")
      case _ where a.hasPrefix("-") && a != "-": throw UsageError(message: "unknown option '\(a)'")
      default:
        if input != nil { throw UsageError(message: "more than one input file ('\(input!)' and '\(a)')") }
        input = a
      }
    }
    guard let input else { throw UsageError(message: "no input file") }
    options.input = input
    return options
  }

  private static func emitKind(_ text: String) throws(UsageError) -> EmitKind {
    switch text {
    case "tokens": return .tokens
    case "ast": return .ast
    case "ir": return .ir(after: nil)
    case "c": return .c
    case "h", "header": return .header
    case "weights": return .weights
    case "gradient-ir": return .gradientIR
    default:
      if text.hasPrefix("ir-after=") {
        let pass = String(text.dropFirst("ir-after=".count))
        guard pass == "irgen" || PassPipeline.standardNames.contains(pass) else {
          throw UsageError(
            message: "unknown pass '\(pass)'; passes are irgen, " + PassPipeline.standardNames.joined(separator: ", "))
        }
        return .ir(after: pass)
      }
      throw UsageError(message: "unknown --emit kind '\(text)'; expected tokens, ast, ir, ir-after=PASS, c, h or weights")
    }
  }

  private static func activationMode(_ name: String) throws(UsageError) -> ActivationMode {
    guard let mode = ActivationMode(name: name) else {
      throw UsageError(message: "'--activations' takes 'fast' or 'libm', not '\(name)'")
    }
    return mode
  }

  private static func parseRun(_ args: inout ArraySlice<String>) throws(UsageError) -> RunOptions {
    var model: String?
    var options = RunOptions(model: "", inputs: [], output: nil)
    while let a = args.popFirst() {
      switch a {
      case "-o": options.output = try value(after: "-o", &args)
      case "--input", "-i":
        let v = try value(after: a, &args)
        // NAME=FILE names an input; a plain FILE is the sequence input.
        if let eq = v.firstIndex(of: "="), !v[..<eq].contains("/") {
          options.inputs.append((String(v[..<eq]), String(v[v.index(after: eq)...])))
        } else {
          options.inputs.append((nil, v))
        }
      case "--activations": options.activations = try activationMode(try value(after: a, &args))
      case _ where a.hasPrefix("-"): throw UsageError(message: "unknown option '\(a)' for 'run'")
      default:
        if model != nil { throw UsageError(message: "'run' takes one model file") }
        model = a
      }
    }
    guard let model else { throw UsageError(message: "'run' needs a model file") }
    guard !options.inputs.isEmpty else { throw UsageError(message: "'run' needs --input FILE (.npy or .csv)") }
    options.model = model
    return options
  }

  private static func parseIdentify(_ args: inout ArraySlice<String>) throws(UsageError) -> IdentifyOptions {
    var weights: String?
    var options = IdentifyOptions(weights: "", input: "", expect: "")
    while let a = args.popFirst() {
      switch a {
      case "--input", "-i": options.input = try value(after: a, &args)
      case "--expect": options.expect = try value(after: a, &args)
      case "-o": options.output = try value(after: a, &args)
      case "--hidden":
        let v = try value(after: a, &args)
        guard let n = Int(v), n > 0 else { throw UsageError(message: "'--hidden' needs a positive whole number, not '\(v)'") }
        options.hidden = n
      case "--format":
        let v = try value(after: a, &args)
        guard let f = WeightsFormat(rawValue: v) else {
          throw UsageError(message: "unknown format '\(v)'; expected " + WeightsFormat.allCases.map(\.rawValue).joined(separator: ", "))
        }
        options.format = f
      case _ where a.hasPrefix("-"): throw UsageError(message: "unknown option '\(a)' for 'identify'")
      default:
        if weights != nil { throw UsageError(message: "'identify' takes one weights file") }
        weights = a
      }
    }
    guard let weights else { throw UsageError(message: "'identify' needs a weights file (.safetensors or .npz)") }
    guard !options.input.isEmpty else { throw UsageError(message: "'identify' needs --input X.npy, the input sequences") }
    guard !options.expect.isEmpty else {
      throw UsageError(message: "'identify' needs --expect Y.npy, the expected outputs or final states")
    }
    if let o = options.output, !o.hasSuffix(".safetensors") {
      throw UsageError(message: "'identify -o' writes a safetensors file: give it as FILE.safetensors")
    }
    options.weights = weights
    return options
  }
}
