// `grucc train MODEL.gru --data TRAIN.npz --loss L --steps N [...]`: its options and their
// checks. Every number is checked here, before any file is read.

public enum OptimizerKind: String, Sendable, CaseIterable {
  case adam, sgd

  /// Adam's usual 0.001; plain SGD needs a larger step to move at all.
  var defaultLearningRate: Double { self == .adam ? 0.001 : 0.01 }
}

/// What runs the forward and gradient graphs: C compiled for the model (CompiledGradient), or the
/// interpreter (Autodiff).
public enum TrainingBackend: String, Sendable, CaseIterable {
  case compiled, interpreter
}

public struct TrainOptions: Sendable, Equatable {
  public var model: String
  /// The training examples: a .npz with an array per model input and a target per trained output.
  public var data: String
  public var valid: String?
  public var loss: Loss
  public var steps: Int
  /// Examples per step; nil: the whole training set.
  public var batch: Int?
  /// nil: the optimizer's default.
  public var learningRate: Double?
  public var optimizer: OptimizerKind = .adam
  /// SGD's momentum (0: plain SGD).
  public var momentum: Double?
  public var seed: UInt64 = 0
  /// Report the losses every this many steps; nil: max(1, steps / 20).
  public var every: Int?
  public var plot: String?
  /// The trained weights (.safetensors); nil: the model's own `weights` file.
  public var output: String?
  /// Start from the model's init rules even if it names a weights file (training from scratch;
  /// the file need not exist yet).
  public var fromInit = false
  /// Where to keep the run's state (weights, optimizer, batch order, losses) at every report
  /// and at the end, to continue it with `resume`.
  public var checkpoint: String?
  /// A checkpoint to continue from; `steps` is then the total, counting the steps before it.
  public var resume: String?
  /// compiled unless asked; without a working C compiler training falls back to the interpreter.
  public var backend: TrainingBackend = .compiled
}

extension Options {
  static func parseTrain(_ args: inout ArraySlice<String>) throws(UsageError) -> TrainOptions {
    var model: String?
    var data: String?
    var loss: Loss?
    var steps: Int?
    var options = TrainOptions(model: "", data: "", loss: .quadratic, steps: 0)
    while let a = args.popFirst() {
      switch a {
      case "--data": data = try value(after: a, &args)
      case "--valid": options.valid = try value(after: a, &args)
      case "--loss":
        loss = try lossNamed(try value(after: a, &args), topic: .train)
      case "--steps": steps = try positive(a, try value(after: a, &args))
      case "--batch": options.batch = try positive(a, try value(after: a, &args))
      case "--every": options.every = try positive(a, try value(after: a, &args))
      case "--init": options.fromInit = true
      case "--lr":
        let v = try value(after: a, &args)
        guard let x = Double(v), x.isFinite, x > 0 else {
          throw UsageError(message: "'--lr' needs a positive number, not '\(v)'")
        }
        options.learningRate = x
      case "--optimizer":
        options.optimizer = try optimizerNamed(try value(after: a, &args), topic: .train)
      case "--momentum":
        let v = try value(after: a, &args)
        guard let m = Double(v), m.isFinite, m >= 0, m < 1 else {
          throw UsageError(message: "'--momentum' needs a number from 0 up to (not including) 1, not '\(v)'")
        }
        options.momentum = m
      case "--seed":
        let v = try value(after: a, &args)
        guard let s = UInt64(v) else { throw UsageError(message: "'--seed' needs a whole number from 0 to 2^64 - 1, not '\(v)'") }
        options.seed = s
      case "--plot": options.plot = try value(after: a, &args)
      case "--checkpoint": options.checkpoint = try value(after: a, &args)
      case "--resume": options.resume = try value(after: a, &args)
      case "--backend":
        let v = try value(after: a, &args)
        guard let b = TrainingBackend(rawValue: v) else {
          throw UsageError(
            message: "unknown backend '\(v)'; expected compiled or interpreter"
              + didYouMean(v, among: TrainingBackend.allCases.map(\.rawValue)), topic: .train)
        }
        options.backend = b
      case "-o": options.output = try value(after: a, &args)
      case _ where a.hasPrefix("-"): throw UsageError.unknownOption(a, for: .train, known: trainFlags)
      default:
        if model != nil { throw UsageError(message: "'train' takes one model file") }
        model = a
      }
    }
    guard let model else { throw UsageError(message: "'train' needs a model file") }
    guard let data else { throw UsageError(message: "'train' needs --data FILE.npz, the training examples") }
    guard let loss else {
      throw UsageError(message: "'train' needs --loss: " + Loss.allCases.map(\.rawValue).joined(separator: ", "))
    }
    guard let steps else { throw UsageError(message: "'train' needs --steps N, the number of updates") }
    if options.momentum != nil && options.optimizer != .sgd {
      throw UsageError(message: "'--momentum' is for '--optimizer sgd'; Adam keeps its own moments")
    }
    for (option, path) in [("--data", data), ("--valid", options.valid)] {
      if let path, !path.hasSuffix(".npz") {
        throw UsageError(message: "'\(option)' reads a .npz file (arrays by name); '\(path)' is not one")
      }
    }
    if let o = options.output, !o.hasSuffix(".safetensors") {
      throw UsageError(message: "'train -o' writes a safetensors file: give it as FILE.safetensors")
    }
    for (option, path) in [("--checkpoint", options.checkpoint), ("--resume", options.resume)] {
      if let path, !path.hasSuffix(".safetensors") {
        throw UsageError(message: "'\(option)' takes a checkpoint, a safetensors file: give it as FILE.safetensors; '\(path)' is not one")
      }
    }
    if options.resume != nil && options.fromInit {
      throw UsageError(message: "'--resume' continues from the checkpoint's weights; '--init' would start again from the init rules")
    }
    if let p = options.plot, !p.hasSuffix(".svg") {
      throw UsageError(message: "'--plot' writes an SVG file: give it as FILE.svg")
    }
    (options.model, options.data, options.loss, options.steps) = (model, data, loss, steps)
    return options
  }

  static let trainFlags = [
    "--data", "--valid", "--loss", "--steps", "--batch", "--every", "--init", "--lr", "--optimizer", "--momentum", "--seed",
    "--plot", "--checkpoint", "--resume", "--backend", "-o",
  ]

  private static func positive(_ option: String, _ text: String) throws(UsageError) -> Int {
    guard let n = Int(text), n > 0 else { throw UsageError(message: "'\(option)' needs a positive whole number, not '\(text)'") }
    return n
  }
}
