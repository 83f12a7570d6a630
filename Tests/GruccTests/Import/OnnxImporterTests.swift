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

/// The folder and the layout tracker under hostile numbers: real exports whose small integer
/// constants, attributes and dimensions are replaced by random values (0, -1, huge, NaN...).
/// Every import must end in a model or an error, never a trap. GRUCC_IMPORT_FUZZ=N runs N rounds.
@Suite struct OnnxImporterMutationTests {
  static let cases = [
    "onnx_dynamo_dynamic_stacked3_every", "onnx_dynamo_fixed_bidir2_h0_hn", "onnx_ts_packed_unsorted",
    "onnx_ts_packed_unsorted_fixed_heads", "onnx_ts_dynamic_bidir3_every", "tf2onnx_heads", "onnx_ts_bidir_hn_cat",
  ]

  static let hostile: [Double] = [
    0, 1, -1, 2, -2, 3, 6, -7, 63, 2_147_483_648, -2_147_483_648, 9.2e18, -9.2e18, 4.6e18, .nan, .infinity, -.infinity, 0.5, 1e30,
  ]

  @Test(arguments: cases) func mutatedNumbersNeverTrap(_ name: String) throws {
    let path = FrameworkFixture.root.appendingPathComponent("\(name)/model.onnx").path
    let model = try Driver.onnxModel([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), path: path)
    let rounds = Int(ProcessInfo.processInfo.environment["GRUCC_IMPORT_FUZZ"] ?? "") ?? 80
    var rng = EndToEnd.Random(UInt64(name.count) * 7919)
    var imported = 0
    for _ in 0..<rounds {
      var m = model
      for _ in 0..<rng.int(1...3) {
        let value = Self.hostile[rng.int(0...(Self.hostile.count - 1))]
        switch rng.int(0...2) {
        case 0:
          // A small initializer (shapes, axes, indices; not the weights).
          let small = m.graph.initializers.indices.filter { m.graph.initializers[$0].values.count <= 8 && !m.graph.initializers[$0].values.isEmpty }
          guard let i = small.isEmpty ? nil : small[rng.int(0...(small.count - 1))] else { continue }
          let k = rng.int(0...(m.graph.initializers[i].values.count - 1))
          m.graph.initializers[i].values[k] = value
        case 1:
          // An int or ints attribute, or a Constant node's value.
          let n = rng.int(0...(m.graph.nodes.count - 1))
          guard !m.graph.nodes[n].attributes.isEmpty else { continue }
          let a = rng.int(0...(m.graph.nodes[n].attributes.count - 1))
          switch m.graph.nodes[n].attributes[a].value {
          case .int where value.isFinite: m.graph.nodes[n].attributes[a].value = .int(Int64(max(-9e18, min(9e18, value))))
          case .ints(var v) where value.isFinite && !v.isEmpty:
            v[rng.int(0...(v.count - 1))] = Int64(max(-9e18, min(9e18, value)))
            m.graph.nodes[n].attributes[a].value = .ints(v)
          case .tensor(var t) where !t.values.isEmpty && t.values.count <= 8:
            t.values[rng.int(0...(t.values.count - 1))] = value
            m.graph.nodes[n].attributes[a].value = .tensor(t)
          default: continue
          }
        default:
          // A declared input dimension.
          let i = rng.int(0...(m.graph.inputs.count - 1))
          guard var shape = m.graph.inputs[i].shape, !shape.isEmpty, value.isFinite, value >= 0, value < 1e12 else { continue }
          shape[rng.int(0...(shape.count - 1))] = .fixed(Int(value))
          m.graph.inputs[i].shape = shape
        }
      }
      let outcome = OnnxImporter.importModel(m, modelName: "m", weightsFile: "m.safetensors", sourceName: "m.onnx")
      if case .success(let result) = outcome {
        imported += 1
        // What imports must compile as written.
        let front = Compiler.frontEnd(SourceFile(path: "m.gru", bytes: Array(result.source.utf8)))
        #expect(front.module != nil, "\(result.source)")
      }
    }
    #expect(imported > 0, "some mutations leave the model valid (a changed unused value)")
  }
}

@Suite struct OnnxImportDeterminismTests {
  /// The same model imports to the same text and tensors every time (nothing is emitted in
  /// Dictionary order).
  @Test(arguments: FrameworkFixtureTests.onnxCases) func importsAreRepeatable(_ name: String) throws {
    let path = FrameworkFixture.root.appendingPathComponent("\(name)/model.onnx").path
    let model = try Driver.onnxModel([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), path: path)
    let a = try OnnxImporter.importModel(model, modelName: "m", weightsFile: "w.safetensors", sourceName: path).get()
    let b = try OnnxImporter.importModel(model, modelName: "m", weightsFile: "w.safetensors", sourceName: path).get()
    #expect(a.source == b.source && a.tensors == b.tensors && a.inputs == b.inputs && a.outputs == b.outputs)
    #expect(Safetensors.write(a.tensors, metadata: []) == Safetensors.write(b.tensors, metadata: []))
  }
}
