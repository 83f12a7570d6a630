// `grucc train` end to end, in-process with finite differences on a tiny model: the loss goes
// down, the weights file is what the Trainer computes and loads back into `grucc run`, the plot
// is written, progress goes where it is asked to (with steps/s and the time left when there is
// a clock), a resumed run writes the uninterrupted run's files, and every bad argument, data
// file or checkpoint is an error that leaves the directory as it was.

import Foundation
import Testing

@testable import GruccCore

@Suite struct TrainCLITests {
  static let model = """
    model tiny
    precision f64
    input x[2]
    gru h = x -> hidden 2, reset before, update takes-candidate, bias single
    output y = dense(h, 1)
    init seed 1

    """

  /// N sequences of 3 steps of two bits; y is 1 where either bit is.
  static func examples(_ n: Int, seed: UInt64) -> (x: ArrayValue, y: ArrayValue) {
    var random = Xoshiro256(seed: seed)
    let x = (0..<(n * 3 * 2)).map { _ in random.uniform() < 0.5 ? 0.0 : 1.0 }
    let y = stride(from: 0, to: x.count, by: 2).map { max(x[$0], x[$0 + 1]) }
    return (ArrayValue(shape: [n, 3, 2], values: x), ArrayValue(shape: [n, 3, 1], values: y))
  }

  static func npz(_ arrays: [(String, ArrayValue)], dtype: NpyDType = .f64) -> [UInt8] {
    Npz.write(arrays.map { (name: $0.0, values: $0.1.values, shape: $0.1.shape, dtype: dtype) })
  }

  static let train = examples(16, seed: 1)
  static let valid = examples(6, seed: 2)

  /// A directory holding the model, train.npz and valid.npz (and `extra` files).
  func inDirectory(_ extra: [String: [UInt8]] = [:], _ body: (String) throws -> Void) throws {
    try withScratchDirectory { dir in
      var files = extra
      files["tiny.gru"] = files["tiny.gru"] ?? Array(Self.model.utf8)
      files["train.npz"] = files["train.npz"] ?? Self.npz([("x", Self.train.x), ("y", Self.train.y)])
      files["valid.npz"] = files["valid.npz"] ?? Self.npz([("x", Self.valid.x), ("y", Self.valid.y)])
      for (name, bytes) in files { #expect(FileManager.default.createFile(atPath: "\(dir)/\(name)", contents: Data(bytes))) }
      try body(dir)
    }
  }

  func grucc(_ arguments: [String], progress: ProgressOutput? = nil) -> DriverResult {
    Driver.run(arguments, progress: progress, gradient: FiniteDifferences())
  }

  func trainArguments(_ dir: String, _ extra: [String] = []) -> [String] {
    ["train", "\(dir)/tiny.gru", "--data", "\(dir)/train.npz", "--valid", "\(dir)/valid.npz", "--loss", "quadratic",
     "--steps", "30", "--lr", "0.05", "--every", "10", "-o", "\(dir)/trained.safetensors"] + extra
  }

  func listing(_ dir: String) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() }

  /// The (train, valid) losses of the `step` lines.
  func losses(_ stdout: String) -> [(Double, Double)] {
    stdout.split(separator: "\n").filter { $0.hasPrefix("step") }.map { line in
      let words = line.split(separator: " ")
      return (Double(words[words.firstIndex(of: "train")! + 1])!, Double(words[words.firstIndex(of: "valid")! + 1])!)
    }
  }

  @Test func trainsWritesWeightsThatLoadBackAndPlots() throws {
    try inDirectory { dir in
      let r = grucc(trainArguments(dir, ["--plot", "\(dir)/loss.svg"]))
      #expect(r.exitCode == 0, "\(r.stderr)")
      let lines = r.stdout.split(separator: "\n")
      #expect(lines.first == "step  0/30  train \(lines.first!.split(separator: " ")[3])  valid \(lines.first!.split(separator: " ")[5])")
      #expect(lines.filter { $0.hasPrefix("step") }.map { $0.split(separator: " ")[1] } == ["0/30", "10/30", "20/30", "30/30"])
      #expect(lines.suffix(2) == ["wrote \(dir)/trained.safetensors", "wrote \(dir)/loss.svg"])
      let curve = losses(r.stdout)
      #expect(curve.last!.0 < curve.first!.0 / 2 && curve.last!.1 < curve.first!.1 / 2, "\(curve)")
      let svg = try String(contentsOfFile: "\(dir)/loss.svg", encoding: .utf8)
      #expect(svg.contains("class=\"train\"") && svg.contains("class=\"valid\""))

      // The file holds what the Trainer computes from the same inputs, bit for bit.
      let module = try #require(TrainSupport.lowered(Self.model))
      let expected = try Trainer(
        options: TrainingOptions(loss: .quadratic, steps: 30, every: 10), optimizer: Adam(learningRate: 0.05),
        gradient: FiniteDifferences()
      ).train(
        module, training: TrainingBatch(inputs: ["x": Self.train.x], targets: ["y": Self.train.y]))
      let tensors = try Safetensors.read([UInt8](try #require(FileManager.default.contents(atPath: "\(dir)/trained.safetensors")))).tensors
      // (safetensors keeps its tensors sorted by name)
      let written = Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0.values) })
      #expect(written == Dictionary(uniqueKeysWithValues: expected.module.parameters.map { ($0.name, $0.values) }))
      #expect(tensors.allSatisfy { $0.dtype == .f64 })

      // A model that names the file runs with the trained weights.
      let loaded = Self.model.replacingOccurrences(of: "init seed 1", with: "weights \"trained.safetensors\"")
      #expect(FileManager.default.createFile(atPath: "\(dir)/loaded.gru", contents: Data(loaded.utf8)))
      #expect(FileManager.default.createFile(
        atPath: "\(dir)/x.npy", contents: Data(Npy.write(values: Self.valid.x.values, shape: Self.valid.x.shape, dtype: .f64))))
      let run = grucc(["run", "\(dir)/loaded.gru", "--input", "\(dir)/x.npy", "-o", "\(dir)/y.npy"])
      #expect(run.exitCode == 0, "\(run.stderr)")
      let y = try Npy.read([UInt8](try #require(FileManager.default.contents(atPath: "\(dir)/y.npy"))))
      let want = try Interpreter.run(expected.module, inputs: ["x": Self.valid.x])[0].value
      #expect(y.values == want.values)
    }
  }

  @Test func sameSeedGivesTheSameFilesAndBatchesUseIt() throws {
    try inDirectory { dir in
      func trainedBytes(_ seed: String) throws -> [UInt8] {
        let r = grucc(trainArguments(dir, ["--batch", "5", "--seed", seed, "--steps", "6", "--plot", "\(dir)/loss.svg"]))
        #expect(r.exitCode == 0, "\(r.stderr)")
        return [UInt8](try #require(FileManager.default.contents(atPath: "\(dir)/trained.safetensors")))
          + [UInt8](try #require(FileManager.default.contents(atPath: "\(dir)/loss.svg")))
      }
      let (a, b, c) = (try trainedBytes("3"), try trainedBytes("3"), try trainedBytes("4"))
      #expect(a == b)
      #expect(a != c)
    }
  }

  /// Without -o the weights go to the model's own grucc safetensors file, so training continues
  /// from where the last run stopped.
  @Test func defaultOutputIsTheModelsWeightsFile() throws {
    let named = Self.model.replacingOccurrences(of: "init seed 1", with: "weights \"w.safetensors\"")
    try inDirectory(["named.gru": Array(named.utf8)]) { dir in
      let first = grucc(trainArguments(dir, ["-o", "\(dir)/w.safetensors"]))
      #expect(first.exitCode == 0, "\(first.stderr)")
      var arguments = trainArguments(dir)
      arguments[1] = "\(dir)/named.gru"
      arguments.removeLast(2)  // -o
      let second = grucc(arguments)
      #expect(second.exitCode == 0, "\(second.stderr)")
      #expect(second.stdout.hasSuffix("wrote \(dir)/w.safetensors\n"))
      #expect(losses(second.stdout).first!.0 == losses(first.stdout).last!.0)
      #expect(!listing(dir).contains("trained.safetensors"))
    }
  }

  @Test func progressGoesToTheProgressOutputAsItHappens() throws {
    final class Sink: @unchecked Sendable {
      var lines: [String] = []
      var status: [String] = []
    }
    let sink = Sink()
    let output = ProgressOutput(line: { sink.lines.append($0) }, status: { sink.status.append($0) })
    try inDirectory { dir in
      let r = grucc(trainArguments(dir, ["--steps", "4", "--every", "2"]), progress: output)
      #expect(r.exitCode == 0, "\(r.stderr)")
      #expect(!r.stdout.contains("step"))
      #expect(sink.lines.map { String($0.prefix(8)) } == ["step 0/4", "step 2/4", "step 4/4"])
      #expect(sink.status.contains { $0.hasPrefix("\r\u{1B}[Kstep 3/4  batch loss ") })
      #expect(sink.status.last == "\r\u{1B}[K")  // the status line is cleared at the end
    }
  }

  /// A time-major model with lengths and a given initial state: every input comes from the file,
  /// the sequence arrays as [T, N, F].
  @Test func timeMajorDataWithLengthsAndInitialStates() throws {
    let model = """
      model tm
      precision f32
      input x[2], lengths len, layout time-major
      gru h = x -> hidden 2, reset after, update keeps-state, bias separate, initial given
      output y = dense(h, 1)
      output s = mean(h)
      init seed 2

      """
    let x = DataFiles.swapLeadingAxes(Self.train.x)
    let y = DataFiles.swapLeadingAxes(Self.train.y)
    let len = ArrayValue(shape: [16], values: (0..<16).map { Double(1 + $0 % 3) })
    let h0 = ArrayValue(shape: [16, 2], values: (0..<32).map { Double($0 % 5) / 10 })
    let data = Self.npz([("x", x), ("len", len), ("h.h0", h0), ("y", y)], dtype: .f32)
    try inDirectory(["tm.gru": Array(model.utf8), "tm.npz": data]) { dir in
      let r = grucc(["train", "\(dir)/tm.gru", "--data", "\(dir)/tm.npz", "--loss", "mse", "--steps", "10", "--lr", "0.05",
                     "-o", "\(dir)/tm.safetensors"])
      #expect(r.exitCode == 0, "\(r.stderr)")
      let tensors = try Safetensors.read([UInt8](try #require(FileManager.default.contents(atPath: "\(dir)/tm.safetensors")))).tensors
      #expect(tensors.allSatisfy { $0.dtype == .f32 })
      let first = r.stdout.split(separator: "\n").first!.split(separator: " ")
      let last = r.stdout.split(separator: "\n").filter { $0.hasPrefix("step") }.last!.split(separator: " ")
      #expect(Double(last[3])! < Double(first[3])!)
    }
  }

  /// SGD with momentum trains (Autodiff's gradients): the training loss goes down, and the run
  /// differs from plain SGD's.
  @Test func sgdWithMomentumTrains() throws {
    try inDirectory { dir in
      var weights: [[UInt8]] = []
      for momentum in ["0", "0.9"] {
        let out = "\(dir)/m\(momentum).safetensors"
        let r = grucc(trainArguments(dir, ["--optimizer", "sgd", "--lr", "0.05", "--momentum", momentum, "-o", out]))
        #expect(r.exitCode == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").filter { $0.hasPrefix("step") }
        #expect(Double(lines.last!.split(separator: " ")[3])! < Double(lines.first!.split(separator: " ")[3])!)
        weights.append([UInt8](try #require(FileManager.default.contents(atPath: out))))
      }
      #expect(weights[0] != weights[1])
    }
  }

  static let badArguments: [([String], String)] = [
    (["--loss", "hinge"], "unknown loss 'hinge'; expected quadratic, mse, bce, cce"),
    (["--steps", "0"], "'--steps' needs a positive whole number, not '0'"),
    (["--batch", "two"], "'--batch' needs a positive whole number, not 'two'"),
    (["--lr", "-1"], "'--lr' needs a positive number, not '-1'"),
    (["--lr", "nan"], "'--lr' needs a positive number, not 'nan'"),
    (["--seed", "-3"], "'--seed' needs a whole number from 0 to 2^64 - 1, not '-3'"),
    (["--optimizer", "rmsprop"], "unknown optimizer 'rmsprop'; expected adam or sgd"),
    (["--plot", "loss.png"], "'--plot' writes an SVG file: give it as FILE.svg"),
    (["--momentum", "0.9"], "'--momentum' is for '--optimizer sgd'; Adam keeps its own moments"),
    (["--optimizer", "sgd", "--momentum", "1"], "'--momentum' needs a number from 0 up to (not including) 1, not '1'"),
    (["-o", "out.npz"], "'train -o' writes a safetensors file: give it as FILE.safetensors"),
    (["--checkpoint", "run.ckpt"], "'--checkpoint' takes a checkpoint, a safetensors file: give it as FILE.safetensors; 'run.ckpt' is not one"),
    (["--resume", "c.safetensors", "--init"],
     "'--resume' continues from the checkpoint's weights; '--init' would start again from the init rules"),
  ]

  @Test(arguments: badArguments)
  func badArgumentsAreErrors(_ extra: [String], message: String) throws {
    try inDirectory { dir in
      let before = listing(dir)
      let r = grucc(trainArguments(dir, extra))
      #expect(r.exitCode == 1)
      #expect(r.stderr == "grucc: error: \(message)\nrun 'grucc help train' for usage\n")
      #expect(listing(dir) == before)
    }
  }

  static let badData: [(String, [UInt8], String)] = [
    ("features", npz([("x", ArrayValue(shape: [2, 3, 3], values: .init(repeating: 0, count: 18))), ("y", train.y)]),
     "'x' has shape [2, 3, 3], expected [N, T, 2]"),
    ("examples", npz([("x", train.x), ("y", valid.y)]), "'y' has 6 examples, 'x' has 16"),
    ("steps", npz([("x", train.x), ("y", ArrayValue(shape: [16, 2, 1], values: .init(repeating: 0, count: 32)))]),
     "'y' has 2 steps, 'x' has 3"),
    ("stray", npz([("x", train.x), ("y", train.y), ("z", train.y)]),
     "array 'z' is neither an input nor an output of the model (inputs: 'x'; outputs: 'y')"),
    ("no-target", npz([("x", train.x)]), "no target: name an array after the output to train ('y')"),
    ("no-input", npz([("y", train.y)]), "no array 'x' for the model's input 'x' ([N, T, 2])"),
    ("not-finite", npz([("x", ArrayValue(shape: [1, 1, 2], values: [0, .nan])), ("y", ArrayValue(shape: [1, 1, 1], values: [0]))]),
     "'x' has a value that is not finite"),
  ]

  @Test(arguments: badData)
  func badDataIsAnError(_ name: String, _ bytes: [UInt8], message: String) throws {
    try inDirectory(["\(name).npz": bytes]) { dir in
      let before = listing(dir)
      for option in ["--data", "--valid"] {
        var arguments = trainArguments(dir)
        arguments[arguments.firstIndex(of: option)! + 1] = "\(dir)/\(name).npz"
        let r = grucc(arguments)
        #expect(r.exitCode == 1)
        #expect(r.stderr == "grucc: error: \(dir)/\(name).npz: \(message)\n", "\(option)")
        #expect(listing(dir) == before)
      }
    }
  }

  @Test func missingOptionsAndFilesAreErrors() throws {
    try inDirectory { dir in
      let before = listing(dir)
      let cases: [([String], String)] = [
        (["train", "\(dir)/tiny.gru", "--loss", "mse", "--steps", "1"], "'train' needs --data FILE.npz, the training examples"),
        (["train", "\(dir)/tiny.gru", "--data", "\(dir)/train.npz", "--steps", "1"], "'train' needs --loss: quadratic, mse, bce, cce"),
        (["train", "\(dir)/tiny.gru", "--data", "\(dir)/train.npz", "--loss", "mse"], "'train' needs --steps N, the number of updates"),
        (["train", "--data", "\(dir)/train.npz", "--loss", "mse", "--steps", "1"], "'train' needs a model file"),
        (["train", "\(dir)/tiny.gru", "--data", "\(dir)/train.csv", "--loss", "mse", "--steps", "1"],
         "'--data' reads a .npz file (arrays by name); '\(dir)/train.csv' is not one"),
      ]
      for (arguments, message) in cases {
        let r = grucc(arguments)
        #expect(r.exitCode == 1)
        #expect(r.stderr == "grucc: error: \(message)\nrun 'grucc help train' for usage\n")
      }
      let noOutput = grucc(["train", "\(dir)/tiny.gru", "--data", "\(dir)/train.npz", "--loss", "mse", "--steps", "1"])
      #expect(noOutput.exitCode == 1)
      #expect(noOutput.stderr.hasPrefix("grucc: error: 'train' needs -o FILE.safetensors: the model names no safetensors file"))
      var missing = trainArguments(dir)
      missing[3] = "\(dir)/missing.npz"
      #expect(grucc(missing).stderr == "grucc: error: cannot read '\(dir)/missing.npz': no such file or directory\n")
      #expect(listing(dir) == before)
    }
  }

  /// 30 steps at once, and 20 steps with --checkpoint then --resume to 30, write the same
  /// weights and the same plot, byte for byte (mini-batches of 5 of 16: the batch order matters).
  @Test(arguments: [["--optimizer", "adam"], ["--optimizer", "sgd", "--momentum", "0.9"]])
  func resumeGivesTheUninterruptedRunBitForBit(_ optimizer: [String]) throws {
    try inDirectory { dir in
      func run(_ extra: [String]) throws -> DriverResult {
        let r = grucc(trainArguments(dir, optimizer + ["--batch", "5", "--seed", "3"] + extra))
        #expect(r.exitCode == 0, "\(r.stderr)")
        return r
      }
      func bytes(_ name: String) throws -> [UInt8] { [UInt8](try #require(FileManager.default.contents(atPath: "\(dir)/\(name)"))) }
      let whole = try run(["--plot", "\(dir)/whole.svg", "-o", "\(dir)/whole.safetensors"])
      _ = try run(["--steps", "20", "--checkpoint", "\(dir)/c.safetensors", "-o", "\(dir)/part.safetensors"])
      try FileManager.default.copyItem(atPath: "\(dir)/c.safetensors", toPath: "\(dir)/c20.safetensors")
      let resumed = try run(
        ["--resume", "\(dir)/c.safetensors", "--checkpoint", "\(dir)/c.safetensors", "--plot", "\(dir)/resumed.svg",
         "-o", "\(dir)/resumed.safetensors"])
      #expect(try bytes("resumed.safetensors") == bytes("whole.safetensors"))
      #expect(try bytes("resumed.svg") == bytes("whole.svg"))
      #expect(try bytes("part.safetensors") != bytes("whole.safetensors"))
      let steps = resumed.stdout.split(separator: "\n").filter { $0.hasPrefix("step") }
      #expect(steps.map { $0.split(separator: " ")[1] } == ["20/30", "30/30"])
      #expect(steps.last.map(String.init) == whole.stdout.split(separator: "\n").filter { $0.hasPrefix("step") }.last.map(String.init))
      // A model naming a weights file that does not exist (yet) resumes too: the checkpoint has the weights.
      let named = Self.model.replacingOccurrences(of: "init seed 1", with: "weights \"missing.safetensors\"")
      #expect(FileManager.default.createFile(atPath: "\(dir)/named.gru", contents: Data(named.utf8)))
      var arguments = trainArguments(
        dir, optimizer + ["--batch", "5", "--seed", "3", "--resume", "\(dir)/c20.safetensors", "-o", "\(dir)/named.safetensors"])
      arguments[1] = "\(dir)/named.gru"
      let fromNamed = grucc(arguments)
      #expect(fromNamed.exitCode == 0, "\(fromNamed.stderr)")
      #expect(try bytes("named.safetensors") == bytes("whole.safetensors"))
      // The checkpoint now holds step 30: resuming it to 30 has nothing to do.
      let done = grucc(trainArguments(dir, optimizer + ["--batch", "5", "--seed", "3", "--resume", "\(dir)/c.safetensors"]))
      #expect(done.stderr.contains("the checkpoint is at step 30 already"), "\(done.stderr)")
    }
  }

  /// Each report but the first leaves a checkpoint behind (atomically, so an interrupted run
  /// keeps the last), and the end leaves the last step's.
  @Test func checkpointsAtEveryReport() throws {
    final class Sink: @unchecked Sendable { var steps: [String] = [] }
    let sink = Sink()
    try inDirectory { dir in
      @Sendable func savedStep() -> String {
        guard let data = FileManager.default.contents(atPath: "\(dir)/c.safetensors"),
          let file = try? Safetensors.read([UInt8](data))
        else { return "none" }
        return file.metadata.first { $0.0 == "grucc.step" }?.1 ?? "no step"
      }
      let output = ProgressOutput(line: { _ in sink.steps.append(savedStep()) }, status: nil)
      let r = grucc(trainArguments(dir, ["--checkpoint", "\(dir)/c.safetensors"]), progress: output)
      #expect(r.exitCode == 0, "\(r.stderr)")
      // Seen as each line of steps 0, 10, 20, 30 is printed: a report prints before it saves.
      #expect(sink.steps == ["none", "none", "10", "20"])
      #expect(savedStep() == "30")
      #expect(listing(dir).filter { $0.hasSuffix(".tmp") }.isEmpty)
    }
  }

  @Test func badCheckpointsAreErrorsAndWriteNothing() throws {
    try inDirectory { dir in
      let checkpoint = "\(dir)/c.safetensors"
      #expect(grucc(trainArguments(dir, ["--steps", "10", "--batch", "4", "--checkpoint", checkpoint])).exitCode == 0)
      let other = Self.model.replacingOccurrences(of: "model tiny", with: "model other")
      #expect(FileManager.default.createFile(atPath: "\(dir)/other.gru", contents: Data(other.utf8)))
      var otherArguments = trainArguments(dir, ["--steps", "10", "--checkpoint", "\(dir)/other.safetensors"])
      otherArguments[1] = "\(dir)/other.gru"
      #expect(grucc(otherArguments).exitCode == 0)
      let good = try #require(FileManager.default.contents(atPath: checkpoint))
      #expect(FileManager.default.createFile(atPath: "\(dir)/short.safetensors", contents: good.dropLast(5)))
      let before = listing(dir)
      let cases: [([String], String)] = [
        (["--resume", "\(dir)/none.safetensors"], "cannot read '\(dir)/none.safetensors': no such file or directory"),
        (["--resume", "\(dir)/other.safetensors"], "\(dir)/other.safetensors: a checkpoint of model 'other', not of 'tiny'"),
        (["--resume", "\(dir)/trained.safetensors", "-o", "\(dir)/out.safetensors"],
         "\(dir)/trained.safetensors: not a grucc checkpoint"),
        (["--resume", "\(dir)/short.safetensors"], "\(dir)/short.safetensors: truncated"),
        (["--resume", checkpoint], "\(checkpoint): the checkpoint was trained with --batch 4, this run asks for all; "),
        (["--resume", checkpoint, "--batch", "4", "--lr", "0.01"], "\(checkpoint): the checkpoint was trained with --lr 0.05, this run asks for 0.01"),
        (["--resume", checkpoint, "--batch", "4", "--seed", "2"], "\(checkpoint): the checkpoint was trained with --seed 0, this run asks for 2"),
        (["--resume", checkpoint, "--batch", "4", "--loss", "mse"], "\(checkpoint): the checkpoint was trained with --loss quadratic, this run asks for mse"),
        (["--resume", checkpoint, "--batch", "4", "--optimizer", "sgd"], "\(checkpoint): the checkpoint was trained with --optimizer adam, this run asks for sgd"),
        (["--resume", checkpoint, "--batch", "4", "--steps", "10"], "\(checkpoint): the checkpoint is at step 10 already"),
        (["--resume", checkpoint, "--batch", "4", "--data", "\(dir)/valid.npz"],
         "\(checkpoint): the checkpoint drew its batches from 16 examples; '--data' has 6"),
        (["--checkpoint", "\(dir)/trained.safetensors"], "output '\(dir)/trained.safetensors' would overwrite the trained weights"),
        (["--resume", checkpoint, "--batch", "4", "-o", checkpoint], "output '\(checkpoint)' would overwrite the checkpoint to resume"),
      ]
      // (trained.safetensors is the -o of those runs: a weights file, not a checkpoint)
      #expect(FileManager.default.fileExists(atPath: "\(dir)/trained.safetensors"))
      let weights = try #require(FileManager.default.contents(atPath: "\(dir)/trained.safetensors"))
      for (extra, message) in cases {
        let r = grucc(trainArguments(dir, extra))
        #expect(r.exitCode == 1, "\(extra)")
        #expect(r.stderr.hasPrefix("grucc: error: \(message)"), "\(r.stderr)")
        #expect(listing(dir) == before)
        #expect(FileManager.default.contents(atPath: checkpoint) == good)
        #expect(FileManager.default.contents(atPath: "\(dir)/trained.safetensors") == weights)
      }
    }
  }

  @Test func divergingTrainingIsAnErrorAndWritesNothing() throws {
    try inDirectory { dir in
      let before = listing(dir)
      let r = grucc(trainArguments(dir, ["--optimizer", "sgd", "--lr", "1e300", "--plot", "\(dir)/loss.svg"]))
      #expect(r.exitCode == 1)
      #expect(r.stderr.contains("no longer finite") || r.stderr.contains("not finite"), "\(r.stderr)")
      #expect(listing(dir) == before)
    }
  }
}

/// Seed 001's committed data (Tools/make-adder-data.py) fits the adder model and adds up, and
/// the README's first progress line for it is what grucc computes.
@Suite struct AdderDataTests {
  @Test func adderDataFitsTheModelAndAddsUp() throws {
    // From the init rules, as `grucc train --init` starts (the Spec also names its trained weights).
    let spec = try String(contentsOfFile: Golden.root + "/Specs/seed001-adder.gru", encoding: .utf8)
    let text = spec.split(separator: "\n").filter { !$0.hasPrefix("weights") }.joined(separator: "\n")
    let module = try #require(TrainSupport.lowered(text))
    var batches: [TrainingBatch] = []
    for (name, count) in [("train", 1000), ("valid", 200)] {
      let path = Golden.root + "/Specs/seed001-adder.\(name).npz"
      let bytes = [UInt8](try #require(FileManager.default.contents(atPath: path)))
      let batch = try TrainingFiles.batch(
        try DataFiles.read(bytes, path: path), path: path, interface: TrainingFiles.Interface(module)).get()
      let (x, y) = (try #require(batch.inputs["x"]), try #require(batch.targets["y"]))
      #expect(x.shape == [count, 8, 2] && y.shape == [count, 8, 1])
      for i in 0..<count {
        func number(_ values: [Double], _ stride: Int, _ offset: Int) -> Int {
          (0..<8).reduce(0) { $0 + Int(values[(i * 8 + $1) * stride + offset]) << $1 }
        }
        #expect(number(x.values, 2, 0) + number(x.values, 2, 1) == number(y.values, 1, 0))
      }
      batches.append(batch)
    }
    let train = try ForwardLoss.value(module, batch: batches[0], loss: .quadratic)
    let valid = try ForwardLoss.value(module, batch: batches[1], loss: .quadratic)
    let line = "step    0/5000  train \(ProgressReporter.format(train))  valid \(ProgressReporter.format(valid))"
    #expect(ReadmeTests.readme.contains("prints `\(line)`"), "\(line)")
  }
}

/// The progress lines with a clock the test sets: steps/s over the last ten seconds, the time
/// left at that rate, and none of it without a clock.
@Suite struct ProgressReporterTests {
  final class Clock: @unchecked Sendable { var now = 0.0 }

  @Test func evaluationLinesShowTheRecentSpeedAndTheTimeLeft() {
    let clock = Clock()
    final class Lines: @unchecked Sendable { var all: [String] = [] }
    let lines = Lines()
    var reporter = ProgressReporter(
      total: 5000, output: ProgressOutput(line: { lines.all.append($0) }, status: nil, clock: { clock.now }))
    _ = reporter.handle(.evaluated(LossRecord(step: 0, train: 1.5, valid: 2)))
    // 10 steps/s for 20 s, then 100 steps/s for 10 s: the rate is the last ten seconds'.
    for t in 1...30 {
      clock.now = Double(t)
      _ = reporter.handle(.step(t <= 20 ? 10 * t : 200 + 100 * (t - 20), batchLoss: 1))
    }
    _ = reporter.handle(.evaluated(LossRecord(step: 1200, train: 0.25, valid: 0.5)))
    clock.now = 68
    for step in 1201...5000 { _ = reporter.handle(.step(step, batchLoss: 1)) }
    _ = reporter.handle(.evaluated(LossRecord(step: 5000, train: 0.125)))
    #expect(lines.all == [
      "step    0/5000  train 1.5  valid 2\n",
      "step 1200/5000  train 0.25  valid 0.5  100 steps/s  ETA 38 s\n",
      "step 5000/5000  train 0.125  100 steps/s\n",
    ])
  }

  @Test func withoutAClockTheLinesAreTheSameEveryRun() {
    var reporter = ProgressReporter(total: 50, output: nil)
    _ = reporter.handle(.step(25, batchLoss: 1))
    #expect(reporter.handle(.evaluated(LossRecord(step: 25, train: 0.5, valid: 0.25))) == "step 25/50  train 0.5  valid 0.25\n")
  }

  @Test(arguments: [(812.4, "812"), (45.31, "45.3"), (4.5, "4.5"), (0.01234, "0.0123"), (123456.0, "123456")])
  func ratesHaveThreeDigits(_ rate: Double, _ text: String) { #expect(ProgressReporter.rate(rate) == text) }

  @Test(arguments: [(0.2, "1 s"), (6.0, "6 s"), (200.0, "3 min 20 s"), (7500.0, "2 h 5 min")])
  func durationsAreRounded(_ seconds: Double, _ text: String) { #expect(ProgressReporter.duration(seconds) == text) }
}
