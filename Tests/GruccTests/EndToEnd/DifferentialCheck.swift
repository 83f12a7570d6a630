// The numeric end-to-end check shared by SpecTests and OptionCoverageTests: compile a .gru file with
// the Driver, run its C through the harness, and compare with grucc's interpreter (before and after
// lowering) and with the independent reference, value by value.

import Foundation
import Testing

@testable import GruccCore

/// Paths, inputs and pipeline access for the end-to-end tests.
enum EndToEnd {
  static let repositoryRoot = URL(fileURLWithPath: Golden.root)

  /// The base names of Specs/*.gru, sorted.
  static let specNames: [String] = {
    let dir = repositoryRoot.appendingPathComponent("Specs").path
    let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
    return files.filter { $0.hasSuffix(".gru") }.map { String($0.dropLast(4)) }.sorted()
  }()

  static func specPath(_ name: String) -> String {
    repositoryRoot.appendingPathComponent("Specs/\(name).gru").path
  }

  static func temporaryDirectory(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("grucc-e2e-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  /// The C flags of checks that compare numbers where an optimised build of the same code is
  /// checked elsewhere (every option model at -O3 in OptionCoverageTests and FastPathTests, the
  /// Specs in SpecTests, the storages' own builds at -O2, -O3 and -march=native): every level
  /// gives the same bits here (x86-64 without an FMA target contracts nothing, and no level
  /// turns on -ffast-math), and clang's optimiser was most of these checks' time (an option
  /// model: 0.55 CPU-s at -O3, 0.03 at -O0; a fixture: 0.3 at -O2).
  static let unoptimised = ["-O0"]

  /// ≤ 1e-5 for f32 models, ≤ 1e-12 for f64, as absolute errors.
  static func tolerance(_ p: RefModel.Precision) -> Double { p == .f32 ? 1e-5 : 1e-12 }

  struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
  }

  /// The module right after bind-weights (high-level `gru`/`dense` ops) and the fully optimised
  /// one, from the same pipeline the Driver runs.
  static func modules(for path: String) throws -> (bound: Module, optimised: Module) {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let source = SourceFile(path: path, bytes: bytes)
    let front = Compiler.frontEnd(source)
    guard let model = front.model, let module = front.module else {
      throw Failure(
        "front end failed:\n" + DiagnosticRenderer(source: source, colors: false).render(front.diagnostics.diagnostics))
    }
    var tensors: [NamedTensor]?
    if let spec = model.weights {
      let dir = (path as NSString).deletingLastPathComponent
      let file = spec.path.hasPrefix("/") ? spec.path : dir + "/" + spec.path
      tensors = try WeightFiles.read([UInt8](try Data(contentsOf: URL(fileURLWithPath: file))), path: spec.path)
    }
    let pipeline = PassPipeline.standard(weights: Compiler.weightSource(for: model, file: tensors))
    func run(_ p: PassPipeline) throws -> Module {
      var diagnostics = DiagnosticEngine()
      switch p.run(module, diagnostics: &diagnostics) {
      case .success(let m): return m
      case .failure(let f): throw Failure("pipeline failed: \(f) \(diagnostics.diagnostics)")
      }
    }
    return (try run(pipeline.prefix(through: "bind-weights")!), try run(pipeline))
  }

  /// SplitMix64: small, seedable and the same on every platform.
  struct Random {
    private var state: UInt64
    init(_ seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }

    mutating func uniform(_ low: Double, _ high: Double) -> Double {
      low + (high - low) * Double(next() >> 11) / Double(1 << 53)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int {
      range.lowerBound + Int(next() % UInt64(range.count))
    }
  }

  /// Seeded batches of B = 3: the given step counts (the fixed T three times for a fixed-steps
  /// model); with lengths, each batch holds a 0, a T and a random length, and the last batch
  /// passes NULL lengths. Values are exact in the model's precision.
  static func cases(for model: RefModel, seed: UInt64, steps: [Int] = [1, 4, 9], batch: Int = 3) -> [HarnessCase] {
    var rng = Random(seed)
    func value(_ low: Double, _ high: Double) -> Double {
      let v = rng.uniform(low, high)
      return model.precision == .f32 ? Double(Float(v)) : v
    }
    let all = model.steps.map { [$0, $0, $0] } ?? steps
    return all.enumerated().map { k, T in
      let x = (0..<(batch * T * model.features)).map { _ in value(-1.5, 1.5) }
      var lengths: [Int]?
      if model.lengths != nil && !(k == all.count - 1 && all.count > 1) {
        var l = (0..<batch).map { b in b == 0 ? 0 : b == 1 ? T : rng.int(0...T) }
        for i in stride(from: l.count - 1, to: 0, by: -1) { l.swapAt(i, rng.int(0...i)) }
        lengths = l
      }
      let initial = model.initialStates.map { s in (0..<(batch * s.features)).map { _ in value(-0.8, 0.8) } }
      return HarnessCase(batch: batch, steps: T, x: x, lengths: lengths, initial: initial)
    }
  }
}

/// Largest absolute differences seen, by comparison, with where the worst one was.
struct ErrorTable {
  struct Entry {
    var maxError = 0.0
    var worst = ""
  }
  private(set) var entries: [(label: String, entry: Entry)] = []

  /// Compares two arrays value by value; a NaN or a size mismatch counts as an infinite error.
  /// With `relativeAboveOne`, an error is divided by |expected| where that exceeds 1: absolute
  /// for values up to 1, relative beyond (for models whose values grow large).
  mutating func compare(
    _ label: String, _ actual: [Double], _ expected: [Double], at place: String, relativeAboveOne: Bool = false
  ) {
    var worst = (error: 0.0, index: -1)
    if actual.count != expected.count {
      worst = (.infinity, -1)
    } else {
      for i in actual.indices {
        let e = abs(actual[i] - expected[i]) / (relativeAboveOne ? max(1, abs(expected[i])) : 1)
        let error = e.isNaN ? Double.infinity : e
        if error > worst.error { worst = (error, i) }
      }
    }
    let index =
      entries.firstIndex { $0.label == label }
      ?? {
        entries.append((label, Entry()))
        return entries.count - 1
      }()
    if worst.error > entries[index].entry.maxError || (worst.error.isInfinite && entries[index].entry.worst.isEmpty) {
      let detail =
        worst.index < 0
        ? "\(actual.count) values, expected \(expected.count)"
        : "value \(worst.index): \(actual[worst.index]) vs \(expected[worst.index])"
      entries[index].entry = Entry(maxError: worst.error, worst: "\(place), \(detail)")
    }
  }

  func maxError(_ label: String) -> Double? { entries.first { $0.label == label }?.entry.maxError }

  var summary: String {
    entries.map { "\($0.label) \(String(format: "%.2e", $0.entry.maxError))" }.joined(separator: ", ")
  }

  /// One expectation per comparison, so a failure names the comparison and its worst value.
  func expectWithin(_ tolerance: Double, model: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    expectWithin({ _ in tolerance }, model: model, sourceLocation: sourceLocation)
  }

  /// The same with a tolerance per comparison.
  func expectWithin(
    _ toleranceOf: (String) -> Double, model: String, sourceLocation: Testing.SourceLocation = #_sourceLocation
  ) {
    for (label, entry) in entries {
      let tolerance = toleranceOf(label)
      #expect(
        entry.maxError <= tolerance,
        "\(model): \(label): max abs error \(entry.maxError) > \(tolerance) (worst at \(entry.worst))",
        sourceLocation: sourceLocation)
    }
  }
}

/// One model through every path: the Driver's C (run_batch, run, streaming) against the interpreter
/// on the optimised and on the high-level module, and against the reference.
struct DifferentialCheck {
  var modelPath: String
  var model: RefModel
  var cases: [HarnessCase]
  /// Extra flags for the C compiler, after the strict ones.
  var cFlags = ["-O3"]
  /// Extra flags for grucc (`--activations libm`).
  var gruccFlags: [String] = []
  /// The interpreter computes activations as the C of the flags does.
  var activations: ActivationMode {
    zip(gruccFlags, gruccFlags.dropFirst()).contains { $0 == "--activations" && ActivationMode(name: $1) == .libm } ? .libm : .fast
  }
  /// Whether grucc writes the weights to a blob the C takes at run time (`--weights external`).
  var externalWeights = false
  /// Extra environment for the harness (sanitizer options).
  var environment: [String: String] = [:]
  /// The weights the reference uses; by default the ones grucc bound. A test that wrote the
  /// weights file itself passes its own values, so weight loading is checked too.
  var referenceWeights: [String: [Double]]? = nil
  /// int8 storage: the comparisons with the reference and with the high-level interpreter (which
  /// multiply the dequantised weights by unquantised inputs) within this, the C and the optimised
  /// interpreter (the same integer products) within `exact`.
  var quantised: (reference: Double, exact: Double)? = nil

  func run(sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> ErrorTable {
    let clang = try #require(Clang.compiler, sourceLocation: sourceLocation)
    let dir = try EndToEnd.temporaryDirectory(model.name)
    // A failing model's files stay for debugging; GRUCC_E2E_KEEP=1 keeps every model's.
    var keep = false
    defer {
      if !keep && ProcessInfo.processInfo.environment["GRUCC_E2E_KEEP"] == nil {
        try? FileManager.default.removeItem(at: dir)
      }
    }

    // C through the Driver, exactly as `grucc model.gru -o dir/model.c` would write it.
    let cPath = dir.appendingPathComponent("\(model.name).c").path
    let driven = Driver.run([modelPath, "-o", cPath] + gruccFlags + (externalWeights ? ["--weights", "external"] : []))
    try #require(
      driven.exitCode == 0, "grucc failed on \(modelPath):\n\(driven.stderr)", sourceLocation: sourceLocation)
    let harness = CHarness(model, externalWeights: externalWeights)
    let harnessPath = dir.appendingPathComponent("harness.c").path
    let inputPath = dir.appendingPathComponent("input.bin").path
    let binary = dir.appendingPathComponent("harness").path
    try harness.source(header: "\(model.name).h").write(toFile: harnessPath, atomically: false, encoding: .utf8)
    try harness.inputFile(cases).write(to: URL(fileURLWithPath: inputPath))
    let built = try clang.compile(CCompiler.strictC + cFlags + [cPath, harnessPath, "-o", binary, "-lm"])
    let compiled = built.succeeded
    keep = !compiled
    try #require(
      compiled, "C compile failed (files kept in \(dir.path)):\n\(built.summary)", sourceLocation: sourceLocation)
    let blobPath = dir.appendingPathComponent("\(model.name).weights").path
    let ran = try ProcessRunner.run(
      binary, [inputPath] + (externalWeights ? [blobPath] : []), timeout: 120, environment: environment)
    let finished = ran.succeeded
    let quiet = ran.stderr.isEmpty
    keep = !finished || !quiet
    try #require(
      finished, "harness failed (files kept in \(dir.path)):\n\(ran.summary)", sourceLocation: sourceLocation)
    #expect(
      quiet, "the harness wrote to stderr (files kept in \(dir.path)):\n\(ran.stderr.prefix(4000))",
      sourceLocation: sourceLocation)
    let results = try harness.parse(ran.stdout, cases: cases)
    if externalWeights {
      #expect(results.first?.weightsStatus == 0, "check_weights refused the blob grucc wrote", sourceLocation: sourceLocation)
    }

    let (bound, optimised) = try EndToEnd.modules(for: modelPath)
    let weights = Dictionary(uniqueKeysWithValues: bound.parameters.map { ($0.name, $0.values) })
    let boundShapes = Dictionary(uniqueKeysWithValues: bound.parameters.map { ($0.name, $0.shape) })
    let expectedShapes = model.tensors
    #expect(
      boundShapes == expectedShapes,
      """
      \(model.name): grucc bound tensors \(boundShapes.sorted { $0.key < $1.key }),
      the description implies \(expectedShapes.sorted { $0.key < $1.key })
      """,
      sourceLocation: sourceLocation)
    let reference = ReferenceGRU(model: model, weights: referenceWeights ?? weights)

    var table = ErrorTable()
    var peaks: [String: Double] = [:]
    for (k, c) in cases.enumerated() {
      let r = results[k]
      let place = "case \(k) (B \(c.batch), T \(c.steps), lengths \(c.lengths.map { "\($0)" } ?? "NULL"))"
      #expect(
        r.batchStatus == 0, "\(model.name) \(place): run_batch returned \(r.batchStatus)",
        sourceLocation: sourceLocation)
      #expect(r.runStatus == 0, "\(model.name) \(place): run returned \(r.runStatus)", sourceLocation: sourceLocation)
      for (call, status) in r.refusals.sorted(by: { $0.key < $1.key }) {
        #expect(
          status == -1, "\(model.name) \(place): \(call) returned \(status), expected ERROR_ARGUMENT (-1)",
          sourceLocation: sourceLocation)
      }
      #expect(
        r.untouched, "\(model.name) \(place): a refused run_batch wrote to an output", sourceLocation: sourceLocation)

      let expected = try reference.run(c.referenceInputs(for: model))
      let interpreted = try Interpreter.run(optimised, inputs: c.interpreterInputs(for: model), activations: activations)
      let highLevel = try Interpreter.run(bound, inputs: c.interpreterInputs(for: model), activations: activations)
      for o in model.outputs {
        let at = "\(place), output '\(o.name)'"
        let fromC = try #require(r.batch[o.name], sourceLocation: sourceLocation)
        let ref = try #require(expected.output(o.name), "reference has no '\(o.name)'", sourceLocation: sourceLocation)
          .flat
        let interp = try #require(interpreted.first { $0.name == o.name }, sourceLocation: sourceLocation).value.values
        let high = try #require(highLevel.first { $0.name == o.name }, sourceLocation: sourceLocation).value.values
        table.compare("C-reference", fromC, ref, at: at)
        table.compare("C-interpreter", fromC, interp, at: at)
        table.compare("C-interpreter(bind-weights)", fromC, high, at: at)
        table.compare("interpreter-reference", interp, ref, at: at)
        peaks[o.name] = max(peaks[o.name] ?? 0, ref.map(abs).max() ?? 0)
      }

      // <model>_run: sequence 0 alone, every step valid.
      var first = c.referenceInputs(for: model)
      first.x = [first.x[0]]
      first.lengths = nil
      first.initial = first.initial.mapValues { [$0[0]] }
      let single = try reference.run(first)
      for o in model.outputs {
        table.compare(
          "run-reference", r.run[o.name] ?? [], single.output(o.name)?.flat ?? [], at: "\(place), output '\(o.name)'")
      }

      guard model.streams else { continue }
      #expect(
        r.streamStatus == 0, "\(model.name) \(place): step returned \(r.streamStatus ?? -99)",
        sourceLocation: sourceLocation)
      if model.steps != nil {
        #expect(
          r.pastEndStatus == -2,
          "\(model.name) \(place): a step past the fixed T returned \(r.pastEndStatus ?? -99), expected -2",
          sourceLocation: sourceLocation)
      }
      for o in model.outputs {
        let all = r.batch[o.name] ?? []
        let batch = o.shape.isSequence ? c.validStepsOnly(all, features: o.shape.features) : all
        table.compare("stream-run_batch", r.stream[o.name] ?? [], batch, at: "\(place), output '\(o.name)'")
      }
      let finals = (0..<c.batch).flatMap { b in model.layers.flatMap { expected.finalStates[$0.name]![b] } }
      table.compare("stream state-reference", r.streamState ?? [], finals, at: place)
    }
    if model.steps != nil {
      for (k, r) in results.enumerated() {
        #expect(
          r.wrongStepsStatus == -1,
          "\(model.name) case \(k): run_batch with the wrong T returned \(r.wrongStepsStatus ?? -99)",
          sourceLocation: sourceLocation)
      }
    }
    if let quantised {
      table.expectWithin(
        { $0.contains("reference") || $0.contains("bind-weights") ? quantised.reference : quantised.exact },
        model: model.name, sourceLocation: sourceLocation)
    } else {
      table.expectWithin(EndToEnd.tolerance(model.precision), model: model.name, sourceLocation: sourceLocation)
    }
    // A comparison of zeros with zeros proves nothing: every output must carry signal somewhere.
    for o in model.outputs {
      let peak = peaks[o.name] ?? 0
      #expect(
        peak > 1e-3,
        "\(model.name): output '\(o.name)' never exceeds \(peak) in the reference, so comparing it proves nothing",
        sourceLocation: sourceLocation)
    }
    return table
  }
}
