// fold-batchnorm: a batchnorm folded into a conv1d's weights or a gru's input weights computes
// what the unfolded model computes (against the independent reference, within 1e-6 in f32 and
// 1e-12 in f64), and one that cannot fold (a gru without biases, a value read by an output too,
// --weights external) stays an op. The C of both forms is checked against the same reference.

import Foundation
import Testing

@testable import GruccCore

@Suite struct FoldBatchNormTests {
  private static func gru(
    _ name: String, _ source: String, _ hidden: Int, bias: RefLayer.Bias = .separate, reset: RefLayer.Reset = .after,
    direction: RefLayer.Direction = .forward, paddingProcessed: Bool = false
  ) -> RefLayer {
    RefLayer(
      name: name, source: source, hidden: hidden, reset: reset, update: .keepsState, bias: bias, direction: direction,
      paddingProcessed: paddingProcessed)
  }

  private static func bn(_ name: String, _ source: String, scale: Bool = true, center: Bool = true) -> RefStatement {
    .norm(RefNorm(kind: .batch, name: name, source: source, epsilon: 1e-3, scale: scale, center: center))
  }

  /// Each model with the number of batchnorm ops the optimised module keeps when it folds.
  static let models: [(model: RefModel, kept: Int)] = [
    (RefModel(
      name: "fold_into_gru", precision: .f32, features: 3, lengths: "len",
      statements: [bn("n", "x"), .gru(gru("h", "n", 5)), .output("y", .name("h")), .output("s", .state("h"))]), 0),
    // Single biases, both directions, the padding processed (the reverse pass reads it first).
    (RefModel(
      name: "fold_bidirectional_padding", precision: .f64, features: 3, lengths: "len",
      statements: [
        bn("n", "x", center: false), .gru(gru("h", "n", 4, bias: .single, reset: .before, direction: .bidirectional, paddingProcessed: true)),
        .output("y", .name("h")), .output("m", .reduce(.mean, .name("h"))),
      ]), 0),
    // Between two grus, the first one's zeros past each end turned into t by the batchnorm.
    (RefModel(
      name: "fold_between_grus", precision: .f32, features: 2, lengths: "len",
      statements: [
        .gru(gru("h1", "x", 4)), bn("n", "h1", scale: false),
        .gru(gru("h2", "n", 3, paddingProcessed: true)), .output("y", .name("h2")), .output("s", .state("h2")),
      ]), 0),
    (RefModel(
      name: "fold_into_conv", precision: .f32, features: 2,
      statements: [
        .sequence(.conv(RefConv(name: "c", source: "x", filters: 4, kernel: 3, padding: .causal, bias: false))), bn("n", "c"),
        .gru(gru("h", "n", 4, bias: .none)), .output("y", .name("h")),
      ]), 0),
    (RefModel(
      name: "fold_into_conv_with_bias", precision: .f64, features: 3,
      statements: [
        .sequence(.conv(RefConv(name: "c", source: "x", filters: 4, kernel: 2, stride: 2, padding: .same))), bn("n", "c"),
        .gru(gru("h", "n", 3)), .output("s", .state("h")),
      ]), 0),
    // The conv's relu comes before the batchnorm: it folds into the gru instead.
    (RefModel(
      name: "fold_after_conv_relu", precision: .f64, features: 2,
      statements: [
        .sequence(.conv(RefConv(name: "c", source: "x", filters: 3, kernel: 3, padding: .same, activation: .relu))), bn("n", "c"),
        .gru(gru("h", "n", 3)), .output("y", .name("h")),
      ]), 0),
    // The issue's stack: conv1d -> batchnorm -> pad -> pool -> gru; the chain goes through the
    // batchnorm because it folds into the conv. With lengths too (causal, stride 1, the pad's
    // steps taken back by the pool).
    (RefModel(
      name: "issue_stack", precision: .f32, features: 2,
      statements: [
        .sequence(.conv(RefConv(name: "c", source: "x", filters: 4, kernel: 5, padding: .causal))), bn("n", "c"),
        .sequence(.pad(name: "z", source: "n", before: 2, after: 0)),
        .sequence(.pool(RefPool(name: "p", source: "z", kind: .average, size: 3, stride: 1))),
        .gru(gru("h", "p", 5)), .output("y", .name("h")), .output("s", .state("h")),
      ]), 0),
    (RefModel(
      name: "issue_stack_lengths", precision: .f64, features: 2, lengths: "len",
      statements: [
        .sequence(.conv(RefConv(name: "c", source: "x", filters: 3, kernel: 4, padding: .causal, bias: false))), bn("n", "c"),
        .sequence(.pad(name: "z", source: "n", before: 2, after: 0)),
        .sequence(.pool(RefPool(name: "p", source: "z", kind: .average, size: 3, stride: 1))),
        .gru(gru("h", "p", 4)), .output("y", .name("h")), .output("s", .state("h")),
      ]), 0),
    (RefModel(
      name: "kept_gru_without_bias", precision: .f32, features: 3, lengths: "len",
      statements: [bn("n", "x"), .gru(gru("h", "n", 4, bias: .none)), .output("y", .name("h"))]), 1),
    (RefModel(
      name: "kept_read_by_an_output", precision: .f64, features: 3, lengths: "len",
      statements: [
        bn("n", "x"), .gru(gru("h", "n", 4)), .output("y", .name("h")), .output("z", .name("n")),
      ]), 1),
  ]

  static let names = models.map(\.model.name)

  private static func text(_ m: RefModel, seed: UInt64) -> String {
    var input = "input \(m.input)[\(m.features)]"
    if let lengths = m.lengths { input += ", lengths \(lengths)" }
    var lines = ["model \(m.name)", "precision \(m.precision.rawValue)", input]
    for s in m.statements {
      switch s {
      case .sequence(let l): lines.append(l.line)
      case .norm(let n): lines.append(n.line)
      case .gru(let l):
        var line = "gru \(l.name) = \(l.source) -> hidden \(l.hidden), reset \(l.reset.rawValue), update keeps-state, "
          + "bias \(l.bias.rawValue)"
        if l.direction != .forward { line += ", direction \(l.direction.rawValue)" }
        if l.paddingProcessed { line += ", padding processed" }
        lines.append(line)
      case .binding(let name, let e, let isOutput):
        lines.append("\(isOutput ? "output" : "let") \(name) = \(RandomModels.render(e))")
      }
    }
    lines += [
      "init seed \(seed)", "init * uniform(-0.6, 0.6)", "init *.variance uniform(0.3, 1.6)", "init *.gamma uniform(0.5, 1.5)",
    ]
    return lines.joined(separator: "\n") + "\n"
  }

  /// The module bound and fully optimised, folding or not.
  private static func modules(_ path: String, fold: Bool) throws -> (bound: Module, optimised: Module) {
    let source = SourceFile(path: path, bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
    let front = Compiler.frontEnd(source)
    let model = try #require(front.model, "\(front.diagnostics.diagnostics)")
    let pipeline = PassPipeline.standard(weights: Compiler.weightSource(for: model, file: nil), foldBatchNorm: fold)
    func run(_ p: PassPipeline) throws -> Module {
      var diagnostics = DiagnosticEngine()
      switch p.run(front.module!, diagnostics: &diagnostics) {
      case .success(let m): return m
      case .failure(let f): throw EndToEnd.Failure("pipeline failed: \(f) \(diagnostics.diagnostics)")
      }
    }
    return (try run(pipeline.prefix(through: "bind-weights")!), try run(pipeline))
  }

  private static func batchnorms(_ m: Module) -> Int {
    m.graph.nodes.filter { if case .norm(let n) = $0.op { return n.kind == .batch } else { return false } }.count
  }

  @Test(arguments: names)
  func foldedAndUnfoldedMatchTheReference(name: String) throws {
    let index = try #require(Self.names.firstIndex(of: name))
    let (model, kept) = Self.models[index]
    let dir = try EndToEnd.temporaryDirectory("fold-\(name)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("\(name).gru").path
    try Self.text(model, seed: UInt64(index) + 11).write(toFile: path, atomically: false, encoding: .utf8)
    let folded = try Self.modules(path, fold: true)
    if name.hasPrefix("issue_stack") {
      // Unfolded, the batchnorm inside the chain is refused at its line; folded, it is gone.
      let source = SourceFile(path: path, bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
      let front = Compiler.frontEnd(source)
      var diagnostics = DiagnosticEngine()
      let refused = PassPipeline.standard(weights: Compiler.weightSource(for: front.model!, file: nil), foldBatchNorm: false)
        .run(front.module!, diagnostics: &diagnostics)
      if case .success = refused { Issue.record("\(name): an unfolded batchnorm inside the chain was accepted") }
      #expect(diagnostics.diagnostics.map(\.range.start.line) == [5])
    }
    let inChain = name.hasPrefix("issue_stack")
    let unfolded = try Self.modules(path, fold: inChain)
    #expect(Self.batchnorms(folded.optimised) == kept, "\(name) keeps \(Self.batchnorms(folded.optimised)) batchnorms")
    #expect(inChain || Self.batchnorms(unfolded.optimised) == model.statements.filter {
      if case .norm = $0 { return true } else { return false }
    }.count)
    let weights = Dictionary(uniqueKeysWithValues: folded.bound.parameters.map { ($0.name, $0.values) })
    let reference = ReferenceGRU(model: model, weights: weights)
    let tolerance = model.precision == .f32 ? 1e-6 : 1e-12
    var worst = (folded: 0.0, unfolded: 0.0)
    for c in EndToEnd.cases(for: model, seed: UInt64(index) + 500, steps: [1, 5, 11], batch: 3) {
      let expected = try reference.run(c.referenceInputs(for: model))
      let a = try Interpreter.run(folded.optimised, inputs: c.interpreterInputs(for: model))
      let b = try Interpreter.run(unfolded.optimised, inputs: c.interpreterInputs(for: model))
      for o in model.outputs {
        let ref = try #require(expected.output(o.name)).flat
        let x = try #require(a.first { $0.name == o.name }).value.values
        let y = try #require(b.first { $0.name == o.name }).value.values
        #expect(x.count == ref.count && y.count == ref.count)
        worst.folded = max(worst.folded, zip(x, ref).map { abs($0 - $1) }.max() ?? 0)
        worst.unfolded = max(worst.unfolded, zip(y, ref).map { abs($0 - $1) }.max() ?? 0)
      }
    }
    print("fold-batchnorm \(name) (\(model.precision.rawValue)): folded-reference \(worst.folded), unfolded-reference \(worst.unfolded)")
    #expect(worst.folded <= tolerance, "\(name): folded differs from the reference by \(worst.folded)")
    #expect(worst.unfolded <= tolerance, "\(name): unfolded differs from the reference by \(worst.unfolded)")
  }

  /// The C of both forms: folded (weights compiled in) and kept (--weights external).
  @Test(
    .enabled(if: Clang.isAvailable, "needs clang in PATH"),
    arguments: ["fold_into_gru", "fold_into_conv", "kept_read_by_an_output", "issue_stack", "issue_stack_lengths"])
  func cOfBothFormsMatchesTheReference(name: String) throws {
    let index = try #require(Self.names.firstIndex(of: name))
    let model = Self.models[index].model
    let dir = try EndToEnd.temporaryDirectory("fold-c-\(name)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("\(name).gru").path
    try Self.text(model, seed: UInt64(index) + 11).write(toFile: path, atomically: false, encoding: .utf8)
    // Inside the conv chain the batchnorm must fold, which --weights external does not do.
    let inChain = name.hasPrefix("issue_stack")
    for external in inChain ? [false] : [false, true] {
      var check = DifferentialCheck(
        modelPath: path, model: model, cases: EndToEnd.cases(for: model, seed: UInt64(index) + 900))
      check.externalWeights = external
      let table = try check.run()
      // The C computes what the interpreter does, in the same order: bit for bit.
      if !external { #expect(table.maxError("C-interpreter") == 0, "\(name): \(table.summary)") }
      print("e2e fold-batchnorm \(name)\(external ? " --weights external" : ""): \(table.summary)")
    }
  }

  /// Where the weights are placeholders (`grucc check`), the fold keeps the shapes.
  @Test func placeholdersFoldToPlaceholders() throws {
    let text = "model m\ninput x[3]\nbatchnorm n = x -> epsilon 1e-3\ngru h = n -> hidden 2, reset after, "
      + "update keeps-state, bias separate\noutput y = h\n"
    let front = Compiler.frontEnd(SourceFile(path: "m.gru", bytes: Array(text.utf8)))
    let model = try #require(front.model)
    var diagnostics = DiagnosticEngine()
    let pipeline = PassPipeline.standard(weights: Compiler.weightSource(for: model, file: nil), materialise: false)
    guard case .success(let m) = pipeline.run(front.module!, diagnostics: &diagnostics) else {
      Issue.record("pipeline failed: \(diagnostics.diagnostics)")
      return
    }
    #expect(Self.batchnorms(m) == 0)
  }
}
