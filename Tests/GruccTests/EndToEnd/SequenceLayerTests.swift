// conv1d end to end (issue 15): models in the style of OptionCoverageTests whose sequence layers
// (every padding, stride, dilation, groups, no bias, an activation, two convolutions in a row)
// feed a gru; the C, the interpreter and the independent reference must agree, the C and the
// interpreter bit for bit where the model is f64 (and within f32 rounding otherwise).

import Foundation
import Testing

@testable import GruccCore

@Suite struct SequenceLayerTests {
  private static func gru(_ source: String, _ hidden: Int, name: String = "h") -> RefLayer {
    RefLayer(name: name, source: source, hidden: hidden, reset: .after, update: .keepsState, bias: .separate)
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
    // Lengths: causal layers with stride 1 whose chain keeps the steps (pad 2 taken back by pool 3).
    RefModel(
      name: "conv_pad_pool_lengths", precision: .f32, features: 2, lengths: "len",
      statements: [
        .conv1d(RefConv(name: "c", source: "x", filters: 4, kernel: 5, dilation: 2, padding: .causal, activation: .relu)),
        .sequence(.pad(name: "z", source: "c", before: 2, after: 0)),
        .sequence(.pool(RefPool(name: "p", source: "z", kind: .max, size: 3, stride: 1))),
        .gru(gru("p", 4)), .output("y", .name("h")), .output("s", .state("h")),
        .output("m", .reduce(.mean, .name("h"))),
      ]),
    RefModel(
      name: "conv_causal_lengths_time_major", precision: .f64, features: 3, layout: .timeMajor, lengths: "len",
      statements: [
        .conv1d(RefConv(name: "c", source: "x", filters: 4, kernel: 3, groups: 1, padding: .causal)),
        .gru(gru("c", 3)), .output("y", .name("h")), .output("l", .reduce(.last, .name("h"))),
      ]),
    // A pad whose zeros fill part of the window after it: the first step gives no output.
    RefModel(
      name: "pad_pool_conv_valid", precision: .f64, features: 2,
      statements: [
        .sequence(.pad(name: "z", source: "x", before: 1, after: 0)),
        .sequence(.pool(RefPool(name: "p", source: "z", kind: .max, size: 3, stride: 1))),
        .conv1d(RefConv(name: "c", source: "p", filters: 3, kernel: 2, stride: 2, padding: .valid, activation: .relu)),
        .gru(gru("c", 3)), .output("y", .name("h")), .output("m", .reduce(.mean, .name("h"))),
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
    // More filters and channels than the C sums side by side (CConv.block): full blocks in a
    // loop, then a narrower last one, grouped too.
    RefModel(
      name: "conv_pool_blocks", precision: .f64, features: 4,
      statements: [
        .conv1d(RefConv(name: "c1", source: "x", filters: 36, kernel: 3, padding: .causal, activation: .relu)),
        .sequence(.pool(RefPool(name: "p", source: "c1", kind: .average, size: 2, stride: 1))),
        .conv1d(RefConv(name: "c2", source: "p", filters: 40, kernel: 2, groups: 2, padding: .causal)),
        .gru(gru("c2", 3)), .output("y", .name("h")), .output("s", .state("h")),
      ]),
    RefModel(
      name: "pool_same_max_stride1", precision: .f32, features: 2, layout: .timeMajor,
      statements: [
        .sequence(.pool(RefPool(name: "p", source: "x", kind: .max, size: 4, stride: 1, padding: .same))),
        .gru(gru("p", 3)), .output("y", .name("h")),
      ]),
    // Norms inside the chain, unfolded: a layernorm between a conv and a pool, a batchnorm before
    // a conv (which never folds: the conv's zero padding would read its shift), a batchnorm after
    // a conv's relu (no fold) before the issue's pad and pool, a layernorm first with fixed steps.
    RefModel(
      name: "conv_layernorm_pool", precision: .f32, features: 3,
      statements: [
        .conv1d(RefConv(name: "c", source: "x", filters: 4, kernel: 3, padding: .causal)),
        .norm(RefNorm(kind: .layer, name: "l", source: "c", epsilon: 1e-3)),
        .sequence(.pool(RefPool(name: "p", source: "l", kind: .average, size: 2, stride: 1))),
        .gru(gru("p", 4)), .output("y", .name("h")), .output("s", .state("h")),
      ]),
    RefModel(
      name: "batchnorm_conv_lengths", precision: .f64, features: 3, lengths: "len",
      statements: [
        .norm(RefNorm(kind: .batch, name: "n", source: "x", epsilon: 1e-3)),
        .conv1d(RefConv(name: "c", source: "n", filters: 4, kernel: 3, dilation: 2, padding: .causal, activation: .tanh)),
        .gru(gru("c", 3)), .output("y", .name("h")), .output("m", .reduce(.mean, .name("h"))),
      ]),
    RefModel(
      name: "conv_relu_batchnorm_pad_pool", precision: .f32, features: 2,
      statements: [
        .conv1d(RefConv(name: "c", source: "x", filters: 5, kernel: 4, padding: .causal, activation: .relu)),
        .norm(RefNorm(kind: .batch, name: "n", source: "c", epsilon: 1e-3, center: false)),
        .sequence(.pad(name: "z", source: "n", before: 2, after: 0)),
        .sequence(.pool(RefPool(name: "p", source: "z", kind: .average, size: 3, stride: 1))),
        .gru(gru("p", 4)), .output("y", .name("h")), .output("s", .state("h")),
      ]),
    RefModel(
      name: "layernorm_pool_stride2_fixed", precision: .f64, features: 3, steps: 10, layout: .timeMajor,
      statements: [
        .norm(RefNorm(kind: .layer, name: "l", source: "x", epsilon: 1e-5, scale: false)),
        .norm(RefNorm(kind: .batch, name: "n", source: "l", epsilon: 1e-3)),
        .sequence(.pool(RefPool(name: "p", source: "n", kind: .max, size: 2, stride: 2))),
        .gru(gru("p", 3)), .output("y", .name("h")), .output("pooled", .name("p")),
      ]),
    // A pad's zeros normalised by the layernorm after it are not zeros: whole sequence only.
    RefModel(
      name: "pad_layernorm_pool", precision: .f64, features: 3,
      statements: [
        .sequence(.pad(name: "z", source: "x", before: 1, after: 0)),
        .norm(RefNorm(kind: .layer, name: "l", source: "z", epsilon: 1e-3)),
        .sequence(.pool(RefPool(name: "p", source: "l", kind: .average, size: 2, stride: 1))),
        .gru(gru("p", 3)), .output("y", .name("h")),
      ]),
    // Between and after gru layers: computed inside the sequence function over the whole
    // output of the layer before them; a stride, a pad or a valid window changes the steps of
    // what follows (a pad alone makes them more than T).
    RefModel(
      name: "gru_conv_gru", precision: .f32, features: 3,
      statements: [
        .gru(gru("x", 5, name: "h1")),
        .conv1d(RefConv(name: "c", source: "h1", filters: 4, kernel: 3, padding: .causal, activation: .relu)),
        .gru(gru("c", 4, name: "h2")), .output("y", .name("h2")), .output("s", .state("h2")),
        .output("m", .reduce(.mean, .name("h2"))),
      ]),
    RefModel(
      name: "gru_strided_conv_pool_gru", precision: .f64, features: 2,
      statements: [
        .gru(gru("x", 4, name: "h1")),
        .conv1d(RefConv(name: "c", source: "h1", filters: 3, kernel: 3, stride: 2, padding: .valid, activation: .tanh)),
        .sequence(.pool(RefPool(name: "p", source: "c", kind: .max, size: 2, stride: 1))),
        .gru(gru("p", 3, name: "h2")), .output("y", .name("h2")), .output("l", .reduce(.last, .name("h2"))),
        .output("s1", .state("h1")),
      ]),
    RefModel(
      name: "gru_pad_pool_outputs", precision: .f32, features: 2, layout: .timeMajor,
      statements: [
        .gru(gru("x", 4, name: "h1")),
        .sequence(.pad(name: "z", source: "h1", before: 2, after: 0)),
        .sequence(.pool(RefPool(name: "p", source: "z", kind: .average, size: 3, stride: 1))),
        .output("y", .name("p")), .output("d", .dense(.name("p"), units: 2)), .output("s", .state("h1")),
      ]),
    RefModel(
      name: "gru_causal_conv_gru_lengths", precision: .f64, features: 3, lengths: "len",
      statements: [
        .gru(gru("x", 4, name: "h1")),
        .conv1d(RefConv(name: "c", source: "h1", filters: 3, kernel: 3, dilation: 2, padding: .causal)),
        .gru(gru("c", 3, name: "h2")), .output("y", .name("h2")), .output("m", .reduce(.mean, .name("h2"))),
        .output("l", .reduce(.last, .name("h2"))),
      ]),
    RefModel(
      name: "conv_gru_same_conv_gru", precision: .f32, features: 2,
      statements: [
        .conv1d(RefConv(name: "c0", source: "x", filters: 3, kernel: 2, padding: .causal)),
        .gru(gru("c0", 4, name: "h1")),
        .norm(RefNorm(kind: .layer, name: "l", source: "h1", epsilon: 1e-3)),
        .conv1d(RefConv(name: "c1", source: "l", filters: 5, kernel: 4, stride: 2, padding: .same)),
        .gru(gru("c1", 3, name: "h2")), .output("y", .name("h2")), .output("s", .state("h2")),
      ]),
    RefModel(
      name: "gru_layernorm_conv_pool_fixed", precision: .f64, features: 2, steps: 12,
      statements: [
        .gru(gru("x", 4, name: "h1")),
        .norm(RefNorm(kind: .layer, name: "l", source: "h1", epsilon: 1e-3)),
        .conv1d(RefConv(name: "c", source: "l", filters: 3, kernel: 3, padding: .valid)),
        .sequence(.pool(RefPool(name: "p", source: "c", kind: .average, size: 2, stride: 2, padding: .same))),
        .output("y", .dense(.name("p"), units: 2)),
      ]),
    RefModel(
      name: "gru_pad_both_output", precision: .f64, features: 2,
      statements: [
        .gru(gru("x", 3, name: "h1")),
        .sequence(.pad(name: "z", source: "h1", before: 1, after: 3)),
        .output("y", .name("z")), .output("m", .reduce(.max, .name("z"))),
      ]),
    // Streamed, the second gru steps only when the valid conv's window ends a step; no sequence
    // output, so step's status follows that conv.
    RefModel(
      name: "gru_valid_conv_state", precision: .f32, features: 2,
      statements: [
        .gru(gru("x", 4, name: "h1")),
        .conv1d(RefConv(name: "c", source: "h1", filters: 3, kernel: 4, dilation: 2, padding: .valid, activation: .relu)),
        .gru(gru("c", 3, name: "h2")), .output("s", .state("h2")), .output("m", .reduce(.mean, .name("h2"))),
        .output("s1", .state("h1")),
      ]),
    // Two branches after one gru whose strides differ: whole sequence only.
    RefModel(
      name: "gru_two_strided_branches", precision: .f64, features: 2,
      statements: [
        .gru(gru("x", 3, name: "h1")),
        .conv1d(RefConv(name: "a", source: "h1", filters: 2, kernel: 2, stride: 2, padding: .causal)),
        .conv1d(RefConv(name: "b", source: "h1", filters: 2, kernel: 3, stride: 3, padding: .causal)),
        .gru(gru("b", 2, name: "h2")), .output("ma", .reduce(.mean, .name("a"))), .output("s", .state("h2")),
      ]),
  ]

  static let names = models.map(\.name)

  static func text(_ m: RefModel, seed: UInt64) -> String {
    var input = "input \(m.input)[\(m.features)]"
    if let steps = m.steps { input += ", steps \(steps)" }
    if m.layout == .timeMajor { input += ", layout time-major" }
    if let lengths = m.lengths { input += ", lengths \(lengths)" }
    var lines = ["model \(m.name)", "precision \(m.precision.rawValue)", input]
    for s in m.statements {
      switch s {
      case .sequence(let l): lines.append(l.line)
      case .norm(let n): lines.append(n.line)
      case .gru(let l):
        lines.append("gru \(l.name) = \(l.source) -> hidden \(l.hidden), reset after, update keeps-state, bias separate")
      case .binding(let name, let e, let isOutput):
        lines.append("\(isOutput ? "output" : "let") \(name) = \(RandomModels.render(e))")
      }
    }
    lines += ["init seed \(seed)", "init * uniform(-0.6, 0.6)"]
    // A norm's variance must be positive, and its gamma away from 0 to keep the steps apart.
    let norms = m.statements.compactMap { s -> RefNorm? in if case .norm(let n) = s { return n } else { return nil } }
    if norms.contains(where: { $0.kind == .batch }) { lines.append("init *.variance uniform(0.3, 1.6)") }
    if norms.contains(where: \.scale) { lines.append("init *.gamma uniform(0.5, 1.5)") }
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
    arguments: ["conv_same_stride2", "conv_conv_gru", "conv_valid_dilation2", "gru_strided_conv_pool_gru", "gru_pad_both_output"])
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

  // MARK: - Streaming

  /// The models whose sequence layers read no step ahead, and the steps each streams over.
  static let streamed = [
    "conv_causal", "conv_valid_dilation2", "conv_depthwise_no_bias", "conv_groups_stride2", "conv_conv_gru",
    "conv_fixed_steps", "conv_pad_pool", "pad_pool_conv_valid", "conv_pad_pool_lengths", "conv_layernorm_pool",
    "batchnorm_conv_lengths", "conv_relu_batchnorm_pad_pool", "layernorm_pool_stride2_fixed", "conv_pool_blocks",
    "gru_conv_gru", "gru_pad_pool_outputs", "gru_causal_conv_gru_lengths", "gru_strided_conv_pool_gru",
    "gru_valid_conv_state",
  ]

  /// The streamed models whose sequence layers all stand after a gru layer: every step gives the
  /// gru layers a step, so the header has no NO_OUTPUT status.
  static let everyStepStreams = ["gru_conv_gru", "gru_pad_pool_outputs", "gru_causal_conv_gru_lengths"]

  /// The others, what the header says about each, and the name its refusing macros expand to.
  static let refused: [(String, String, String)] = [
    ("conv_same_stride2", "'c' has 'padding same': each output step reads steps after it", "a_layer_that_reads_ahead"),
    ("conv_same_odd", "'c' has 'padding same'", "a_layer_that_reads_ahead"),
    ("pad_after_max_pool", "'z' pads after the last step, which a stream never reaches", "a_layer_that_reads_ahead"),
    ("pool_same_average", "'p' has 'padding same'", "a_layer_that_reads_ahead"),
    ("pad_layernorm_pool", "'z' puts 1 zero steps before the first", "a_layer_that_reads_ahead"),
    ("conv_gru_same_conv_gru", "'c1' has 'padding same'", "a_layer_that_reads_ahead"),
    ("gru_layernorm_conv_pool_fixed", "'p' has 'padding same'", "a_layer_that_reads_ahead"),
    ("gru_pad_both_output", "'z' pads after the last step", "a_layer_that_reads_ahead"),
    ("gru_two_strided_branches", "'b' gives no output on some steps, as another layer after a gru layer does", "two_branches_that_skip_steps"),
  ]

  /// `_step` over a sequence, keeping the steps that return OK, equals `_run` bit for bit: every
  /// sequence output's steps, their count (SEQUENCE_STEPS(T)), and `_read`'s vector outputs.
  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"), arguments: streamed)
  func streamingEqualsTheWholeSequenceBitForBit(name: String) throws {
    let index = try #require(Self.names.firstIndex(of: name))
    let model = Self.models[index]
    let dir = try EndToEnd.temporaryDirectory("conv-stream-\(name)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("\(name).gru").path
    try Self.text(model, seed: 5).write(toFile: path, atomically: false, encoding: .utf8)
    let emitted = try CQualityTests.emit(modelPath: path, name: name)
    defer { emitted.remove() }
    let header = try String(contentsOfFile: emitted.header, encoding: .utf8)
    let noOutput = !Self.everyStepStreams.contains(name)
    #expect(header.contains("\(name.uppercased())_NO_OUTPUT") == noOutput, "\(name): NO_OUTPUT status in the header: \(!noOutput)")
    let real = model.precision == .f32 ? "float" : "double"
    let p = name.uppercased()
    let steps = model.steps ?? 37
    var c = """
      #include "\(name).h"
      #include <math.h>
      #include <stdio.h>
      #include <stdlib.h>
      #include <string.h>

      int main(void) {
          enum { T = \(steps) };
          static \(real) x[T * \(p)_INPUT_SIZE];
          for (int i = 0; i < T * \(p)_INPUT_SIZE; i++) x[i] = (\(real))sin(0.37 * i + 0.1);
          const size_t steps = \(p)_SEQUENCE_STEPS(T);
          \(real) *scratch = malloc(\(p)_SCRATCH_BYTES(1, T));

      """
    var runArgs = ["x", "T"]
    var stepArgs = ["&s", "x + (size_t)t * \(p)_INPUT_SIZE"]
    var readArgs = ["&s"]
    for (j, o) in model.outputs.enumerated() {
      let size = "\(p)_OUTPUT_\(o.name.uppercased())_SIZE"
      if o.shape.isSequence {
        c += "    \(real) *run\(j) = malloc(sizeof(\(real)) * steps * \(size));\n"
        c += "    \(real) step\(j)[\(size)];\n"
        stepArgs.append("step\(j)")
      } else {
        c += "    \(real) run\(j)[\(size)], read\(j)[\(size)];\n"
        readArgs.append("read\(j)")
      }
      runArgs.append("run\(j)")
    }
    runArgs.append("scratch")
    c += "    if (\(name)_run(\(runArgs.joined(separator: ", "))) != \(p)_OK) { puts(\"run failed\"); return 1; }\n"
    c += "    \(name)_state s = \(p)_STATE_INIT;\n    \(name)_reset(&s);\n    size_t k = 0;\n"
    c += "    for (int t = 0; t < T; t++) {\n"
    c += "        int status = \(name)_step(\(stepArgs.joined(separator: ", ")));\n"
    if noOutput { c += "        if (status == \(p)_NO_OUTPUT) continue;\n" }
    c += "        if (status != \(p)_OK) { printf(\"step %d returned %d\\n\", t, status); return 1; }\n"
    for (j, o) in model.outputs.enumerated() where o.shape.isSequence {
      let size = "\(p)_OUTPUT_\(o.name.uppercased())_SIZE"
      c += "        if (k >= steps || memcmp(step\(j), run\(j) + k * \(size), sizeof step\(j)) != 0) { printf(\"'\(o.name)' differs at output step %zu (input step %d)\\n\", k, t); return 1; }\n"
    }
    c += "        k++;\n    }\n"
    c += "    if (k != steps) { printf(\"%zu output steps, run_batch has %zu\\n\", k, steps); return 1; }\n"
    if model.outputs.contains(where: { !$0.shape.isSequence }) {
      c += "    if (\(name)_read(\(readArgs.joined(separator: ", "))) != \(p)_OK) { puts(\"read failed\"); return 1; }\n"
      for (j, o) in model.outputs.enumerated() where !o.shape.isSequence {
        c += "    if (memcmp(read\(j), run\(j), sizeof run\(j)) != 0) { puts(\"'\(o.name)' read differs from run\"); return 1; }\n"
      }
    }
    c += "    printf(\"ok %zu of %d steps\\n\", k, T);\n    return 0;\n}\n"
    let main = emitted.path("main.c")
    try c.write(toFile: main, atomically: false, encoding: .utf8)
    let binary = emitted.path("stream")
    let clang = try #require(Clang.compiler)
    let built = try clang.compile(["-std=c99", "-O2", "-ffp-contract=off", main, emitted.source, "-o", binary, "-lm"])
    try #require(built.succeeded, "\(built.stderr)")
    let ran = try ProcessRunner.run(binary, [], timeout: 60)
    #expect(ran.succeeded && ran.stdout.hasPrefix("ok "), "\(name): \(ran.stdout)\(ran.stderr)")
    print("stream \(name): \(ran.stdout)", terminator: "")
  }

  /// A layer that reads ahead (padding same, a pad after the end) refuses `_step` at compile time,
  /// and the header says why.
  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"), arguments: refused.map(\.0))
  func aLayerThatReadsAheadDoesNotStream(name: String) throws {
    let index = try #require(Self.names.firstIndex(of: name))
    let (_, reason, marker) = try #require(Self.refused.first { $0.0 == name })
    let dir = try EndToEnd.temporaryDirectory("conv-nostream-\(name)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("\(name).gru").path
    try Self.text(Self.models[index], seed: 5).write(toFile: path, atomically: false, encoding: .utf8)
    let emitted = try CQualityTests.emit(modelPath: path, name: name)
    defer { emitted.remove() }
    let header = try String(contentsOfFile: emitted.header, encoding: .utf8)
    #expect(header.contains(reason), "\(name): the header does not say '\(reason)'")
    let program = "#include \"\(name).h\"\nint main(void) { \(name)_reset(0); return 0; }\n"
    let file = emitted.path("user.c")
    try program.write(toFile: file, atomically: false, encoding: .utf8)
    let result = try #require(Clang.compiler).compile(CCompiler.strictC + ["-c", file, "-o", emitted.path("user.o")])
    #expect(!result.succeeded)
    #expect(result.stderr.contains("\(name)_cannot_stream_\(marker)"), "\(result.stderr)")
  }
}
