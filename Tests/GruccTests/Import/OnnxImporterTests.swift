// The ONNX importer on bad input: every error names the node and the problem, nothing crashes.
// The models are the committed fixtures with a few bytes changed, so no Python is needed.

import Foundation
import Testing

@testable import GruccCore

@Suite struct OnnxImporterTests {
  static func fixture(_ name: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: FrameworkFixture.root.appendingPathComponent("\(name)/model.onnx")))
  }

  static func importError(_ bytes: [UInt8]) -> ImportError? {
    if case .failure(let e) = OnnxImporter.importModel(bytes, modelName: "m", weightsFile: "m.safetensors", sourceName: "m.onnx") { return e }
    return nil
  }

  /// Replaces the first occurrence of `old` by `new` (same length, so the protobuf stays valid).
  static func patched(_ bytes: [UInt8], _ old: [UInt8], _ new: [UInt8]) throws -> [UInt8] {
    let at = try #require((0...(bytes.count - old.count)).first { Array(bytes[$0..<($0 + old.count)]) == old })
    var b = bytes
    b.replaceSubrange(at..<(at + old.count), with: new)
    return b
  }

  @Test func anUnsupportedOperatorIsNamed() throws {
    // op_type (field 4, length 3) "GRU" → "RNN"
    let bytes = try Self.patched(try Self.fixture("onnx_node_lbr0"), [0x22, 3] + Array("GRU".utf8), [0x22, 3] + Array("RNN".utf8))
    let e = try #require(Self.importError(bytes))
    #expect(e.description.contains("(RNN)") && e.description.contains("not supported"), "\(e)")
  }

  @Test func anUnknownAttributeIsNamed() throws {
    let bytes = try Self.patched(try Self.fixture("onnx_node_clip"), Array("clip".utf8), Array("clap".utf8))
    let e = try #require(Self.importError(bytes))
    #expect(e.description.contains("attribute 'clap' is not supported"), "\(e)")
  }

  @Test func anUnknownActivationIsNamed() throws {
    let bytes = try Self.patched(
      try Self.fixture("onnx_node_act_softsign_softplus"), Array("Softplus".utf8), Array("Softpluz".utf8))
    let e = try #require(Self.importError(bytes))
    #expect(e.description.contains("'Softpluz'"), "\(e)")
  }

  /// Every prefix of a real export fails cleanly (or, where protobuf cannot tell, imports).
  @Test func truncatedModelsNeverCrash() throws {
    let bytes = try Self.fixture("onnx_torch_gru")
    var failures = 0
    for n in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 400)) {
      if Self.importError(Array(bytes[0..<n])) != nil { failures += 1 }
    }
    #expect(failures > 300)
  }

  /// Random byte flips: an error or a model, never a trap.
  @Test func corruptedModelsNeverCrash() throws {
    let bytes = try Self.fixture("onnx_torch_bigru")
    var rng = EndToEnd.Random(42)
    for _ in 0..<300 {
      var b = bytes
      for _ in 0..<3 { b[rng.int(0...(b.count - 1))] = UInt8(truncatingIfNeeded: rng.next()) }
      _ = OnnxImporter.importModel(b, modelName: "m", weightsFile: "m.safetensors", sourceName: "m.onnx")
    }
  }

  @Test func importCommandErrors() throws {
    let dir = try EndToEnd.temporaryDirectory("import-errors")
    defer { try? FileManager.default.removeItem(at: dir) }
    let onnx = FrameworkFixture.root.appendingPathComponent("onnx_node_lbr0/model.onnx").path
    let notGru = Driver.run(["import", onnx, "-o", dir.appendingPathComponent("m.c").path])
    #expect(notGru.exitCode == 1 && notGru.stderr.contains("must end in '.gru'"))
    let notOnnx = Driver.run(["import", EndToEnd.specPath("seed000-gru")])
    #expect(notOnnx.exitCode == 1 && notOnnx.stderr.contains("reads ONNX models"))
    let garbage = dir.appendingPathComponent("g.onnx")
    try Data("not a model".utf8).write(to: garbage)
    let bad = Driver.run(["import", garbage.path, "-o", dir.appendingPathComponent("g.gru").path])
    #expect(bad.exitCode == 1 && bad.stderr.contains("g.onnx: error:"), "\(bad.stderr)")
    #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("g.gru").path))
  }
}
