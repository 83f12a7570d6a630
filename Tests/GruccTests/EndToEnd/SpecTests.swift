// Every model in Specs/ end to end: its C (clang -O3, strict warnings) against the interpreter and
// against the independent reference, built from a description written here by hand from the
// .gru file's comments, so a front-end misreading of a Spec shows up as a numeric difference.

import Foundation
import Testing

@testable import GruccCore

@Suite struct SpecTests {
  /// The hand-written description of each Spec, by file base name.
  static let descriptions: [String: RefModel] = [
    "seed000-bigru": RefModel(
      name: "seed000_bigru", precision: .f32, features: 28, lengths: "len",
      statements: [
        .gru(
          RefLayer(
            name: "h", source: "x", hidden: 50, reset: .before, update: .keepsState, bias: .single,
            direction: .bidirectional, merge: .concat)),
        .output("states", .name("h")),
        .output("mean_state", .reduce(.mean, .name("h"))),
      ]),
    "seed000-bigru-as-written": RefModel(
      name: "seed000_bigru_seed", precision: .f32, features: 28, lengths: "len",
      statements: [
        .gru(
          RefLayer(
            name: "h", source: "x", hidden: 50, reset: .before, update: .keepsState, bias: .single,
            direction: .bidirectional, merge: .concat, processingOrder: true, paddingProcessed: true)),
        .output("states", .name("h")),
        .output("mean_state", .reduce(.mean, .name("h"))),
      ]),
    "seed000-gru": RefModel(
      name: "seed000", precision: .f32, features: 28,
      statements: [
        .gru(RefLayer(name: "h", source: "x", hidden: 50, reset: .before, update: .keepsState, bias: .single)),
        .output("states", .name("h")),
        .output("mean_state", .reduce(.mean, .name("h"))),
      ]),
    "seed000-no-reset": RefModel(
      name: "seed000_no_reset", precision: .f32, features: 28,
      statements: [
        .gru(RefLayer(name: "h", source: "x", hidden: 50, reset: .none, update: .keepsState, bias: .single)),
        .output("states", .name("h")),
        .output("mean_state", .reduce(.mean, .name("h"))),
      ]),
    "seed001-adder": RefModel(
      name: "adder", precision: .f64, features: 2,
      statements: [
        .gru(RefLayer(name: "h", source: "x", hidden: 16, reset: .before, update: .takesCandidate, bias: .single)),
        .output("y", .dense(.name("h"), units: 1)),
      ]),
    "seed002-tf1-gru-cell": RefModel(
      name: "tf1_cell", precision: .f32, features: 4, steps: 10,
      statements: [
        .gru(RefLayer(name: "h", source: "x", hidden: 16, reset: .before, update: .keepsState, bias: .single)),
        .output("y", .dense(.name("h"), units: 8, unshared: true)),
      ]),
    "seed002-theano-masked": RefModel(
      name: "theano_gru", precision: .f32, features: 32, layout: .timeMajor, lengths: "mask_len",
      statements: [
        .gru(RefLayer(name: "h", source: "x", hidden: 32, reset: .before, update: .takesCandidate, bias: .single)),
        .let("pooled", .reduce(.mean, .name("h"))),
        .output("p", .activation(.softmax, .dense(.name("pooled"), units: 2))),
      ]),
    "seed003-gru-cell-classifier": RefModel(
      name: "gru_classifier", precision: .f32, features: 10, layout: .timeMajor,
      statements: [
        .gru(
          RefLayer(
            name: "h", source: "x", hidden: 20, reset: .before, update: .takesCandidate, bias: .single,
            initialGiven: true)),
        .output("logits", .dense(.reduce(.last, .name("h")), units: 5)),
      ]),
    "seed003-reset-after-cell": RefModel(
      name: "ai_summer_cell", precision: .f32, features: 10,
      statements: [
        .gru(RefLayer(name: "h", source: "x", hidden: 20, reset: .after, update: .keepsState, bias: .separate)),
        .output("states", .name("h")),
      ]),
  ]

  @Test func everySpecIsDescribed() {
    #expect(EndToEnd.specNames.count >= 8)
    for name in EndToEnd.specNames {
      #expect(Self.descriptions[name] != nil, "Specs/\(name).gru has no hand-written description in SpecTests")
    }
  }

  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"), arguments: EndToEnd.specNames)
  func specMatchesInterpreterAndReference(spec: String) throws {
    let model = try #require(Self.descriptions[spec], "Specs/\(spec).gru has no description")
    let seed = UInt64(EndToEnd.specNames.firstIndex(of: spec)!) + 1000
    let check = DifferentialCheck(
      modelPath: EndToEnd.specPath(spec), model: model,
      cases: EndToEnd.cases(for: model, seed: seed, steps: [1, 5, 12]))
    let table = try check.run()
    print("e2e spec \(spec) (\(model.precision.rawValue)): \(table.summary)")
  }
}
