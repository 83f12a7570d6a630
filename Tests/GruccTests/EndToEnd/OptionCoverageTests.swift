// Every option of the model language end to end: each config below is written out as .gru text and
// also serves as the reference's description, so the C, the interpreter and the reference must
// agree on every reset × update × bias combination, direction, merge, head and activation.

import Foundation
import Testing

@testable import GruccCore

@Suite struct OptionCoverageTests {
  // MARK: - The configs

  private typealias Variant = (reset: RefLayer.Reset, update: RefLayer.Update, bias: RefLayer.Bias)

  /// All 18 variants, in a fixed order.
  private static let variants: [Variant] = RefLayer.Reset.allCases.flatMap { r in
    RefLayer.Update.allCases.flatMap { u in RefLayer.Bias.allCases.map { b in (r, u, b) } }
  }

  private static func layer(
    _ name: String, _ source: String, _ hidden: Int, _ v: Variant, direction: RefLayer.Direction = .forward,
    merge: RefLayer.Merge = .concat, initialGiven: Bool = false, activation: RefActivation = .identity,
    hold: Bool = false, processingOrder: Bool = false, paddingProcessed: Bool = false
  ) -> RefLayer {
    RefLayer(
      name: name, source: source, hidden: hidden, reset: v.reset, update: v.update, bias: v.bias,
      direction: direction, merge: merge, initialGiven: initialGiven, outputActivation: activation,
      pastEndHold: hold, processingOrder: processingOrder, paddingProcessed: paddingProcessed)
  }

  /// Nine two-layer stacks that between them use every variant, with precision, layout, lengths
  /// and the second layer's direction varied along the way.
  private static let variantModels: [RefModel] = (0..<9).map { i in
    let (a, b) = (variants[2 * i], variants[2 * i + 1])
    let directions: [RefLayer.Direction] = [
      .forward, .forward, .forward, .forward, .reverse, .bidirectional, .forward, .reverse, .forward,
    ]
    let name = "variants_\(a.reset)_\(i)"
    var statements: [RefStatement] = [
      .gru(layer("h1", "x", 6, a)),
      .gru(layer("h2", "h1", 5, b, direction: directions[i], merge: i == 5 ? .concat : .sum)),
      .output("y", .name("h2")),
    ]
    if i % 3 == 1 { statements.append(.output("m", .reduce(.mean, .name("h2")))) }
    if i % 3 == 2 { statements.append(.output("d", .dense(.name("h2"), units: 2))) }
    return RefModel(
      name: name, precision: i % 2 == 0 ? .f64 : .f32, features: 3 + i % 3,
      layout: i % 3 == 2 ? .timeMajor : .batchMajor, lengths: i % 2 == 1 || i == 4 ? "len" : nil,
      statements: statements)
  }

  private static let plain: Variant = (.after, .keepsState, .separate)
  private static let tf1: Variant = (.before, .keepsState, .single)
  private static let chung: Variant = (.before, .takesCandidate, .none)

  private static let featureModels: [RefModel] = [
    // Directions and merges.
    RefModel(
      name: "reverse_lengths", precision: .f64, features: 3, lengths: "len",
      statements: [
        .gru(layer("h", "x", 7, plain, direction: .reverse)),
        .output("y", .name("h")), .output("s", .state("h")),
        .output("l", .reduce(.last, .name("h"))), .output("mx", .reduce(.max, .name("h"))),
      ]),
    RefModel(
      name: "bidir_concat_lengths", precision: .f32, features: 4, lengths: "len",
      statements: [
        .gru(layer("h", "x", 6, tf1, direction: .bidirectional, merge: .concat)),
        .output("y", .name("h")), .output("s", .state("h")),
      ]),
    RefModel(
      name: "bidir_sum", precision: .f64, features: 3, lengths: "len",
      statements: [
        .gru(layer("h", "x", 5, plain, direction: .bidirectional, merge: .sum)),
        .output("y", .name("h")), .output("m", .reduce(.mean, .name("h"))),
      ]),
    RefModel(
      name: "bidir_mean_time_major", precision: .f32, features: 2, layout: .timeMajor, lengths: "len",
      statements: [
        .gru(layer("h", "x", 6, chung, direction: .bidirectional, merge: .mean)),
        .output("y", .name("h")),
      ]),
    RefModel(
      name: "bidir_mul", precision: .f64, features: 4,
      statements: [
        .gru(layer("h", "x", 5, (.none, .takesCandidate, .separate), direction: .bidirectional, merge: .mul)),
        .output("y", .name("h")), .output("l", .reduce(.last, .name("h"))),
      ]),
    RefModel(
      name: "bidir_sum_relu", precision: .f32, features: 3, lengths: "len",
      statements: [
        // The output activation acts on each direction's output, before the merge.
        .gru(layer("h", "x", 6, plain, direction: .bidirectional, merge: .sum, activation: .relu)),
        .output("y", .name("h")), .output("s", .state("h")),
      ]),
    // Initial states given by the caller.
    RefModel(
      name: "initial_forward", precision: .f64, features: 3, lengths: "len",
      statements: [
        .gru(layer("h", "x", 6, tf1, initialGiven: true)),
        .output("y", .name("h")), .output("s", .state("h")),
      ]),
    RefModel(
      name: "initial_bidir", precision: .f32, features: 3, lengths: "len",
      statements: [
        .gru(layer("h", "x", 5, plain, direction: .bidirectional, initialGiven: true)),
        .output("s", .state("h")), .output("m", .reduce(.max, .name("h"))),
      ]),
    RefModel(
      name: "initial_stacked", precision: .f32, features: 2,
      statements: [
        .gru(layer("h1", "x", 4, plain, initialGiven: true)),
        .gru(layer("h2", "h1", 5, tf1)),
        .gru(layer("h3", "h2", 3, chung, initialGiven: true)),
        .output("y", .name("h3")), .output("s1", .state("h1")), .output("s3", .state("h3")),
      ]),
    RefModel(
      name: "initial_reverse", precision: .f64, features: 2, lengths: "len",
      statements: [
        .gru(layer("h", "x", 4, (.after, .takesCandidate, .single), direction: .reverse, initialGiven: true)),
        .output("y", .name("h")), .output("s", .state("h")),
      ]),
    // Output activations (the carried state, and so state(h), is never activated).
    RefModel(
      name: "activation_tanh", precision: .f32, features: 3,
      statements: [
        .gru(layer("h", "x", 6, chung, activation: .tanh)),
        .output("y", .name("h")), .output("l", .reduce(.last, .name("h"))), .output("s", .state("h")),
      ]),
    RefModel(
      name: "activation_sigmoid_lengths", precision: .f64, features: 3, lengths: "len",
      statements: [
        .gru(layer("h", "x", 5, tf1, activation: .sigmoid)),
        .output("y", .name("h")), .output("m", .reduce(.mean, .name("h"))),
      ]),
    RefModel(
      name: "activation_relu_reverse", precision: .f32, features: 4, lengths: "len",
      statements: [
        .gru(layer("h", "x", 6, plain, direction: .reverse, activation: .relu)),
        .output("y", .name("h")), .output("mx", .reduce(.max, .name("h"))),
      ]),
    // Layout.
    RefModel(
      name: "time_major_stream", precision: .f32, features: 3, layout: .timeMajor, lengths: "len",
      statements: [
        .gru(layer("h", "x", 7, plain)),
        .output("y", .dense(.name("h"), units: 3)), .output("mx", .reduce(.max, .name("h"))),
      ]),
    // Heads and head activations.
    RefModel(
      name: "heads_all", precision: .f64, features: 3, lengths: "len",
      statements: [
        .gru(layer("h", "x", 6, tf1)),
        .output("ident", .activation(.identity, .name("h"))),
        .output("sig", .activation(.sigmoid, .dense(.name("h"), units: 3))),
        .output("last_tanh", .activation(.tanh, .reduce(.last, .name("h")))),
        .output("mean_relu", .activation(.relu, .dense(.reduce(.mean, .name("h")), units: 4))),
        .output("max_softmax", .activation(.softmax, .dense(.reduce(.max, .name("h")), units: 5))),
        .output("mean_l2norm", .activation(.l2norm(1e-12), .dense(.reduce(.mean, .name("h")), units: 3))),
        .output("s", .state("h")),
        // Padding past each end would be sigmoid(b) here: max and last must not see it.
        .let("g", .activation(.sigmoid, .dense(.name("h"), units: 3))),
        .output("g_max", .reduce(.max, .name("g"))),
        .output("g_last", .reduce(.last, .name("g"))),
      ]),
    RefModel(
      name: "dense_chain", precision: .f32, features: 4,
      statements: [
        .gru(layer("h", "x", 8, plain)),
        .let("a", .activation(.relu, .dense(.reduce(.last, .name("h")), units: 8))),
        .let("b", .activation(.tanh, .dense(.name("a"), units: 6))),
        .output("y", .activation(.softmax, .dense(.name("b"), units: 3))),
        .let("c", .dense(.name("h"), units: 4)),
        .let("d", .activation(.sigmoid, .dense(.name("c"), units: 3))),
        .output("e", .dense(.name("d"), units: 2)),
        .output("f", .reduce(.max, .name("d"))),
      ]),
    RefModel(
      name: "dense_feeds_gru", precision: .f64, features: 4, lengths: "len",
      statements: [
        .let("e", .activation(.tanh, .dense(.name("x"), units: 6))),
        .gru(layer("h", "e", 5, chung)),
        .output("y", .name("h")), .output("s", .state("h")),
      ]),
    RefModel(
      name: "softmax_per_step", precision: .f32, features: 3, lengths: "len",
      statements: [
        .gru(layer("h", "x", 5, (.before, .keepsState, .separate))),
        .output("p", .activation(.softmax, .dense(.name("h"), units: 4))),
        // An epsilon near the norms' size, so that both sides of its max are taken.
        .output("u", .activation(.l2norm(0.5), .dense(.name("h"), units: 3))),
        .output("v", .activation(.l2norm(1e-12), .name("h"))),
      ]),
    RefModel(
      name: "input_heads", precision: .f64, features: 3, lengths: "len",
      statements: [
        .gru(layer("h", "x", 4, plain)),
        .output("y", .activation(.tanh, .dense(.name("x"), units: 3))),
        .output("mx", .reduce(.mean, .name("x"))),
        .output("s", .state("h")),
      ]),
    // Dense with different weights at each step (fixed T).
    RefModel(
      name: "unshared_fixed", precision: .f32, features: 3, steps: 6,
      statements: [
        .gru(layer("h", "x", 5, tf1)),
        .output("y", .dense(.name("h"), units: 3, unshared: true)),
        .let("u", .dense(.name("h"), units: 4, unshared: true)),
        .output("m", .reduce(.mean, .name("u"))),
        .output("s", .state("h")),
      ]),
    RefModel(
      name: "unshared_lengths", precision: .f64, features: 2, steps: 5, layout: .timeMajor, lengths: "len",
      statements: [
        .gru(layer("h", "x", 4, chung)),
        .output("y", .activation(.sigmoid, .dense(.name("h"), units: 2, unshared: true))),
      ]),
    RefModel(
      name: "unshared_reverse", precision: .f32, features: 2, steps: 4,
      statements: [
        .gru(layer("h", "x", 4, plain, direction: .bidirectional, merge: .concat)),
        .output("y", .dense(.name("h"), units: 2, unshared: true)),
      ]),
    // Deeper stacks mixing everything.
    RefModel(
      name: "stacked_mixed", precision: .f64, features: 3, lengths: "len",
      statements: [
        .gru(layer("h1", "x", 5, plain)),
        .gru(layer("h2", "h1", 4, tf1, direction: .bidirectional, merge: .mean)),
        .gru(layer("h3", "h2", 3, (.none, .keepsState, .none), direction: .reverse)),
        .output("y", .name("h3")), .output("s2", .state("h2")), .output("s3", .state("h3")),
      ]),
    RefModel(
      name: "stacked_stream", precision: .f32, features: 2, layout: .timeMajor,
      statements: [
        .gru(layer("h1", "x", 5, chung, activation: .tanh)),
        .gru(layer("h2", "h1", 6, (.after, .takesCandidate, .none))),
        .gru(layer("h3", "h2", 4, tf1, initialGiven: true)),
        .output("y", .dense(.name("h3"), units: 2)), .output("l", .reduce(.last, .name("h2"))),
      ]),
    // What a layer does past each sequence's end: Keras's masking, go_backwards, seed 000's BiGRU.
    RefModel(
      name: "hold_forward", precision: .f32, features: 3, lengths: "len",
      statements: [
        .gru(layer("h", "x", 5, plain, hold: true)),
        .output("y", .name("h")), .output("d", .dense(.name("h"), units: 2)), .output("s", .state("h")),
        .output("m", .reduce(.mean, .name("h"))), .output("l", .reduce(.last, .name("h"))),
      ]),
    RefModel(
      name: "hold_sigmoid_stacked", precision: .f64, features: 2, layout: .timeMajor, lengths: "len",
      statements: [
        .gru(layer("h1", "x", 4, tf1, activation: .sigmoid, hold: true)),
        .gru(layer("h2", "h1", 3, chung, hold: true)),
        .output("y1", .name("h1")), .output("y2", .activation(.tanh, .name("h2"))),
        .output("mx", .reduce(.max, .name("h2"))),
      ]),
    RefModel(
      name: "go_backwards", precision: .f32, features: 3, lengths: "len",
      statements: [
        .gru(layer("h", "x", 4, tf1, direction: .reverse, hold: true, processingOrder: true)),
        .output("y", .name("h")), .output("s", .state("h")),
      ]),
    RefModel(
      name: "processing_order", precision: .f64, features: 2,
      statements: [
        .gru(layer("h", "x", 4, plain, direction: .bidirectional, merge: .sum, processingOrder: true)),
        .output("y", .name("h")), .output("l", .reduce(.last, .name("h"))),
      ]),
    RefModel(
      name: "hold_bidir_processing", precision: .f64, features: 3, lengths: "len",
      statements: [
        .gru(layer("h", "x", 3, chung, direction: .bidirectional, initialGiven: true, hold: true, processingOrder: true)),
        .output("y", .name("h")), .output("s", .state("h")),
      ]),
    RefModel(
      name: "padding_processed_bidir", precision: .f32, features: 3, lengths: "len",
      statements: [
        .gru(layer("h", "x", 5, tf1, direction: .bidirectional, processingOrder: true, paddingProcessed: true)),
        .output("states", .name("h")), .output("mean_state", .reduce(.mean, .name("h"))),
      ]),
    RefModel(
      name: "padding_processed_reverse", precision: .f64, features: 2, lengths: "len",
      statements: [
        .gru(layer("h", "x", 4, plain, direction: .reverse, activation: .sigmoid, paddingProcessed: true)),
        .gru(layer("g", "h", 3, chung)),
        .output("y", .name("h")), .output("s", .state("h")), .output("mx", .reduce(.max, .name("h"))),
        .output("d", .dense(.name("h"), units: 2)), .output("l", .reduce(.last, .name("g"))), .output("z", .name("g")),
      ]),
    RefModel(
      name: "padding_processed_forward", precision: .f32, features: 2, lengths: "len",
      statements: [
        .gru(layer("h", "x", 4, plain, paddingProcessed: true)),
        .output("y", .name("h")), .output("s", .state("h")), .output("m", .reduce(.mean, .name("h"))),
      ]),
    // Normalisation layers: a batchnorm between the input and a gru (folded into its input
    // weights), between two grus, and after one; one that cannot fold (bias none; read by an
    // output too); layernorm after grus, over the padding a layer processes, and on the input.
    RefModel(
      name: "batchnorm_input", precision: .f32, features: 3, lengths: "len",
      statements: [
        .norm(RefNorm(kind: .batch, name: "n", source: "x", epsilon: 1e-3)),
        .gru(layer("h", "x", 5, plain).with(source: "n")),
        .output("y", .name("h")), .output("s", .state("h")),
      ]),
    RefModel(
      name: "batchnorm_between", precision: .f64, features: 2, layout: .timeMajor,
      statements: [
        .gru(layer("h1", "x", 4, tf1)),
        .norm(RefNorm(kind: .batch, name: "n", source: "h1", epsilon: 1e-5, scale: false)),
        .gru(layer("h2", "n", 3, plain, direction: .bidirectional, merge: .concat)),
        .norm(RefNorm(kind: .layer, name: "l", source: "h2", epsilon: 1e-5)),
        .output("y", .dense(.name("l"), units: 2)), .output("m", .reduce(.mean, .name("l"))),
      ]),
    RefModel(
      name: "batchnorm_after", precision: .f32, features: 3, lengths: "len",
      statements: [
        .gru(layer("h", "x", 5, chung)),
        .norm(RefNorm(kind: .batch, name: "n", source: "h", epsilon: 0.01, center: false)),
        .gru(layer("g", "n", 4, chung)),
        .output("y", .name("n")), .output("z", .name("g")), .output("mx", .reduce(.max, .name("n"))),
      ]),
    RefModel(
      name: "norm_stream", precision: .f32, features: 4,
      statements: [
        .norm(RefNorm(kind: .layer, name: "l0", source: "x", epsilon: 1e-3, scale: false, center: false)),
        .norm(RefNorm(kind: .batch, name: "n", source: "l0", epsilon: 1e-3)),
        .gru(layer("h", "n", 6, tf1)),
        .norm(RefNorm(kind: .layer, name: "l", source: "h", epsilon: 1e-3)),
        .output("y", .dense(.name("l"), units: 3)), .output("last", .reduce(.last, .name("l"))),
      ]),
    RefModel(
      name: "norm_padding_processed", precision: .f64, features: 3, lengths: "len",
      statements: [
        .norm(RefNorm(kind: .batch, name: "n", source: "x", epsilon: 1e-3)),
        .gru(layer("h", "n", 4, plain, direction: .reverse, paddingProcessed: true).with(source: "n")),
        .norm(RefNorm(kind: .layer, name: "l", source: "h", epsilon: 1e-5)),
        .output("y", .name("l")), .output("m", .reduce(.mean, .name("l"))),
      ]),
    // Names that are C keywords, API parameter names or the streaming struct's own members.
    RefModel(
      name: "c_names", precision: .f64, input: "float", features: 2, lengths: "len",
      statements: [
        .gru(layer("int", "float", 4, plain)),
        .gru(layer("steps", "int", 3, tf1)),
        .output("m", .reduce(.mean, .name("steps"))),
        .gru(layer("m_acc", "steps", 3, chung)),
        .output("return", .name("m_acc")),
        .output("scratch", .state("int")),
        .output("h_out", .dense(.name("int"), units: 2)),
      ]),
    // Names whose C spellings collide: a layer named like another's forward pass, outputs named
    // like the API's parameters, each other's strides, an initial state, or the model's functions.
    RefModel(
      name: "c_name_clashes", precision: .f32, features: 3, lengths: "len",
      statements: [
        .gru(layer("h", "x", 4, plain, direction: .bidirectional, initialGiven: true)),
        .gru(layer("h_fw", "h", 3, tf1, initialGiven: true)),
        .output("state", .name("h_fw")), .output("state_", .state("h")), .output("h_h0", .state("h_fw")),
        .output("y", .dense(.name("h_fw"), units: 2)), .output("y_b", .reduce(.last, .name("h_fw"))),
        .output("c_name_clashes_sequence", .reduce(.mean, .name("h"))),
      ]),
  ]

  /// Models whose .gru text spells out every default (direction forward, initial zero, ...).
  private static let spelledOut: Set<String> = ["bidir_concat_lengths", "initial_stacked", "variants_before_0"]

  static let models: [RefModel] = variantModels + featureModels

  static let modelNames: [String] = models.map(\.name)

  // MARK: - .gru text from a config

  /// The model as .gru text. Without a weights file every tensor is drawn from uniform(-0.6, 0.6),
  /// so gates do not saturate and biases are not zero.
  static func gruText(_ m: RefModel, seed: UInt64, weights: String? = nil) -> String {
    let spell = spelledOut.contains(m.name)
    var input = "input \(m.input)[\(m.features)]"
    if let steps = m.steps { input += ", steps \(steps)" }
    if m.layout == .timeMajor || spell { input += ", layout \(m.layout.rawValue)" }
    if let lengths = m.lengths { input += ", lengths \(lengths)" }
    var lines = ["# generated by OptionCoverageTests", "model \(m.name)", "precision \(m.precision.rawValue)", input]
    for s in m.statements {
      switch s {
      case .gru(let l):
        var line =
          "gru \(l.name) = \(l.source) -> hidden \(l.hidden), reset \(l.reset.rawValue), "
          + "update \(l.update.rawValue), bias \(l.bias.rawValue)"
        if l.direction != .forward || spell { line += ", direction \(l.direction.rawValue)" }
        if l.direction == .bidirectional && (l.merge != .concat || spell) { line += ", merge \(l.merge.rawValue)" }
        if l.initialGiven || spell { line += ", initial \(l.initialGiven ? "given" : "zero")" }
        if l.outputActivation != .identity || spell { line += ", output-activation \(l.outputActivation.rawValue)" }
        if l.pastEndHold { line += ", past-end hold" }
        if l.processingOrder { line += ", output-order processing" }
        if l.paddingProcessed { line += ", padding processed" }
        lines.append(line)
      case .sequence(let l):
        lines.append(l.line)
      case .norm(let n): lines.append(n.line)
      case .binding(let name, let e, let isOutput):
        lines.append("\(isOutput ? "output" : "let") \(name) = \(render(e))")
      }
    }
    lines += weights.map { ["weights \"\($0)\""] } ?? ["init seed \(seed)", "init * uniform(-0.6, 0.6)"]
    // A norm layer's variance must be positive, and a gamma near 1 keeps the values in range.
    let norms = m.statements.compactMap { if case .norm(let n) = $0 { return n } else { return nil } }
    if weights == nil && norms.contains(where: { $0.kind == .batch }) { lines.append("init *.variance uniform(0.3, 1.6)") }
    if weights == nil && norms.contains(where: \.scale) { lines.append("init *.gamma uniform(0.5, 1.5)") }
    return lines.joined(separator: "\n") + "\n"
  }

  private static func render(_ e: RefExpr) -> String {
    switch e {
    case .name(let n): return n
    case .state(let layer): return "state(\(layer))"
    case .dense(let inner, let units, let unshared):
      return "dense(\(render(inner)), \(units)\(unshared ? ", unshared" : ""))"
    case .activation(let a, let inner): return "\(a.rawValue)(\(render(inner)))"
    case .reduce(let r, let inner): return "\(r.rawValue)(\(render(inner)))"
    }
  }

  // MARK: - Tests

  /// The configs, taken together, use every option and every value of it.
  @Test func configsCoverEveryOption() {
    var seen = Set<String>()
    func visit(_ e: RefExpr) {
      switch e {
      case .name: break
      case .state: seen.insert("head state")
      case .dense(let inner, _, let unshared):
        seen.insert(unshared ? "head dense unshared" : "head dense")
        visit(inner)
      case .activation(let a, let inner):
        seen.insert("head \(a.rawValue)")
        visit(inner)
      case .reduce(let r, let inner):
        seen.insert("head \(r.rawValue)")
        visit(inner)
      }
    }
    for m in Self.models {
      seen.insert(m.precision.rawValue)
      seen.insert(m.layout.rawValue)
      if m.steps != nil { seen.insert("steps") }
      if m.layers.count >= 3 { seen.insert("three layers") }
      for l in m.layers {
        seen.insert("\(l.reset) \(l.update) \(l.bias)")
        seen.insert("direction \(l.direction)")
        if m.lengths != nil { seen.insert("lengths \(l.direction)") }
        if l.direction == .bidirectional { seen.insert("merge \(l.merge)") }
        if l.initialGiven { seen.insert("initial given") }
        seen.insert("output-activation \(l.outputActivation)")
        if l.pastEndHold { seen.insert("past-end hold \(l.direction)") }
        if l.processingOrder { seen.insert("output-order processing \(l.direction)\(m.lengths == nil ? "" : " lengths")") }
        if l.paddingProcessed { seen.insert("padding processed \(l.direction)") }
        if l.source != m.input && m.layers.allSatisfy({ $0.name != l.source }) { seen.insert("let feeds gru") }
      }
      for s in m.statements { if case .binding(_, let e, _) = s { visit(e) } }
      for s in m.statements {
        guard case .norm(let n) = s else { continue }
        seen.insert(n.keyword)
        if !n.scale { seen.insert("\(n.keyword) scale no") }
        if !n.center { seen.insert("\(n.keyword) center no") }
      }
      if m.outputs.count >= 3 { seen.insert("several outputs") }
    }
    var required = Set(Self.variants.map { "\($0.reset) \($0.update) \($0.bias)" })
    required.formUnion(RefLayer.Direction.allCases.map { "direction \($0)" })
    required.formUnion(RefLayer.Direction.allCases.map { "lengths \($0)" })
    required.formUnion(RefLayer.Merge.allCases.map { "merge \($0)" })
    required.formUnion(RefActivation.allCases.filter { $0 != .softmax }.map { "output-activation \($0)" })
    required.formUnion(RefActivation.allCases.map { "head \($0.rawValue)" })
    required.formUnion(RefReduction.allCases.map { "head \($0.rawValue)" })
    required.formUnion([
      "f32", "f64", "batch-major", "time-major", "steps", "three layers", "initial given", "let feeds gru",
      "head dense", "head dense unshared", "head state", "head l2norm", "several outputs",
      "past-end hold forward", "past-end hold reverse", "past-end hold bidirectional",
      "output-order processing reverse lengths", "output-order processing bidirectional",
      "output-order processing bidirectional lengths",
      "padding processed forward", "padding processed reverse", "padding processed bidirectional",
      "batchnorm", "layernorm", "batchnorm scale no", "batchnorm center no", "layernorm scale no", "layernorm center no",
    ])
    #expect(required.subtracting(seen).isEmpty, "not covered: \(required.subtracting(seen).sorted())")
    #expect(Set(Self.modelNames).count == Self.models.count, "model names must be unique")
  }

  /// Models the C runs in chunks of steps, over sequences that cross chunk boundaries: states
  /// carried from chunk to chunk, reductions accumulated over chunks, lengths ending in any
  /// chunk, per-step weights by the sequence's step, and batches of 7 (blocks of 6 rows plus one).
  static let chunkedModelNames = [
    "time_major_stream", "heads_all", "stacked_stream", "dense_feeds_gru", "softmax_per_step", "input_heads",
    "padding_processed_forward", "initial_stacked", "variants_before_0", "norm_stream", "batchnorm_after",
  ]

  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"), arguments: chunkedModelNames)
  func chunksOfStepsGiveTheSameNumbers(name: String) throws {
    let index = try #require(Self.modelNames.firstIndex(of: name))
    let model = Self.models[index]
    let dir = try EndToEnd.temporaryDirectory("chunks-\(name)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("\(name).gru").path
    try Self.gruText(model, seed: UInt64(index) + 1).write(toFile: path, atomically: false, encoding: .utf8)
    let (_, optimised) = try EndToEnd.modules(for: path)
    #expect(CInterface(optimised).plan.sequence.chunkSteps == SequencePlan.defaultChunkSteps, "\(name) is not chunked")
    let chunk = SequencePlan.defaultChunkSteps
    let check = DifferentialCheck(
      modelPath: path, model: model,
      cases: EndToEnd.cases(for: model, seed: UInt64(index) + 3000, steps: [chunk + 1, 2 * chunk + 7, 2 * chunk], batch: 7))
    let table = try check.run()
    print("e2e chunks \(name) (\(model.precision.rawValue)): \(table.summary)")
  }

  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"), arguments: modelNames)
  func optionModelMatchesInterpreterAndReference(name: String) throws {
    let index = try #require(Self.modelNames.firstIndex(of: name))
    let model = Self.models[index]
    let dir = try EndToEnd.temporaryDirectory("options-\(name)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("\(name).gru").path
    try Self.gruText(model, seed: UInt64(index) + 1).write(toFile: path, atomically: false, encoding: .utf8)
    let check = DifferentialCheck(
      modelPath: path, model: model, cases: EndToEnd.cases(for: model, seed: UInt64(index) + 2000))
    let table = try check.run()
    print("e2e options \(name) (\(model.precision.rawValue)): \(table.summary)")
  }
}

extension RefLayer {
  /// The layer reading another sequence.
  fileprivate func with(source: String) -> RefLayer {
    var l = self
    l.source = source
    return l
  }
}
