// conv1d weights read in the frameworks' own layouts (Tools/make-conv1d-weight-fixtures.py):
// Keras's Conv1D kernel [K, C/G, F] and DepthwiseConv1D kernel [K, C, m], PyTorch's nn.Conv1d
// weight [F, C/G, K]. The interpreter must give each framework's output from its file, and the
// C the interpreter's; a missing or ill-shaped tensor is an error that names the shape expected.

import Foundation
import Testing

@testable import GruccCore

@Suite struct SequenceLayerWeightTests {
  static let fixtures = EndToEnd.repositoryRoot.appendingPathComponent("Tests/Fixtures/conv1d-weights")

  struct Case: Sendable, CustomTestStringConvertible {
    var name: String
    var input: String
    var features: Int
    var conv: RefConv
    var file: String
    var format: String
    var map: String?
    var expected: String
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(
      name: "keras Conv1D", input: "x", features: 3,
      conv: RefConv(name: "c", source: "x", filters: 4, kernel: 3, dilation: 2, padding: .causal, activation: .relu),
      file: "keras.npz", format: "keras", map: "conv", expected: "keras_conv"),
    Case(
      name: "keras DepthwiseConv1D", input: "x", features: 3,
      conv: RefConv(name: "d", source: "x", filters: 6, kernel: 3, groups: 3, padding: .same),
      file: "keras.npz", format: "keras", map: "dw", expected: "keras_dw"),
    Case(
      name: "pytorch Conv1d with a map", input: "x", features: 3,
      conv: RefConv(name: "c", source: "x", filters: 4, kernel: 3, stride: 2, padding: .valid),
      file: "pytorch.npz", format: "pytorch", map: "front.conv", expected: "torch_conv"),
    Case(
      name: "pytorch Conv1d found by its name", input: "x4", features: 4,
      conv: RefConv(name: "grouped", source: "x", filters: 6, kernel: 2, groups: 2, padding: .valid),
      file: "pytorch.npz", format: "pytorch", map: nil, expected: "torch_grouped"),
  ]

  static func text(_ c: Case, filters: Int? = nil, map: String? = nil) -> String {
    var conv = c.conv
    if let filters { conv.filters = filters }
    var lines = [
      "model m", "input x[\(c.features)]", conv.line, "output y = \(conv.name)",
      "weights \"\(fixtures.appendingPathComponent(c.file).path)\", format \(c.format)",
    ]
    if let m = map ?? c.map { lines.append("map \(conv.name) = \"\(m)\"") }
    return lines.joined(separator: "\n") + "\n"
  }

  static func io() throws -> [String: ArrayValue] {
    let bytes = [UInt8](try Data(contentsOf: fixtures.appendingPathComponent("io.npz")))
    return Dictionary(uniqueKeysWithValues: try Npz.read(bytes).map { ($0.name, ArrayValue(shape: $0.array.shape, values: $0.array.values)) })
  }

  @Test(arguments: cases)
  func interpreterMatchesTheFramework(_ c: Case) throws {
    let dir = try EndToEnd.temporaryDirectory("conv-weights")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("m.gru").path
    try Self.text(c).write(toFile: path, atomically: false, encoding: .utf8)
    let (_, optimised) = try EndToEnd.modules(for: path)
    let io = try Self.io()
    let x = try #require(io[c.input])
    let expected = try #require(io[c.expected])
    let out = try Interpreter.run(optimised, inputs: ["x": x])
    let y = try #require(out.first { $0.name == "y" }).value
    #expect(y.shape == expected.shape)
    let worst = zip(y.values, expected.values).map { abs($0 - $1) }.max() ?? .infinity
    #expect(worst <= 1e-5, "\(c.name): max error \(worst) against the framework")
  }

  /// The C agrees with the interpreter and the reference on weights read from each file.
  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"), arguments: cases)
  func cMatchesTheInterpreter(_ c: Case) throws {
    let dir = try EndToEnd.temporaryDirectory("conv-weights-c")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("m.gru").path
    try Self.text(c).write(toFile: path, atomically: false, encoding: .utf8)
    let model = RefModel(name: "m", features: c.features, statements: [.conv1d(c.conv), .output("y", .name(c.conv.name))])
    // 9 steps keep every output's step count at T's or below (stride 2, valid).
    _ = try DifferentialCheck(modelPath: path, model: model, cases: EndToEnd.cases(for: model, seed: 3, steps: [9])).run()
  }

  /// ONNX's names (Conv's W and B as the importer writes them) beside an ONNX GRU's W, R, B, whose
  /// W has rank 3 too: the conv takes its map, the gru its own group.
  @Test func onnxConvNamesBesideAnOnnxGRU() throws {
    let dir = try EndToEnd.temporaryDirectory("conv-onnx")
    defer { try? FileManager.default.removeItem(at: dir) }
    let torch = try Npz.read([UInt8](try Data(contentsOf: Self.fixtures.appendingPathComponent("pytorch.npz"))))
    func tensor(_ name: String) throws -> NamedTensor {
      let t = try #require(torch.first { $0.name == name }?.array)
      return NamedTensor(name: name, dtype: .f32, shape: t.shape, values: t.values)
    }
    var w = try tensor("front.conv.weight")
    var b = try tensor("front.conv.bias")
    w.name = "conv1.W"
    b.name = "conv1.B"
    let h = 2
    let gru = [
      NamedTensor(name: "gru.W", dtype: .f32, shape: [1, 3 * h, 4], values: (0..<(3 * h * 4)).map { Double($0 % 7) * 0.05 - 0.1 }),
      NamedTensor(name: "gru.R", dtype: .f32, shape: [1, 3 * h, h], values: (0..<(3 * h * h)).map { Double($0 % 5) * 0.05 - 0.1 }),
      NamedTensor(name: "gru.B", dtype: .f32, shape: [1, 6 * h], values: (0..<(6 * h)).map { Double($0) * 0.01 }),
    ]
    let file = dir.appendingPathComponent("w.safetensors")
    try Data(Safetensors.write([w, b] + gru)).write(to: file)
    let path = dir.appendingPathComponent("m.gru").path
    let text = """
      model m
      input x[3]
      conv1d c = x -> filters 4, kernel 3, stride 2, padding valid
      gru h = c -> hidden \(h), reset after, update keeps-state, bias separate
      output y = c
      output s = state(h)
      weights "\(file.path)", format onnx
      map c = "conv1"

      """
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    let (_, optimised) = try EndToEnd.modules(for: path)
    let io = try Self.io()
    let out = try Interpreter.run(optimised, inputs: ["x": try #require(io["x"])])
    let y = try #require(out.first { $0.name == "y" }).value
    let expected = try #require(io["torch_conv"])
    let worst = zip(y.values, expected.values).map { abs($0 - $1) }.max() ?? .infinity
    #expect(y.shape == expected.shape && worst <= 1e-5, "max error \(worst)")
  }

  @Test func aMapThatMatchesNoConvolutionIsAnError() throws {
    let result = try compile(Self.text(Self.cases[0], map: "nothere"))
    #expect(result.exitCode == 1)
    #expect(result.stderr.contains("'map c = \"nothere\"' matches no convolution weights"), "\(result.stderr)")
    #expect(result.stderr.contains("'conv/' or 'dw/'"), "\(result.stderr)")
  }

  @Test func aKernelOfAnotherShapeIsAnErrorNamingTheExpectedShape() throws {
    let result = try compile(Self.text(Self.cases[0], filters: 5))
    #expect(result.exitCode == 1)
    let message = DiagnosticMessage.weightShapeMismatch(
      "conv/kernel", file: Self.fixtures.appendingPathComponent("keras.npz").path, found: [3, 3, 4], expected: [3, 3, 5]).text
    #expect(result.stderr.contains(message), "\(result.stderr)")
    #expect(result.stderr.contains("Keras's Conv1D kernel is [kernel, channels / groups, filters]"), "\(result.stderr)")
  }

  @Test func aMissingBiasIsAnError() throws {
    var c = Self.cases[2]
    c.map = "grouped"
    c.conv.filters = 6
    c.conv.kernel = 2
    c.features = 4
    c.conv.groups = 2
    var text = Self.text(c)
    text = text.replacingOccurrences(of: "map c = \"grouped\"", with: "map c.b = \"nothing.bias\"\nmap c = \"grouped\"")
    let result = try compile(text)
    #expect(result.exitCode == 1)
    #expect(result.stderr.contains("has no tensor 'nothing.bias'"), "\(result.stderr)")
  }

  private func compile(_ text: String) throws -> DriverResult {
    let dir = try EndToEnd.temporaryDirectory("conv-weights-err")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("m.gru").path
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    return Driver.run([path, "-o", dir.appendingPathComponent("m.c").path])
  }
}
