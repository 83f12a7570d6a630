// conv1d end to end (issue 15): models in the style of OptionCoverageTests whose sequence layers
// (every padding, stride, dilation, groups, no bias, an activation, two convolutions in a row)
// feed a gru; the C, the interpreter and the independent reference must agree, the C and the
// interpreter bit for bit where the model is f64 (and within f32 rounding otherwise).

import Foundation
import Testing

@testable import GruccCore

@Suite struct SequenceLayerTests {
  private static func gru(_ source: String, _ hidden: Int) -> RefLayer {
    RefLayer(name: "h", source: source, hidden: hidden, reset: .after, update: .keepsState, bias: .separate)
  }

  /// Sequence outputs have T' steps (the header's SEQUENCE_STEPS(T)).
  static let models: [RefModel] = [
    RefModel(
      name: "conv_causal", precision: .f32, features: 3,
      statements: [
        .conv1d(RefConv(name: "c", source: "x", filters: 4, kernel: 3, padding: .causal, activation: .relu)),
        .gru(gru("c", 5)), .output("y", .name("h")), .output("s", .state("h")), .output("cv", .name("c")),
      ]),
    RefModel(
      name: "conv_same_stride2", precision: .f64, features: 2,
      statements: [
        .conv1d(RefConv(name: "c", source: "x", filters: 3, kernel: 4, stride: 2, padding: .same)),
        .gru(gru("c", 4)), .output("s", .state("h")), .output("m", .reduce(.mean, .name("h"))),
        .output("y", .name("h")),
      ]),
    RefModel(
      name: "conv_valid_dilation2", precision: .f32, features: 3, layout: .timeMajor,
      statements: [
        .conv1d(RefConv(name: "c", source: "x", filters: 4, kernel: 3, dilation: 2, padding: .valid, activation: .tanh)),
        .gru(gru("c", 4)), .output("d", .dense(.state("h"), units: 2)),
      ]),
    RefModel(
      name: "conv_same_odd", precision: .f64, features: 2,
      statements: [
        .conv1d(RefConv(name: "c", source: "x", filters: 3, kernel: 4, padding: .same)),
        .gru(gru("c", 3)), .output("y", .name("h")),
      ]),
    RefModel(
      name: "conv_depthwise_no_bias", precision: .f64, features: 3,
      statements: [
        .conv1d(RefConv(name: "c", source: "x", filters: 6, kernel: 2, groups: 3, padding: .causal, bias: false)),
        .gru(gru("c", 4)), .output("y", .name("h")),
      ]),
    RefModel(
      name: "conv_groups_stride2", precision: .f32, features: 4,
      statements: [
        .conv1d(RefConv(name: "c", source: "x", filters: 6, kernel: 3, stride: 2, groups: 2, padding: .causal)),
        .gru(gru("c", 4)), .output("s", .state("h")),
      ]),
    RefModel(
      name: "conv_conv_gru", precision: .f64, features: 2,
      statements: [
        .conv1d(RefConv(name: "c1", source: "x", filters: 3, kernel: 2, padding: .causal, activation: .relu)),
        .conv1d(RefConv(name: "c2", source: "c1", filters: 4, kernel: 3, stride: 2, padding: .valid, activation: .tanh)),
        .gru(gru("c2", 4)), .output("s", .state("h")), .output("l", .reduce(.last, .name("h"))),
      ]),
    RefModel(
      name: "conv_fixed_steps", precision: .f32, features: 2, steps: 9,
      statements: [
        .conv1d(RefConv(name: "c", source: "x", filters: 3, kernel: 3, padding: .valid)),
        .gru(gru("c", 3)), .output("s", .state("h")),
      ]),
    // The issue's stack (batchnorm aside): causal conv, ZeroPadding1D((2, 0)), AveragePooling1D(3, 1).
    RefModel(
      name: "conv_pad_pool", precision: .f32, features: 2,
      statements: [
        .conv1d(RefConv(name: "c", source: "x", filters: 5, kernel: 6, padding: .causal)),
        .sequence(.pad(name: "z", source: "c", before: 2, after: 0)),
        .sequence(.pool(RefPool(name: "p", source: "z", kind: .average, size: 3, stride: 1))),
        .gru(gru("p", 4)), .output("y", .name("h")), .output("s", .state("h")),
      ]),
    RefModel(
      name: "pad_after_max_pool", precision: .f64, features: 3,
      statements: [
        .sequence(.pad(name: "z", source: "x", before: 1, after: 3)),
        .sequence(.pool(RefPool(name: "p", source: "z", kind: .max, size: 3, stride: 2))),
        .gru(gru("p", 4)), .output("y", .name("h")), .output("pooled", .name("p")),
      ]),
    RefModel(
      name: "pool_same_average", precision: .f64, features: 2,
      statements: [
        .sequence(.pool(RefPool(name: "p", source: "x", kind: .average, size: 4, stride: 3, padding: .same))),
        .conv1d(RefConv(name: "c", source: "p", filters: 3, kernel: 2, padding: .same)),
        .gru(gru("c", 3)), .output("y", .name("h")), .output("pooled", .name("c")),
      ]),
    RefModel(
      name: "pool_same_max_stride1", precision: .f32, features: 2, layout: .timeMajor,
      statements: [
        .sequence(.pool(RefPool(name: "p", source: "x", kind: .max, size: 4, stride: 1, padding: .same))),
        .gru(gru("p", 3)), .output("y", .name("h")),
      ]),
  ]

  static let names = models.map(\.name)

  static func text(_ m: RefModel, seed: UInt64) -> String {
    var input = "input \(m.input)[\(m.features)]"
    if let steps = m.steps { input += ", steps \(steps)" }
    if m.layout == .timeMajor { input += ", layout time-major" }
    var lines = ["model \(m.name)", "precision \(m.precision.rawValue)", input]
    for s in m.statements {
      switch s {
      case .sequence(let l): lines.append(l.line)
      case .gru(let l):
        lines.append("gru \(l.name) = \(l.source) -> hidden \(l.hidden), reset after, update keeps-state, bias separate")
      case .binding(let name, let e, let isOutput):
        lines.append("\(isOutput ? "output" : "let") \(name) = \(RandomModels.render(e))")
      }
    }
    lines += ["init seed \(seed)", "init * uniform(-0.6, 0.6)"]
    return lines.joined(separator: "\n") + "\n"
  }

  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"), arguments: names)
  func convModelMatchesInterpreterAndReference(name: String) throws {
    let index = try #require(Self.names.firstIndex(of: name))
    let model = Self.models[index]
    let dir = try EndToEnd.temporaryDirectory("conv-\(name)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("\(name).gru").path
    try Self.text(model, seed: UInt64(index) + 1).write(toFile: path, atomically: false, encoding: .utf8)
    // Enough steps for every kernel; 33 crosses the sequence function's first chunk.
    let check = DifferentialCheck(
      modelPath: path, model: model, cases: EndToEnd.cases(for: model, seed: UInt64(index) + 5000, steps: [7, 10, 33]))
    let table = try check.run()
    print("e2e conv \(name) (\(model.precision.rawValue)): \(table.summary)")
  }

  /// The conv's C sums in the interpreter's order: its output, an output of the model, is equal bit for bit.
  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH")) func convOutputIsBitEqual() throws {
    let model = Self.models[0]
    let dir = try EndToEnd.temporaryDirectory("conv-bits")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("m.gru").path
    try Self.text(model, seed: 7).write(toFile: path, atomically: false, encoding: .utf8)
    var check = DifferentialCheck(
      modelPath: path, model: model, cases: EndToEnd.cases(for: model, seed: 77, steps: [6, 40]))
    check.cFlags = ["-O2", "-ffp-contract=off"]
    let table = try check.run()
    let worst = table.entries.first { $0.label == "C-interpreter" }?.entry.maxError ?? 1
    #expect(worst == 0, "C and interpreter differ by \(worst)")
  }

  /// The generated C of each model compiles without a warning under the team's flags, as C99
  /// (gcc) and C++11 (clang), with the weights compiled in and in a blob.
  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"), arguments: names)
  func convModelCompilesWithoutWarnings(name: String) throws {
    let index = try #require(Self.names.firstIndex(of: name))
    let dir = try EndToEnd.temporaryDirectory("conv-warn-\(name)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("\(name).gru").path
    try Self.text(Self.models[index], seed: 3).write(toFile: path, atomically: false, encoding: .utf8)
    for (mode, flags) in CQualityTests.modes {
      let emitted = try CQualityTests.emit(modelPath: path, name: name, flags: flags)
      defer { emitted.remove() }
      try CQualityTests.expectClean(
        try #require(Clang.compiler), CCompiler.firmwareCXX + ["-O1"], emitted, what: "\(mode) as C++11 with clang")
      if let gcc = Clang.gcc {
        try CQualityTests.expectClean(gcc, CCompiler.firmwareC + ["-O2"], emitted, what: "\(mode) as C99 with gcc -O2")
      }
    }
  }

  /// The differential check again under ASan and UBSan: the conv reads no step outside its
  /// sequence and writes no value outside its part of the scratch.
  @Test(
    .enabled(if: Clang.isAvailable, "needs clang in PATH"),
    .enabled(if: Clang.sanitizersWork, "clang's -fsanitize=address,undefined does not run here"),
    arguments: ["conv_same_stride2", "conv_conv_gru", "conv_valid_dilation2"])
  func runsCleanUnderSanitizers(name: String) throws {
    let index = try #require(Self.names.firstIndex(of: name))
    let model = Self.models[index]
    let dir = try EndToEnd.temporaryDirectory("conv-asan-\(name)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("\(name).gru").path
    try Self.text(model, seed: 11).write(toFile: path, atomically: false, encoding: .utf8)
    let check = DifferentialCheck(
      modelPath: path, model: model, cases: EndToEnd.cases(for: model, seed: 77, steps: [5, 8]),
      cFlags: ["-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"],
      environment: Clang.sanitizerEnvironment)
    _ = try check.run()
  }
}
