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
  /// One whole training step as a standalone C API (CTrainStep): model_train.c and .h.
  case train
}

/// What `--emit train` fixes at emit time: the loss (required, as for `grucc train`), the
/// optimiser and its hyperparameters, and whether to start from the init rules.
public struct EmitTrainOptions: Sendable, Equatable {
  public var loss: Loss?
  public var optimizer: OptimizerKind = .adam
  public var momentum: Double?
  public var fromInit = false
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
  /// `-MD` or `-MF FILE`: also write a Make-syntax dependency file (Depfile.swift).
  public var depfile: DepfileRequest?
  /// `--loss`, `--optimizer`, `--momentum`, `--init`: for `--emit train` only.
  public var train = EmitTrainOptions()
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
  /// `grucc check MODEL [--json]`
  case check(String, json: Bool = false)
  case identify(IdentifyOptions)
  /// `grucc import MODEL.onnx [-o MODEL.gru] [--name PREFIX]`
  case importModel(String, output: String?, name: String?)
  case train(TrainOptions)
  /// `grucc --help` (nil) or one command's help.
  case help(HelpTopic?)
  case version
}

/// A command line that makes no sense.
public struct UsageError: Error, Sendable, Equatable {
  public var message: String
  /// The command the arguments were for, whose help the error points to.
  public var topic: HelpTopic?

  public init(message: String, topic: HelpTopic? = nil) {
    self.message = message
    self.topic = topic
  }

  /// The same error, pointing to `topic`'s help unless it names one already.
  func pointing(to topic: HelpTopic) -> UsageError {
    UsageError(message: message, topic: self.topic ?? topic)
  }

  /// An option no command of this kind takes, with the closest one it does take.
  static func unknownOption(_ option: String, for topic: HelpTopic, known: [String]) -> UsageError {
    let name = option.split(separator: "=", maxSplits: 1).first.map(String.init) ?? option
    let suffix = topic == .compile ? "" : " for '\(topic.rawValue)'"
    // Every command also takes the options Driver reads before the command's own.
    let everywhere = ["--help", "--max-memory", "--diagnostics-format"]
    return UsageError(
      message: "unknown option '\(option)'\(suffix)" + didYouMean(name, among: known + everywhere), topic: topic)
  }
}

/// "; did you mean 'X'?" when `word` is a near miss of one of `candidates`, else nothing.
func didYouMean(_ word: String, among candidates: [String]) -> String {
  closestSpelling(to: word, among: candidates).map { "; did you mean '\($0)'?" } ?? ""
}

/// `--loss`'s value, for `grucc train` and `--emit train` alike.
func lossNamed(_ v: String, topic: HelpTopic) throws(UsageError) -> Loss {
  guard let l = Loss(rawValue: v) else {
    let names = Loss.allCases.map(\.rawValue)
    throw UsageError(message: "unknown loss '\(v)'; expected " + names.joined(separator: ", ") + didYouMean(v, among: names), topic: topic)
  }
  return l
}

/// `--optimizer`'s value, for `grucc train` and `--emit train` alike.
func optimizerNamed(_ v: String, topic: HelpTopic) throws(UsageError) -> OptimizerKind {
  guard let o = OptimizerKind(rawValue: v) else {
    throw UsageError(message: "unknown optimizer '\(v)'; expected adam or sgd" + didYouMean(v, among: ["adam", "sgd"]), topic: topic)
  }
  return o
}

/// How diagnostics are printed: as clang prints them, or one JSON object per line for tools.
public enum DiagnosticsFormat: String, Sendable, CaseIterable {
  case text, json
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

  /// Takes `--diagnostics-format text|json` (or `=json`), which every command accepts anywhere.
  public static func diagnosticsFormat(_ arguments: [String]) throws(UsageError) -> (DiagnosticsFormat, [String]) {
    let option = "--diagnostics-format"
    var format = DiagnosticsFormat.text
    var rest: [String] = []
    var args = arguments[...]
    while let a = args.popFirst() {
      let text: String
      if a == option {
        text = try value(after: a, &args)
      } else if a.hasPrefix(option + "=") {
        text = String(a.dropFirst(option.count + 1))
      } else {
        rest.append(a)
        continue
      }
      guard let f = DiagnosticsFormat(rawValue: text) else {
        throw UsageError(
          message: "'\(option)' takes 'text' or 'json', not '\(text)'"
            + didYouMean(text, among: DiagnosticsFormat.allCases.map(\.rawValue)))
      }
      format = f
    }
    return (format, rest)
  }

  /// The words that start a subcommand (the compile command has none).
  static let subcommands = ["run", "check", "identify", "import", "train", "help"]

  public static func parse(_ arguments: [String]) throws(UsageError) -> Command {
    var args = arguments[...]
    guard let first = args.first else { throw UsageError(message: "no input file") }
    if first == "--help" || first == "-h" { return .help(nil) }
    if first == "--version" { return .version }
    // `grucc train ... --help` is the train command's help, wherever the flag stands.
    if args.contains(where: { $0 == "--help" || $0 == "-h" }), first != "help" {
      return .help(HelpTopic.named(first) ?? .compile)
    }
    switch first {
    case "help":
      args = args.dropFirst()
      guard let word = args.popFirst(), word != "--help", word != "-h" else { return .help(nil) }
      guard args.isEmpty else { throw UsageError(message: "'help' takes one command name") }
      guard let topic = HelpTopic.named(word) else {
        throw UsageError(
          message: "no help for '\(word)'; the commands are "
            + HelpTopic.allCases.map(\.rawValue).joined(separator: ", ")
            + didYouMean(word, among: HelpTopic.allCases.map(\.rawValue)))
      }
      return .help(topic)
    case "run":
      args = args.dropFirst()
      do { return .run(try parseRun(&args)) } catch { throw error.pointing(to: .run) }
    case "check":
      args = args.dropFirst()
      var model: String?
      var json = false
      while let a = args.popFirst() {
        if a == "--json" {
          json = true
          continue
        }
        if a.hasPrefix("-") { throw UsageError.unknownOption(a, for: .check, known: ["--json"]) }
        if model != nil { throw UsageError(message: "'check' takes one model file", topic: .check) }
        model = a
      }
      guard let model else { throw UsageError(message: "'check' needs a model file", topic: .check) }
      return .check(model, json: json)
    case "identify":
      args = args.dropFirst()
      do { return .identify(try parseIdentify(&args)) } catch { throw error.pointing(to: .identify) }
    case "train":
      args = args.dropFirst()
      do { return .train(try parseTrain(&args)) } catch { throw error.pointing(to: .train) }
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
          throw UsageError.unknownOption(a, for: .import, known: ["-o", "--name"])
        } else if model != nil {
          throw UsageError(message: "'import' takes one model file", topic: .import)
        } else {
          model = a
        }
      }
      guard let model else { throw UsageError(message: "'import' needs an ONNX model file", topic: .import) }
      return .importModel(model, output: output, name: name)
    default:
      // A word that is no file name but nearly a command is a misspelt command, not a model.
      if !first.contains("."), !first.contains("/"), !first.hasPrefix("-"),
        let command = closestSpelling(to: first, among: subcommands)
      {
        throw UsageError(message: "unknown command '\(first)'; did you mean '\(command)'?")
      }
      do { return .compile(try parseCompile(&args)) } catch { throw error.pointing(to: .compile) }
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
    var trainFlagsSeen: [String] = []
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
      case "-MD": options.depfile = options.depfile ?? .besideOutput
      case "-MF": options.depfile = .file(try value(after: "-MF", &args))
      case "--emit": options.emit = try emitKind(try value(after: "--emit", &args))
      case _ where a.hasPrefix("--emit="): options.emit = try emitKind(String(a.dropFirst("--emit=".count)))
      case "--loss":
        options.train.loss = try lossNamed(try value(after: a, &args), topic: .compile)
        trainFlagsSeen.append(a)
      case "--optimizer":
        options.train.optimizer = try optimizerNamed(try value(after: a, &args), topic: .compile)
        trainFlagsSeen.append(a)
      case "--momentum":
        let v = try value(after: a, &args)
        guard let m = Double(v), m.isFinite, m >= 0, m < 1 else {
          throw UsageError(message: "'--momentum' needs a number from 0 up to (not including) 1, not '\(v)'")
        }
        options.train.momentum = m
        trainFlagsSeen.append(a)
      case "--init":
        options.train.fromInit = true
        trainFlagsSeen.append(a)
      case _ where a.hasPrefix("-") && a != "-": throw UsageError.unknownOption(a, for: .compile, known: compileFlags)
      default:
        if input != nil { throw UsageError(message: "more than one input file ('\(input!)' and '\(a)')") }
        input = a
      }
    }
    guard let input else { throw UsageError(message: "no input file") }
    if options.depfile != nil, options.emit != nil {
      throw UsageError(message: "'-MD' and '-MF' describe the C grucc writes; they do not go with '--emit'")
    }
    if let flag = trainFlagsSeen.first, options.emit != .train {
      throw UsageError(message: "'\(flag)' is for '--emit train' (or 'grucc train')")
    }
    if options.emit == .train {
      guard options.train.loss != nil else {
        throw UsageError(message: "'--emit train' needs --loss: " + Loss.allCases.map(\.rawValue).joined(separator: ", "))
      }
      if options.train.momentum != nil && options.train.optimizer != .sgd {
        throw UsageError(message: "'--momentum' is for '--optimizer sgd'; Adam keeps its own moments")
      }
    }
    options.input = input
    return options
  }

  static let compileFlags = [
    "-o", "--print-ir-after-all", "--activations", "--weights", "--name", "--emit", "--help", "--max-memory",
    "--diagnostics-format", "-MD", "-MF", "--loss", "--optimizer", "--momentum", "--init",
  ]

  private static func emitKind(_ text: String) throws(UsageError) -> EmitKind {
    switch text {
    case "tokens": return .tokens
    case "ast": return .ast
    case "ir": return .ir(after: nil)
    case "c": return .c
    case "h", "header": return .header
    case "weights": return .weights
    case "gradient-ir": return .gradientIR
    case "train": return .train
    default:
      if text.hasPrefix("ir-after=") {
        let pass = String(text.dropFirst("ir-after=".count))
        guard pass == "irgen" || PassPipeline.standardNames.contains(pass) else {
          throw UsageError(
            message: "unknown pass '\(pass)'; passes are irgen, " + PassPipeline.standardNames.joined(separator: ", ")
              + didYouMean(pass, among: ["irgen"] + PassPipeline.standardNames), topic: .compile)
        }
        return .ir(after: pass)
      }
      let kinds = HelpText.emitKinds
      throw UsageError(
        message: "unknown --emit kind '\(text)'; expected \(kinds.dropLast().joined(separator: ", ")) or \(kinds.last!)"
          + didYouMean(text, among: kinds.filter { !$0.contains("=") } + ["header"]), topic: .compile)
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
      case _ where a.hasPrefix("-"): throw UsageError.unknownOption(a, for: .run, known: ["-o", "--input", "-i", "--activations"])
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
          let names = WeightsFormat.allCases.map(\.rawValue)
          throw UsageError(
            message: "unknown format '\(v)'; expected " + names.joined(separator: ", ") + didYouMean(v, among: names),
            topic: .identify)
        }
        options.format = f
      case _ where a.hasPrefix("-"):
        throw UsageError.unknownOption(a, for: .identify, known: ["--input", "-i", "--expect", "-o", "--hidden", "--format"])
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
    if let o = options.output, !o.hasSuffix(".safetensors"), !o.hasSuffix(".gru") {
      throw UsageError(
        message: "'identify -o' writes the model (FILE.gru) or its tensors in grucc's names (FILE.safetensors), not '\(o)'",
        topic: .identify)
    }
    options.weights = weights
    return options
  }
}
