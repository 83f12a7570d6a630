// batchnorm and layernorm tensors read in the frameworks' own names (Tools/make-norm-weight-
// fixtures.py): Keras's BatchNormalization gamma, beta, moving_mean, moving_variance and
// LayerNormalization gamma, beta; PyTorch's nn.BatchNorm1d weight, bias, running_mean, running_var
// (num_batches_tracked ignored without a warning) and nn.LayerNorm weight, bias. The interpreter
// must give each framework's output from its file, and the C the interpreter's.

import Foundation
import Testing

@testable import GruccCore

@Suite struct NormWeightTests {
  static let fixtures = EndToEnd.repositoryRoot.appendingPathComponent("Tests/Fixtures/norm-weights")

  struct Case: Sendable, CustomTestStringConvertible {
    var name: String
    var epsilon: Double
    var batchnorm = "n"
    var layernorm = "l"
    var file: String
    var format: String
    /// `map` lines, as (layer, prefix).
    var maps: [(String, String)]
    /// The io.npz arrays of the batchnorm's and the layernorm's outputs.
    var expected: (String, String)
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(
      name: "keras with maps", epsilon: 1e-3, file: "keras.npz", format: "keras", maps: [("n", "bn"), ("l", "ln")],
      expected: ("keras_bn", "keras_ln")),
    Case(
      name: "keras found by the layers' names", epsilon: 1e-3, batchnorm: "bn", layernorm: "ln", file: "keras.npz",
      format: "keras", maps: [], expected: ("keras_bn", "keras_ln")),
    Case(
      name: "pytorch, a map and the only one left", epsilon: 1e-5, file: "pytorch.npz", format: "pytorch",
      maps: [("n", "front.norm")], expected: ("torch_bn", "torch_ln")),
  ]

  static func text(_ c: Case, maps: [(String, String)]? = nil, format: String? = nil) -> String {
    var lines = [
      "model m", "input x[4]", "batchnorm \(c.batchnorm) = x -> epsilon \(c.epsilon)",
      "layernorm \(c.layernorm) = \(c.batchnorm) -> epsilon \(c.epsilon)",
      "output y1 = \(c.batchnorm)", "output y2 = \(c.layernorm)",
      "weights \"\(fixtures.appendingPathComponent(c.file).path)\", format \(format ?? c.format)",
    ]
    for (layer, prefix) in maps ?? c.maps { lines.append("map \(layer) = \"\(prefix)\"") }
    return lines.joined(separator: "\n") + "\n"
  }

  static func io() throws -> [String: ArrayValue] {
    let bytes = [UInt8](try Data(contentsOf: fixtures.appendingPathComponent("io.npz")))
    return Dictionary(uniqueKeysWithValues: try Npz.read(bytes).map { ($0.name, ArrayValue(shape: $0.array.shape, values: $0.array.values)) })
  }

  private func write(_ text: String, _ label: String) throws -> (dir: URL, path: String) {
    let dir = try EndToEnd.temporaryDirectory(label)
    let path = dir.appendingPathComponent("m.gru").path
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    return (dir, path)
  }

  @Test(arguments: cases)
  func interpreterMatchesTheFramework(_ c: Case) throws {
    let (dir, path) = try write(Self.text(c), "norm-weights")
    defer { try? FileManager.default.removeItem(at: dir) }
    let (_, optimised) = try EndToEnd.modules(for: path)
    let io = try Self.io()
    let out = try Interpreter.run(optimised, inputs: ["x": try #require(io["x"])])
    for (output, expected) in [("y1", c.expected.0), ("y2", c.expected.1)] {
      let want = try #require(io[expected])
      let y = try #require(out.first { $0.name == output }).value
      #expect(y.shape == want.shape)
      let worst = zip(y.values, want.values).map { abs($0 - $1) }.max() ?? .infinity
      #expect(worst <= 1e-5, "\(c.name), \(output): max error \(worst) against the framework")
    }
  }

  /// No warning for the tensors the layers read, nor for BatchNorm1d's num_batches_tracked.
  @Test(arguments: cases)
  func readingTheFileWarnsAboutNothing(_ c: Case) throws {
    let (dir, path) = try write(Self.text(c), "norm-weights-warn")
    defer { try? FileManager.default.removeItem(at: dir) }
    let result = Driver.run([path, "-o", dir.appendingPathComponent("m.c").path])
    #expect(result.exitCode == 0, "\(result.stderr)")
    #expect(result.stderr.isEmpty, "\(result.stderr)")
  }

  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"), arguments: cases)
  func cMatchesTheInterpreterAndTheReference(_ c: Case) throws {
    let (dir, path) = try write(Self.text(c), "norm-weights-c")
    defer { try? FileManager.default.removeItem(at: dir) }
    let model = RefModel(
      name: "m", features: 4,
      statements: [
        .norm(RefNorm(kind: .batch, name: c.batchnorm, source: "x", epsilon: c.epsilon)),
        .norm(RefNorm(kind: .layer, name: c.layernorm, source: c.batchnorm, epsilon: c.epsilon)),
        .output("y1", .name(c.batchnorm)), .output("y2", .name(c.layernorm)),
      ])
    let table = try DifferentialCheck(modelPath: path, model: model, cases: EndToEnd.cases(for: model, seed: 5)).run()
    #expect(table.maxError("C-interpreter") == 0, "\(table.summary)")
  }

  @Test func aMapThatMatchesNoNormIsAnError() throws {
    let (dir, path) = try write(Self.text(Self.cases[0], maps: [("n", "nothere"), ("l", "ln")]), "norm-weights-err")
    defer { try? FileManager.default.removeItem(at: dir) }
    let result = Driver.run([path, "-o", dir.appendingPathComponent("m.c").path])
    #expect(result.exitCode == 1)
    #expect(result.stderr.contains("'map n = \"nothere\"' matches no batchnorm tensors"), "\(result.stderr)")
    #expect(result.stderr.contains("batchnorm layers in the file: 'bn/'"), "\(result.stderr)")
  }

  @Test func twoBatchnormsWithoutMapsAreAnError() throws {
    let text = Self.text(Self.cases[0], maps: []).replacingOccurrences(
      of: "output y1 = n", with: "batchnorm n2 = n -> epsilon 0.001\noutput y1 = n2")
    let (dir, path) = try write(text, "norm-weights-two")
    defer { try? FileManager.default.removeItem(at: dir) }
    let result = Driver.run([path, "-o", dir.appendingPathComponent("m.c").path])
    #expect(result.exitCode == 1)
    #expect(result.stderr.contains("cannot tell which tensors hold batchnorm 'n'"), "\(result.stderr)")
  }

  @Test func tf1FilesHoldNoNormTensors() throws {
    let (dir, path) = try write(Self.text(Self.cases[0], format: "tf1"), "norm-weights-tf1")
    defer { try? FileManager.default.removeItem(at: dir) }
    let result = Driver.run([path, "-o", dir.appendingPathComponent("m.c").path])
    #expect(result.exitCode == 1)
    #expect(result.stderr.contains("TF1 files hold no batchnorm tensors"), "\(result.stderr)")
  }
}
