// Trained weights end to end: the test draws its own tensors under grucc's names, writes them to a
// safetensors file the model names, and feeds the same values to the reference, so the C is checked
// against weights grucc did not produce (names, shapes, gate order and rounding to f32 included).

import Foundation
import Testing

@testable import GruccCore

@Suite struct WeightsFileTests {
  private static let models: [(model: RefModel, fileDType: TensorDType)] = [
    (
      RefModel(
        name: "trained_pytorch_like", precision: .f32, features: 3, lengths: "len",
        statements: [
          .gru(RefLayer(name: "h", source: "x", hidden: 6, reset: .after, update: .keepsState, bias: .separate)),
          .output("y", .dense(.reduce(.last, .name("h")), units: 2)),
        ]),
      .f32
    ),
    (
      // An f64 file for an f32 model: grucc must round each value to float once, as the reference does.
      RefModel(
        name: "trained_rounded", precision: .f32, features: 2,
        statements: [
          .gru(
            RefLayer(
              name: "h", source: "x", hidden: 5, reset: .before, update: .takesCandidate, bias: .single,
              direction: .bidirectional, merge: .concat)),
          .output("y", .name("h")), .output("s", .state("h")),
        ]),
      .f64
    ),
    (
      RefModel(
        name: "trained_f64", precision: .f64, features: 4, steps: 5,
        statements: [
          .gru(RefLayer(name: "h1", source: "x", hidden: 4, reset: .none, update: .keepsState, bias: .none)),
          .gru(RefLayer(name: "h2", source: "h1", hidden: 3, reset: .after, update: .takesCandidate, bias: .single)),
          .output("y", .dense(.name("h2"), units: 2, unshared: true)),
        ]),
      .f64
    ),
  ]

  static let modelNames = models.map(\.model.name)

  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"), arguments: modelNames)
  func weightsFromFileReachTheC(name: String) throws {
    let index = try #require(Self.modelNames.firstIndex(of: name))
    let (model, dtype) = Self.models[index]
    var rng = EndToEnd.Random(UInt64(index) + 3000)
    var written: [NamedTensor] = []
    var expected: [String: [Double]] = [:]
    for (tensor, shape) in model.tensors.sorted(by: { $0.key < $1.key }) {
      var values = (0..<shape.reduce(1, *)).map { _ in rng.uniform(-0.7, 0.7) }
      if dtype == .f32 { values = values.map { Double(Float($0)) } }
      written.append(NamedTensor(name: tensor, dtype: dtype, shape: shape, values: values))
      expected[tensor] = model.precision == .f32 ? values.map { Double(Float($0)) } : values
    }
    let dir = try EndToEnd.temporaryDirectory("weights-\(name)")
    defer { try? FileManager.default.removeItem(at: dir) }
    try Data(Safetensors.write(written)).write(to: dir.appendingPathComponent("\(name).safetensors"))
    let path = dir.appendingPathComponent("\(name).gru").path
    try OptionCoverageTests.gruText(model, seed: 0, weights: "\(name).safetensors")
      .write(toFile: path, atomically: false, encoding: .utf8)
    let check = DifferentialCheck(
      modelPath: path, model: model, cases: EndToEnd.cases(for: model, seed: UInt64(index) + 3100),
      referenceWeights: expected)
    let table = try check.run()
    print("e2e weights \(name) (\(model.precision.rawValue)): \(table.summary)")
  }
}
