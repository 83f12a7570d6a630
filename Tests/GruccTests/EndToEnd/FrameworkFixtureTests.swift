// Models trained elsewhere, end to end: each directory of Tests/Fixtures/import holds a model made
// by PyTorch, Keras or ONNX (Tools/make-fixtures.py), its inputs and the framework's own outputs.
// grucc compiles it, and both the interpreter and the generated C must reproduce the framework:
// max abs error ≤ 1e-5 for f32 models and ≤ 1e-12 for f64.

import Foundation
import Testing

@testable import GruccCore

/// One fixture directory and what its case.json says.
struct FrameworkFixture: Sendable {
  var name: String
  var directory: URL
  var source: String
  var precision: String
  var model: String
  var reference: String
  var description: String

  static let root = EndToEnd.repositoryRoot.appendingPathComponent("Tests/Fixtures/import")

  static let all: [FrameworkFixture] = {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
    return names.sorted().compactMap { name in
      let dir = root.appendingPathComponent(name)
      guard let data = try? Data(contentsOf: dir.appendingPathComponent("case.json")),
        let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
      else { return nil }
      return FrameworkFixture(
        name: name, directory: dir, source: json["source"] as? String ?? "", precision: json["precision"] as? String ?? "f32",
        model: json["model"] as? String ?? "", reference: json["reference"] as? String ?? "",
        description: json["description"] as? String ?? "")
    }
  }()

  static func named(_ name: String) -> FrameworkFixture? { all.first { $0.name == name } }

  var tolerance: Double { precision == "f64" ? 1e-12 : 1e-5 }

  func arrays(_ file: String) throws -> [(name: String, array: ArrayValue)] {
    let bytes = [UInt8](try Data(contentsOf: directory.appendingPathComponent(file)))
    return try Npz.read(bytes).map { ($0.name, ArrayValue(shape: $0.array.shape, values: $0.array.values)) }
  }
}

@Suite struct FrameworkFixtureTests {
  static let gruCases = FrameworkFixture.all.filter { $0.model.hasSuffix(".gru") }.map(\.name)
  static let onnxCases = FrameworkFixture.all.filter { $0.model.hasSuffix(".onnx") }.map(\.name)

  @Test func everySourceFrameworkHasFixtures() {
    let sources = Set(FrameworkFixture.all.map(\.source))
    #expect(sources.isSuperset(of: ["pytorch", "keras", "onnx"]), "fixtures found: \(FrameworkFixture.all.map(\.name))")
  }

  /// Weight files read in the framework's own convention (`weights ..., format pytorch|keras`).
  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"), arguments: gruCases)
  func weightFileModelsMatchTheirFramework(name: String) throws {
    let fixture = try #require(FrameworkFixture.named(name))
    let modelPath = fixture.directory.appendingPathComponent(fixture.model).path
    let table = try FixtureRunner(fixture: fixture, modelPath: modelPath).run()
    print("fixture \(name) (\(fixture.source), \(fixture.precision)): \(table.summary)")
    table.expectWithin(fixture.tolerance, model: name)
  }

  /// ONNX models: `grucc import` writes a .gru and its weights, which then compile and run. The
  /// import says how grucc's inputs and outputs lie in ONNX's (`ImportedTensorMap`): a GRU node's
  /// raw `[T, D, B, H]` is grucc's `[T, B, D·H]`, a stacked GRU's h0 and h_n are one tensor in
  /// ONNX and one per layer in grucc. The test converts ONNX's arrays by those maps.
  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"), arguments: onnxCases)
  func onnxModelsMatchTheirFramework(name: String) throws {
    let fixture = try #require(FrameworkFixture.named(name))
    let onnxPath = fixture.directory.appendingPathComponent(fixture.model).path
    let dir = try EndToEnd.temporaryDirectory("import-\(name)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let gruPath = dir.appendingPathComponent("\(name).gru").path
    let imported = Driver.run(["import", onnxPath, "-o", gruPath])
    try #require(imported.exitCode == 0, "grucc import failed:\n\(imported.stderr)")
    #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("\(name).safetensors").path))

    let model = try Driver.onnxModel([UInt8](try Data(contentsOf: URL(fileURLWithPath: onnxPath))), path: onnxPath)
    let maps = try OnnxImporter.importModel(model, modelName: name, weightsFile: "w.safetensors", sourceName: onnxPath).get()
    let timeMajor = maps.source.contains("layout time-major")
    var runner = FixtureRunner(fixture: fixture, modelPath: gruPath)
    func convert(_ map: ImportedTensorMap?, _ a: ArrayValue) -> ArrayValue {
      guard let map else { return a }
      return map.gruccArray(from: a.values, shape: a.shape, timeMajor: timeMajor) ?? ArrayValue(shape: [-1], values: [])
    }
    runner.inputKeys = Dictionary(uniqueKeysWithValues: maps.inputs.map { ($0.grucc, $0.framework) })
    runner.convertInput = { grucc, a in convert(maps.inputs.first { $0.grucc == grucc }, a) }
    runner.outputKeys = Dictionary(uniqueKeysWithValues: maps.outputs.map { ($0.grucc, $0.framework) })
    runner.convertOutput = { grucc, a in convert(maps.outputs.first { $0.grucc == grucc }, a) }
    let table = try runner.run()
    print("fixture \(name) (onnx, \(fixture.precision)): \(table.summary)")
    table.expectWithin(fixture.tolerance, model: name)
  }

  /// `grucc model.onnx -o kws.c` compiles without an intermediate file, and names the model after
  /// the file it writes (kws_run_batch); `--name` chooses the prefix instead.
  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"))
  func onnxFilesCompileDirectlyNamedAfterTheirOutput() throws {
    let fixture = try #require(FrameworkFixture.named("onnx_torch_gru"))
    let dir = try EndToEnd.temporaryDirectory("onnx-direct")
    defer { try? FileManager.default.removeItem(at: dir) }
    let onnx = fixture.directory.appendingPathComponent("model.onnx").path
    let clang = try #require(Clang.compiler)
    for (arguments, file, prefix) in [([String](), "kws.c", "kws"), (["--name", "wake_word"], "kws2.c", "wake_word")] {
      let cPath = dir.appendingPathComponent(file).path
      let result = Driver.run([onnx, "-o", cPath] + arguments)
      #expect(result.exitCode == 0, "\(result.stderr)")
      let c = try String(contentsOfFile: cPath, encoding: .utf8)
      #expect(c.contains("int \(prefix)_run_batch("), "the C is named \(prefix)")
      let built = try clang.compile(CCompiler.strictC + ["-c", cPath, "-o", dir.appendingPathComponent("\(prefix).o").path])
      #expect(built.exitCode == 0, "\(built.stderr)")
    }
    // Two models imported side by side link together: their symbols differ.
    let both = try clang.compile(CCompiler.strictC + [
      dir.appendingPathComponent("kws.o").path, dir.appendingPathComponent("wake_word.o").path, "-shared", "-o",
      dir.appendingPathComponent("both.so").path,
    ])
    #expect(both.exitCode == 0, "\(both.stderr)")
  }
}

/// Runs one compiled fixture through the interpreter (`grucc run`) and the generated C, and
/// compares both with the framework's outputs. `convertOutput` turns a framework output into
/// grucc's layout where the two differ (ONNX's `[T, D, B, H]`).
struct FixtureRunner {
  var fixture: FrameworkFixture
  /// A .gru or .onnx file the Driver compiles.
  var modelPath: String
  /// Converts a framework output to grucc's layout, given grucc's output name.
  var convertOutput: (String, ArrayValue) -> ArrayValue = { $1 }
  /// Input names of the compiled model → key in inputs.npz.
  var inputKeys: [String: String] = [:]
  /// Output names of the compiled model → key in expect.npz.
  var outputKeys: [String: String] = [:]
  /// Converts a fixture input to what the compiled model takes.
  var convertInput: (String, ArrayValue) -> ArrayValue = { $1 }

  func run() throws -> ErrorTable {
    let inputs = try fixture.arrays("inputs.npz")
    let expected = try fixture.arrays("expect.npz")
    let dir = try EndToEnd.temporaryDirectory("fixture-\(fixture.name)")
    defer { try? FileManager.default.removeItem(at: dir) }

    // The compiled model's interface, from the same front end and pipeline as the Driver.
    let module = try EndToEnd.modules(for: modelPath).optimised
    let iface = CInterface(module)
    func input(_ name: String) throws -> ArrayValue {
      let key = inputKeys[name] ?? name
      let a = try #require(inputs.first { $0.name == key }?.array, "inputs.npz has no '\(key)' for input '\(name)'")
      return convertInput(name, a)
    }
    func expectation(_ name: String) throws -> [Double] {
      let key = outputKeys[name] ?? name
      let a = try #require(expected.first { $0.name == key }?.array, "expect.npz has no '\(key)' for output '\(name)'")
      return convertOutput(name, a).values
    }
    var table = ErrorTable()

    // The interpreter, through `grucc run` with every input from one .npz.
    var named: [(name: String, values: [Double], shape: [Int], dtype: NpyDType)] = []
    var argumentNames = [iface.input.name] + iface.initialStates.map(\.name)
    if let l = iface.lengths { argumentNames.insert(l, at: 1) }
    for name in argumentNames {
      let a = try input(name)
      named.append((name: name, values: a.values, shape: a.shape, dtype: NpyDType.f64))
    }
    let inputPath = dir.appendingPathComponent("inputs.npz").path
    try Data(Npz.write(named)).write(to: URL(fileURLWithPath: inputPath))
    let outPath = dir.appendingPathComponent("out.npz").path
    let ran = Driver.run(["run", modelPath, "--input", inputPath, "-o", outPath])
    try #require(ran.exitCode == 0, "grucc run failed:\n\(ran.stderr)")
    let outs = try Npz.read([UInt8](try Data(contentsOf: URL(fileURLWithPath: outPath))))
    for o in iface.outputs {
      let got = try #require(outs.first { $0.name == o.name }, "grucc run wrote no '\(o.name)'")
      table.compare("interpreter", got.array.values, try expectation(o.name), at: o.name)
    }

    // The generated C, through run_batch.
    let clang = try #require(Clang.compiler)
    let cPath = dir.appendingPathComponent("\(module.name).c").path
    let compiled = Driver.run([modelPath, "-o", cPath])
    try #require(compiled.exitCode == 0, "grucc failed:\n\(compiled.stderr)")
    let x = try input(iface.input.name)
    let (batch, steps) =
      module.layout == .timeMajor ? (x.shape[1], x.shape[0]) : (x.shape[0], x.shape[1])
    // The same C streamed: each sequence fed step by step (`<p>_step`), its sequence outputs
    // collected from the steps that give the gru layers a step, its vectors read at the end. For
    // models that stream, batch-major, without lengths or initial states (each sequence then runs
    // its T steps from a reset state).
    let streams =
      iface.streamBlocker == nil && module.layout == .batchMajor && iface.lengths == nil && iface.initialStates.isEmpty
    // One program does both, run_batch and then the stream, so that clang compiles the model once
    // (it was two programs, each compiling the model: a third of the fixtures' clang time).
    let source = try harnessSource(
      iface, header: "\(module.name).h", batch: batch, steps: steps, input: input,
      stream: streams ? streamSource(iface, batch: batch, steps: steps) : nil)
    let sourcePath = dir.appendingPathComponent("harness.c").path
    try source.write(toFile: sourcePath, atomically: false, encoding: .utf8)
    let binary = dir.appendingPathComponent("harness").path
    // The framework's numbers are what this checks; the same layers' C runs optimised in
    // SpecTests, OptionCoverageTests and SequenceLayerTests (EndToEnd.unoptimised says why).
    let built = try clang.compile(CCompiler.strictC + EndToEnd.unoptimised + [cPath, sourcePath, "-o", binary, "-lm"])
    try #require(built.exitCode == 0, "clang failed:\n\(built.stderr)")
    let result = try ProcessRunner.run(binary, [])
    try #require(result.exitCode == 0, "harness failed (status \(result.exitCode)): \(result.stderr)")
    // `name v0 v1 ...` lines in %a: run_batch's outputs, then the stream's as `stream.name`.
    var printed: [String: [Double]] = [:]
    for line in result.stdout.split(separator: "\n") {
      let parts = line.split(separator: " ")
      guard let key = parts.first else { continue }
      printed[String(key)] = parts.dropFirst().compactMap { Double(String($0)) }
    }
    for o in iface.outputs {
      table.compare("C", printed[o.name] ?? [], try expectation(o.name), at: o.name)
      if streams {
        table.compare("C stream", printed["stream.\(o.name)"] ?? [], try expectation(o.name), at: o.name)
      }
    }
    return table
  }

  /// A function for the harness that streams each of the `batch` sequences of its `x` through
  /// `<p>_step` (after a reset) and prints the outputs as `stream.name v0 v1 ...`: sequence outputs
  /// from the steps that returned OK (NO_OUTPUT steps give none), vector outputs from `<p>_read`
  /// after the last step. Its arrays are its own, so run_batch's outputs cannot stand in for them.
  private func streamSource(_ iface: CInterface, batch: Int, steps: Int) -> String {
    let real = iface.real
    let symbol = iface.names.symbol
    let macro = symbol.uppercased()
    let inputSize = iface.input.features
    var s = "static \(symbol)_state stream_state;\n"
    let sequences = iface.outputs.enumerated().filter { $0.element.isSequence }
    let vectors = iface.outputs.enumerated().filter { !$0.element.isSequence }
    for (k, o) in iface.outputs.enumerated() {
      // Room for every input step: a stream gives at most one output step per input step.
      let count = o.isSequence ? batch * steps * o.features : batch * o.features
      s += "static \(real) stream_out\(k)[\(count)];\n"
    }
    s += "\nstatic int stream(void) {\n  int b, t;\n  size_t i, produced = 0;\n"
    s += "  for (b = 0; b < \(batch); b++) {\n    \(symbol)_reset(&stream_state);\n"
    s += "    for (t = 0; t < \(steps); t++) {\n"
    var stepArguments = ["&stream_state", "x + ((size_t)b * \(steps) + (size_t)t) * \(inputSize)"]
    for (k, o) in sequences { stepArguments.append("stream_out\(k) + produced * \(o.features)") }
    s += "      int status = \(symbol)_step(\(stepArguments.joined(separator: ", ")));\n"
    // NO_OUTPUT exists where sequence layers can hold a step back; elsewhere OK is the only success.
    s += "      if (status == \(macro)_OK) produced++;\n"
    s += "#ifdef \(macro)_NO_OUTPUT\n      else if (status != \(macro)_NO_OUTPUT) return 1;\n"
    s += "#else\n      else return 1;\n#endif\n    }\n"
    if !vectors.isEmpty {
      let readArguments = ["&stream_state"] + vectors.map { "stream_out\($0.offset) + (size_t)b * \($0.element.features)" }
      s += "    if (\(symbol)_read(\(readArguments.joined(separator: ", "))) != \(macro)_OK) return 1;\n"
    }
    // A model with vector outputs only counts its steps for nothing.
    s += "  }\n  (void)produced;\n"
    for (k, o) in iface.outputs.enumerated() {
      let count = o.isSequence ? "produced * \(o.features)" : "(size_t)\(batch * o.features)"
      s += "  printf(\"stream.\(o.name)\");\n"
      s += "  for (i = 0; i < \(count); i++) printf(\" %a\", (double)stream_out\(k)[i]);\n"
      s += "  printf(\"\\n\");\n"
    }
    s += "  return 0;\n}\n\n"
    return s
  }

  /// A main() that calls run_batch on the fixture's inputs (embedded as literals) and prints each
  /// output as `name v0 v1 ...` in hexadecimal floating point, so nothing is lost in printing;
  /// then, given the stream's function (`streamSource`), streams the same inputs.
  private func harnessSource(
    _ iface: CInterface, header: String, batch: Int, steps: Int, input: (String) throws -> ArrayValue,
    stream: String?
  ) throws -> String {
    let real = iface.real
    let symbol = iface.names.symbol
    func literals(_ v: [Double]) -> String { v.map { "\($0)" }.joined(separator: ", ") }
    var s = "#include <stdio.h>\n#include \"\(header)\"\n\n"
    var arguments = ["x", "\(batch)", "\(steps)"]
    s += "static const \(real) x[] = {\(literals(try input(iface.input.name).values))};\n"
    if let l = iface.lengths {
      s += "static const int lengths[] = {\(try input(l).values.map { String(Int($0)) }.joined(separator: ", "))};\n"
      arguments.append("lengths")
    }
    for (k, state) in iface.initialStates.enumerated() {
      s += "static const \(real) initial\(k)[] = {\(literals(try input(state.name).values))};\n"
      arguments.append("initial\(k)")
    }
    let macro = symbol.uppercased()
    // A conv1d, pad or pool may change the number of steps of the sequence outputs.
    let outputSteps = iface.sequenceLayers.isEmpty ? "\(steps)" : "\(macro)_SEQUENCE_STEPS(\(steps))"
    for (k, o) in iface.outputs.enumerated() {
      let count = o.isSequence ? "(size_t)\(batch) * \(outputSteps) * \(o.features)" : "\(batch * o.features)"
      s += "static \(real) out\(k)[\(count)];\n"
      arguments.append("out\(k)")
    }
    s += "static \(real) scratch[\(macro)_SCRATCH_SIZE(\(batch), \(steps)) > 0 ? \(macro)_SCRATCH_SIZE(\(batch), \(steps)) : 1];\n\n"
    arguments.append("scratch")
    s += stream ?? ""
    s += "int main(void) {\n  size_t i;\n"
    s += "  if (\(symbol)_run_batch(\(arguments.joined(separator: ", "))) != \(macro)_OK) return 1;\n"
    for (k, o) in iface.outputs.enumerated() {
      s += "  printf(\"\(o.name)\");\n"
      s += "  for (i = 0; i < sizeof out\(k) / sizeof out\(k)[0]; i++) printf(\" %a\", (double)out\(k)[i]);\n"
      s += "  printf(\"\\n\");\n"
    }
    // The stream's own failure status, 2, tells it from run_batch's.
    if stream != nil { s += "  if (stream() != 0) return 2;\n" }
    s += "  return 0;\n}\n"
    return s
  }
}
