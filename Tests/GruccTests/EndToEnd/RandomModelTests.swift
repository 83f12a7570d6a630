// The random differential test: seeded random valid models (RandomModels: every option, head,
// layout, lengths, initial states and precision) through every path grucc has (the interpreter
// on the high-level and on the optimised IR, the generated C with the fast (default) and with libm
// activations, run_batch with B = 1 and B = 7, run, and step/read/get_state when the model
// streams) against the independent reference (ReferenceGRU). Many models share one C program, so
// clang runs once per chunk.
//
// The tolerance is the one of every end-to-end test (1e-5 for f32, 1e-12 for f64) on values up to
// 1 in magnitude, and relative beyond: random gate and candidate activations (affine, relu...)
// let some states grow to thousands over a few steps, where f32's rounding alone is above 1e-5.
//
//   swift test --filter RandomModelTests                       240 models (seeds 1...240)
//   GRUCC_RANDOM_MODELS=5000 GRUCC_RANDOM_SEED=7000 swift test --filter RandomModelTests
//   GRUCC_RANDOM_SEEDS=123,456 swift test --filter RandomModelTests     replays those seeds
//
// Tools/random-models.sh runs thousands. A failure names the seed and the replay command.

import Foundation
import Testing

@testable import GruccCore

@Suite struct RandomModelTests {
  static let environment = ProcessInfo.processInfo.environment

  /// The seeds to run: GRUCC_RANDOM_SEEDS, else GRUCC_RANDOM_MODELS from GRUCC_RANDOM_SEED.
  static let seeds: [UInt64] = {
    if let list = environment["GRUCC_RANDOM_SEEDS"] {
      return list.split(separator: ",").compactMap { UInt64($0.trimmingCharacters(in: .whitespaces)) }
    }
    let count = environment["GRUCC_RANDOM_MODELS"].flatMap { Int($0) } ?? 240
    let first = environment["GRUCC_RANDOM_SEED"].flatMap { UInt64($0) } ?? 1
    return (0..<UInt64(max(0, count))).map { first + $0 }
  }()

  /// Models per C program: one clang run compiles this many models twice (fast and libm).
  static let chunk = 40

  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"))
  func randomModelsAgreeWithTheReferenceOnEveryPath() throws {
    var summary = RandomSummary()
    for start in stride(from: 0, to: Self.seeds.count, by: Self.chunk) {
      let seeds = Array(Self.seeds[start..<min(start + Self.chunk, Self.seeds.count)])
      try RandomModelRun(seeds: seeds).run(into: &summary)
    }
    print(summary.text)
    #expect(summary.models == Self.seeds.count)
    for failure in summary.failures { Issue.record(Comment(rawValue: failure)) }
  }

  /// The generator's promise: every option of the tables is drawn, and every model it draws is
  /// valid (the front end takes it without an error).
  @Test func generatorCoversEveryOptionAndDrawsOnlyValidModels() throws {
    var seen = Set<String>()
    for seed in UInt64(1)...300 {
      let (model, spell) = RandomModels.model(seed: seed)
      let text = RandomModels.text(model, spellDefaults: spell, seed: seed)
      let front = InProcess.frontEnd(text)
      #expect(!front.diagnostics.hasErrors, "seed \(seed):\n\(InProcess.render(front.diagnostics.diagnostics, text))\n\(text)")
      seen.insert(model.precision.rawValue)
      seen.insert(model.layout.rawValue)
      if model.steps != nil { seen.insert("steps") }
      if model.lengths != nil { seen.insert("lengths") }
      for layer in model.layers {
        for option in RandomModels.layerOptions where option.spelling(layer, false) != nil {
          seen.insert(option.name + " " + (option.spelling(layer, false) ?? ""))
        }
      }
      func visit(_ e: RefExpr) {
        switch e {
        case .name: break
        case .state: seen.insert("state")
        case .dense(let inner, _, let unshared):
          seen.insert(unshared ? "dense unshared" : "dense")
          visit(inner)
        case .activation(let a, let inner):
          seen.insert("head \(a.name)")
          visit(inner)
        case .reduce(let r, let inner):
          seen.insert("head \(r.rawValue)")
          visit(inner)
        }
      }
      for s in model.statements { if case .binding(_, let e, _) = s { visit(e) } }
    }
    let names = [
      "identity", "sigmoid", "tanh", "relu", "softsign", "softplus", "hard-sigmoid", "leaky-relu", "thresholded-relu",
      "elu", "scaled-tanh", "affine",
    ]
    var required: Set<String> = ["f32", "f64", "batch-major", "time-major", "steps", "lengths", "state", "dense", "dense unshared"]
    required.formUnion(RefLayer.Reset.allCases.map { "reset reset \($0.rawValue)" })
    required.formUnion(RefLayer.Update.allCases.map { "update update \($0.rawValue)" })
    required.formUnion(RefLayer.Bias.allCases.map { "bias bias \($0.rawValue)" })
    required.formUnion(["reverse", "bidirectional"].map { "direction direction \($0)" })
    required.formUnion(["sum", "mean", "mul"].map { "merge merge \($0)" })
    required.insert("initial initial given")
    required.formUnion(RefReduction.allCases.map { "head \($0.rawValue)" })
    required.formUnion((names + ["softmax", "clip", "l2norm"]).map { "head \($0)" })
    let spelled = seen.joined(separator: "\n")
    // Each option's default is left out of the line, so it is not "drawn" as a spelling.
    let defaults = ["output-activation": "identity", "gate-activation": "sigmoid", "candidate-activation": "tanh"]
    for option in ["output-activation", "gate-activation", "candidate-activation", "backward-gate-activation",
      "backward-candidate-activation"]
    {
      // Gates take only activations into [0, 1] (RandomModels.gateActivation says why).
      for name in option.contains("gate") ? ["hard-sigmoid"] : names where defaults[option] != name {
        #expect(spelled.contains("\(option) \(option) \(name)"), "never drawn: \(option) \(name)")
      }
    }
    #expect(spelled.contains("clip clip"), "never drawn: clip")
    #expect(required.subtracting(seen).isEmpty, "never drawn: \(required.subtracting(seen).sorted())")
  }
}

/// What the runs found, over every chunk.
struct RandomSummary {
  var models = 0
  var perPrecision: [String: Int] = [:]
  /// The largest error of any comparison, per precision, with where it was.
  var worst: [String: (error: Double, at: String)] = [:]
  var failures: [String] = []

  mutating func record(_ table: ErrorTable, precision: String, seed: UInt64) {
    for (label, entry) in table.entries where entry.maxError > (worst[precision]?.error ?? -1) {
      worst[precision] = (entry.maxError, "seed \(seed), \(label): \(entry.worst)")
    }
  }

  var text: String {
    var lines = ["random models: \(models) (" + perPrecision.keys.sorted().map { "\(perPrecision[$0]!) \($0)" }.joined(separator: ", ") + ")"]
    for p in worst.keys.sorted() {
      lines.append("random models: worst \(p) error (relative above 1) \(String(format: "%.3g", worst[p]!.error)) (\(worst[p]!.at))")
    }
    lines.append("random models: \(failures.count) failures")
    return lines.joined(separator: "\n")
  }
}

/// One chunk of seeds through every path.
struct RandomModelRun {
  var seeds: [UInt64]

  /// A model drawn from one seed, compiled twice: fast, the default (`r<seed>`), and libm (`r<seed>l`).
  struct Entry {
    var seed: UInt64
    var model: RefModel
    var libm: RefModel
    var text: String
    var path: String
    var cases: [HarnessCase]
  }

  func replay(_ seed: UInt64) -> String { "replay: GRUCC_RANDOM_SEEDS=\(seed) swift test --filter RandomModelTests" }

  func run(into summary: inout RandomSummary) throws {
    let clang = try #require(Clang.compiler)
    let dir = try EndToEnd.temporaryDirectory("random")
    var keep = false
    defer { if !keep && ProcessInfo.processInfo.environment["GRUCC_E2E_KEEP"] == nil { try? FileManager.default.removeItem(at: dir) } }
    func file(_ name: String) -> String { dir.appendingPathComponent(name).path }

    // The models, their C (through the Driver) and one harness per compiled model.
    var entries: [Entry] = []
    var sources: [String] = []
    var harnesses: [String] = []
    for seed in seeds {
      summary.models += 1
      let (drawn, spell) = RandomModels.model(seed: seed)
      let model = RandomModels.everyDefinitionUsed(drawn)
      summary.perPrecision[model.precision.rawValue, default: 0] += 1
      let text = RandomModels.text(model, spellDefaults: spell, seed: seed)
      var libm = model
      libm.name += "l"
      let path = file("\(model.name).gru")
      try text.write(toFile: path, atomically: false, encoding: .utf8)
      let libmPath = file("\(libm.name).gru")
      try RandomModels.text(libm, spellDefaults: spell, seed: seed).write(toFile: libmPath, atomically: false, encoding: .utf8)
      var compiled = true
      for (m, gru, flags) in [(model, path, [String]()), (libm, libmPath, ["--activations", "libm"])] {
        let result = Driver.run([gru, "-o", file("\(m.name).c")] + flags)
        guard result.exitCode == 0 else {
          summary.failures.append("seed \(seed): grucc \(flags.joined(separator: " ")) failed:\n\(result.stderr)\n\(text)\(replay(seed))")
          compiled = false
          break
        }
      }
      guard compiled else { continue }
      let entry = Entry(seed: seed, model: model, libm: libm, text: text, path: path, cases: Self.cases(model, seed: seed))
      for m in [model, libm] {
        let index = harnesses.count
        let harness = CHarness(m).source(header: "\(m.name).h")
          .replacingOccurrences(of: "int main(int argc, char **argv)", with: "int harness_\(index)(int argc, char **argv)")
        let harnessPath = file("harness_\(index).c")
        try harness.write(toFile: harnessPath, atomically: false, encoding: .utf8)
        try CHarness(m).inputFile(entry.cases).write(to: URL(fileURLWithPath: file("input_\(index).bin")))
        harnesses.append(harnessPath)
        sources.append(file("\(m.name).c"))
      }
      entries.append(entry)
    }
    guard !entries.isEmpty else { return }

    // One program: main(k, input) runs harness k.
    var main = "#include <stdlib.h>\n"
    for k in harnesses.indices { main += "int harness_\(k)(int argc, char **argv);\n" }
    main += "int main(int argc, char **argv) {\n    if (argc != 3) return 2;\n    switch (atoi(argv[1])) {\n"
    for k in harnesses.indices { main += "    case \(k): return harness_\(k)(2, argv + 1);\n" }
    main += "    default: return 2;\n    }\n}\n"
    try main.write(toFile: file("main.c"), atomically: false, encoding: .utf8)
    let binary = file("random")
    // -O0 by default: clang's time is most of this test's, and without -ffast-math or FMA
    // contraction the numbers are the same at any level. GRUCC_RANDOM_CFLAGS picks others (the
    // script runs -O2 with the sanitizers too).
    let flags = ProcessInfo.processInfo.environment["GRUCC_RANDOM_CFLAGS"].map { $0.split(separator: " ").map(String.init) } ?? ["-O0"]
    let built = try clang.compile(CCompiler.strictC + flags + sources + harnesses + [file("main.c"), "-o", binary, "-lm"], timeout: 1200)
    guard built.succeeded else {
      keep = true
      summary.failures.append("seeds \(seeds.first!)...\(seeds.last!): C compile failed (files kept in \(dir.path)):\n\(built.summary)")
      return
    }

    for (e, entry) in entries.enumerated() {
      do {
        let table = try check(entry, binary: binary, fast: 2 * e, libm: 2 * e + 1, failures: &summary.failures)
        // int8: the reference (and the high-level interpreter) multiply the dequantised weights by
        // unquantised inputs; the C and the optimised interpreter compute the same integer sums.
        let int8 = entry.model.weightsStorage == "int8"
        // (int8's errors apart: they are the quantisation's, not the f32 arithmetic's.)
        summary.record(table, precision: entry.model.precision.rawValue + (int8 ? " int8" : ""), seed: entry.seed)
        func toleranceOf(_ label: String) -> Double {
          int8 && label.contains("reference") ? Int8StorageTests.bound : EndToEnd.tolerance(entry.model.precision)
        }
        for (label, row) in table.entries where !(row.maxError <= toleranceOf(label)) {
          let tolerance = toleranceOf(label)
          summary.failures.append(
            "seed \(entry.seed): \(label): max abs error \(row.maxError) > \(tolerance) (at \(row.worst))\n\(entry.text)\(replay(entry.seed))")
        }
      } catch {
        keep = true
        summary.failures.append("seed \(entry.seed): \(error) (files in \(dir.path))\n\(entry.text)\(replay(entry.seed))")
      }
    }
  }

  /// B = 1 and B = 7, T from 1 to 6 (the fixed T for a fixed-steps model); with lengths, the
  /// batch of 7 has a 0 and a T among its random lengths and the single sequence a random one,
  /// and half the models pass NULL lengths for one case. Values are exact in the precision.
  static func cases(_ m: RefModel, seed: UInt64) -> [HarnessCase] {
    var d = RandomDraw(seed: seed &* 7919 &+ 13)
    func value(_ scale: Double) -> Double {
      let v = d.rng.uniform(-scale, scale)
      return m.precision == .f32 ? Double(Float(v)) : v
    }
    let nullLengths = d.chance(0.5) ? d.int(0...1) : -1
    return [1, 7].enumerated().map { k, batch in
      let T = m.steps ?? d.int(1...6)
      let x = (0..<(batch * T * m.features)).map { _ in value(1.5) }
      var lengths: [Int]?
      if m.lengths != nil && k != nullLengths {
        var l = (0..<batch).map { b in batch == 1 ? d.int(0...T) : b == 0 ? 0 : b == 1 ? T : d.int(0...T) }
        for i in stride(from: l.count - 1, to: 0, by: -1) { l.swapAt(i, d.int(0...i)) }
        lengths = l
      }
      let initial = m.initialStates.map { s in (0..<(batch * s.features)).map { _ in value(0.8) } }
      return HarnessCase(batch: batch, steps: T, x: x, lengths: lengths, initial: initial)
    }
  }

  /// One model's comparisons; statuses that are wrong go to `failures`.
  private func check(_ entry: Entry, binary: String, fast: Int, libm: Int, failures: inout [String]) throws -> ErrorTable {
    let model = entry.model
    let (bound, optimised) = try EndToEnd.modules(for: entry.path)
    let weights = Dictionary(uniqueKeysWithValues: bound.parameters.map { ($0.name, $0.values) })
    let shapes = Dictionary(uniqueKeysWithValues: bound.parameters.map { ($0.name, $0.shape) })
    if shapes != model.tensors {
      failures.append("seed \(entry.seed): grucc bound \(shapes.sorted { $0.key < $1.key }), the description implies \(model.tensors.sorted { $0.key < $1.key })\n\(entry.text)\(replay(entry.seed))")
    }
    let reference = ReferenceGRU(model: model, weights: weights)
    var table = ErrorTable()
    for (index, variant, label) in [(fast, model, "C"), (libm, entry.libm, "libm C")] {
      let input = URL(fileURLWithPath: entry.path).deletingLastPathComponent().appendingPathComponent("input_\(index).bin").path
      let ran = try ProcessRunner.run(binary, [String(index), input], timeout: 60, environment: Clang.sanitizerEnvironment)
      guard ran.succeeded, ran.stderr.isEmpty else { throw EndToEnd.Failure("\(label) harness: \(ran.summary)") }
      let results = try CHarness(variant).parse(ran.stdout, cases: entry.cases)
      for (k, c) in entry.cases.enumerated() {
        let r = results[k]
        let place = "case \(k) (B \(c.batch), T \(c.steps), lengths \(c.lengths.map { "\($0)" } ?? "NULL"))"
        var statuses = [("run_batch", r.batchStatus, 0), ("run", r.runStatus, 0)]
        statuses += r.refusals.sorted { $0.key < $1.key }.map { ($0.key, $0.value, -1) }
        if model.streams { statuses.append(("step", r.streamStatus ?? -99, 0)) }
        if model.streams && model.steps != nil { statuses.append(("step past T", r.pastEndStatus ?? -99, -2)) }
        if model.steps != nil { statuses.append(("run_batch with another T", r.wrongStepsStatus ?? -99, -1)) }
        for (call, status, expected) in statuses where status != expected {
          failures.append("seed \(entry.seed): \(label) \(place): \(call) returned \(status), expected \(expected)\(replay(entry.seed))")
        }
        if !r.untouched { failures.append("seed \(entry.seed): \(label) \(place): a refused run_batch wrote an output") }

        let expected = try reference.run(c.referenceInputs(for: model))
        for o in model.outputs {
          let at = "\(place), output '\(o.name)'"
          table.compare("\(label) run_batch-reference", r.batch[o.name] ?? [], expected.output(o.name)?.flat ?? [], at: at, relativeAboveOne: true)
          if model.streams {
            let all = r.batch[o.name] ?? []
            let batch = o.shape.isSequence ? c.validStepsOnly(all, features: o.shape.features) : all
            table.compare("\(label) step/read-run_batch", r.stream[o.name] ?? [], batch, at: at, relativeAboveOne: true)
          }
        }
        var first = c.referenceInputs(for: model)
        first.x = [first.x[0]]
        first.lengths = nil
        first.initial = first.initial.mapValues { [$0[0]] }
        let single = try reference.run(first)
        for o in model.outputs {
          table.compare("\(label) run-reference", r.run[o.name] ?? [], single.output(o.name)?.flat ?? [], at: "\(place), output '\(o.name)'", relativeAboveOne: true)
        }
        if model.streams {
          let finals = (0..<c.batch).flatMap { b in model.layers.flatMap { expected.finalStates[$0.name]![b] } }
          table.compare("\(label) get_state-reference", r.streamState ?? [], finals, at: place, relativeAboveOne: true)
        }
        guard label == "C" else { continue }
        let interpreted = try Interpreter.run(optimised, inputs: c.interpreterInputs(for: model))
        let highLevel = try Interpreter.run(bound, inputs: c.interpreterInputs(for: model))
        for o in model.outputs {
          let at = "\(place), output '\(o.name)'"
          let ref = expected.output(o.name)?.flat ?? []
          table.compare("interpreter-reference", interpreted.first { $0.name == o.name }?.value.values ?? [], ref, at: at, relativeAboveOne: true)
          table.compare("interpreter(bind-weights)-reference", highLevel.first { $0.name == o.name }?.value.values ?? [], ref, at: at, relativeAboveOne: true)
          table.compare("C-interpreter", r.batch[o.name] ?? [], interpreted.first { $0.name == o.name }?.value.values ?? [], at: at, relativeAboveOne: true)
        }
      }
    }
    return table
  }
}
