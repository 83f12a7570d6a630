// The importer on PyTorch CRNNs exported by both exporters (Tests/Fixtures/import/onnx_crnn_*):
// the .gru text and the tensors it writes, compared with golden files in
// Tests/Fixtures/onnx-import-golden (GRUCC_UPDATE_GOLDEN=1 rewrites them; read them before
// committing). That the numbers are right is FrameworkFixtureTests' job, once the layers compile.

import Foundation
import Testing

@testable import GruccCore

@Suite struct OnnxCrnnImportTests {
  static let golden = EndToEnd.repositoryRoot.appendingPathComponent("Tests/Fixtures/onnx-import-golden")

  static let crnnCases = FrameworkFixture.all.map(\.name).filter { $0.hasPrefix("onnx_crnn_") }

  static func imported(_ name: String) throws -> ImportedModel {
    let fixture = try #require(FrameworkFixture.named(name))
    let path = fixture.directory.appendingPathComponent(fixture.model).path
    let model = try Driver.onnxModel([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), path: path)
    return try OnnxImporter.importModel(model, modelName: "m", weightsFile: "m.safetensors", sourceName: path).get()
  }

  /// The .gru text without its first line (which names grucc's version), then each tensor's
  /// name, type and shape.
  static func summary(_ m: ImportedModel) -> String {
    let lines = m.source.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("# Imported by grucc") }
    let tensors = m.tensors.map { "# tensor \($0.name) \($0.dtype) \(shapeText($0.shape))" }
    return lines.joined(separator: "\n") + tensors.joined(separator: "\n") + "\n"
  }

  @Test(arguments: [
    "onnx_crnn_issue15_dynamo", "onnx_crnn_issue15_ts", "onnx_crnn_issue15_ts_nofold", "onnx_crnn_pools_ts",
    "onnx_crnn_batchnorm_dynamo", "onnx_crnn_symmetric_ts", "onnx_crnn_stride2_dynamo",
  ])
  func importedTextMatchesItsGoldenFile(name: String) throws {
    let text = Self.summary(try Self.imported(name))
    let file = Self.golden.appendingPathComponent("\(name).gru")
    if Golden.updating {
      try FileManager.default.createDirectory(at: Self.golden, withIntermediateDirectories: true)
      try Data(text.utf8).write(to: file)
      return
    }
    let expected = try String(contentsOf: file, encoding: .utf8)
    #expect(text == expected, "\(name): the import changed; GRUCC_UPDATE_GOLDEN=1 rewrites \(file.path)\n\(text)")
  }

  /// Every CRNN fixture imports, and the text parses and passes Sema (that it computes the
  /// framework's numbers is FrameworkFixtureTests').
  @Test(arguments: crnnCases)
  func everyCrnnFixtureImportsAndChecks(name: String) throws {
    let m = try Self.imported(name)
    let source = SourceFile(path: "\(name).gru", text: m.source)
    let (file, parsed) = Parser.parse(source)
    #expect(!parsed.hasErrors, "\(name): \(parsed.diagnostics.map(\.message.text))\n\(m.source)")
    let (model, checked) = Sema.check(file, source: source)
    #expect(model != nil && !checked.hasErrors, "\(name): \(checked.diagnostics.map(\.message.text))\n\(m.source)")
  }

  /// The two exporters write different graphs for one model (dynamo folds F.pad into the Conv's
  /// pads, TorchScript keeps a Pad node); grucc reads the same layers from both (named after
  /// the modules where the graph keeps their names, so the names may differ).
  @Test(arguments: ["causal", "dilation", "depthwise", "batchnorm", "pools", "layernorm", "normalize", "issue15", "stride2", "symmetric"])
  func bothExportersGiveTheSameLayers(stem: String) throws {
    // Each layer line as its keyword and its options (after "->").
    let layers = { (m: ImportedModel) -> [String] in
      m.source.split(separator: "\n").compactMap { line -> String? in
        let words = line.split(separator: " ", maxSplits: 1)
        guard let keyword = words.first, ["conv1d", "batchnorm", "layernorm", "pad", "pool", "gru"].contains(String(keyword)),
          let arrow = line.range(of: "->")
        else { return nil }
        return "\(keyword) \(line[arrow.upperBound...])"
      }
    }
    let dynamo = try Self.imported("onnx_crnn_\(stem)_dynamo")
    let ts = try Self.imported("onnx_crnn_\(stem)_ts")
    #expect(!layers(dynamo).isEmpty && layers(dynamo) == layers(ts))
    // The same numbers in the same order (the tensors of a layer are written together).
    #expect(dynamo.tensors.map(\.shape) == ts.tensors.map(\.shape))
    for (a, b) in zip(dynamo.tensors, ts.tensors) {
      #expect(zip(a.values, b.values).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($0)) }, "\(a.name) and \(b.name) differ")
    }
  }
}
