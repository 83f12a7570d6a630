// Sema and shape inference for `batchnorm` and `layernorm`: the options, the errors of a bad
// epsilon or a source that is not a sequence, and the Model layer they make.

import Foundation
import Testing

@testable import GruccCore

@Suite struct NormSemaTests {
  static let head = "model m\ninput x[3], lengths len\n"

  /// The diagnostics of a source, as (case name, line:column) pairs, through shape inference.
  private func diagnostics(_ text: String) -> [(String, String)] {
    let run = InProcess.run(bytes: Array(text.utf8), tensors: nil)
    return run.diagnostics.filter { $0.severity == .error }.map { d in
      (String(describing: d.message).prefix { $0 != "(" }.description, "\(d.range.start.line):\(d.range.start.column)")
    }
  }

  @Test func bothStatementsMakeNormLayers() throws {
    let text = Self.head + """
      batchnorm n = x -> epsilon 0.001, scale no
      layernorm l = n -> epsilon 1e-5, center no
      gru h = l -> hidden 2, reset after, update keeps-state, bias separate
      output y = h
      """
    let source = SourceFile(path: "m.gru", bytes: Array(text.utf8))
    let (file, parsed) = Parser.parse(source)
    #expect(!parsed.hasErrors)
    let (model, checked) = Sema.check(file, source: source)
    #expect(!checked.hasErrors)
    let norms = try #require(model?.norms)
    #expect(norms.count == 2)
    #expect(norms[0].kind == .batch && norms[0].epsilon == 0.001 && !norms[0].scale && norms[0].center)
    #expect(norms[1].kind == .layer && norms[1].source == "n" && norms[1].scale && !norms[1].center)
  }

  @Test func epsilonIsRequiredAndPositive() {
    #expect(diagnostics(Self.head + "batchnorm n = x -> scale no\noutput y = n").map(\.0) == ["missingEpsilon"])
    #expect(diagnostics(Self.head + "layernorm n = x -> center no\noutput y = n").map(\.0) == ["missingEpsilon"])
    for bad in ["0", "-1e-3", "0.0", "small"] {
      let found = diagnostics(Self.head + "batchnorm n = x -> epsilon \(bad)\noutput y = n")
      #expect(found.map(\.0) == ["expectedNumberOption"], "epsilon \(bad): \(found)")
      #expect(found.first?.1 == "3:28", "epsilon \(bad): \(found)")
    }
    // Below the smallest double: read as 0, refused.
    #expect(diagnostics(Self.head + "layernorm n = x -> epsilon 1e-400\noutput y = n").map(\.0) == ["expectedNumberOption"])
  }

  @Test func optionsAreChecked() {
    #expect(diagnostics(Self.head + "batchnorm n = x -> epsilon 1e-3, scale maybe\noutput y = n").map(\.0) == ["invalidOptionValue"])
    #expect(diagnostics(Self.head + "batchnorm n = x -> epsilon 1e-3, momentum 0.9\noutput y = n").map(\.0) == ["unknownOption"])
    #expect(diagnostics(Self.head + "layernorm n = q -> epsilon 1e-3\noutput y = n").map(\.0) == ["unknownName"])
    #expect(diagnostics(Self.head + "layernorm x = x -> epsilon 1e-3\noutput y = x").map(\.0) == ["duplicateName"])
  }

  @Test func theSourceMustBeASequence() {
    let found = diagnostics(Self.head + "let v = mean(x)\nbatchnorm n = v -> epsilon 1e-3\noutput y = n")
    #expect(found.map(\.0) == ["expectedSequence"])
    #expect(found.first?.1 == "4:1")
    let layer = diagnostics(Self.head + "layernorm n = len -> epsilon 1e-3\noutput y = n")
    #expect(layer.map(\.0) == ["lengthsUsedAsValue"])
  }

  @Test func anUnusedNormIsWarnedAbout() {
    let run = InProcess.run(bytes: Array((Self.head + "batchnorm n = x -> epsilon 1e-3\noutput y = x").utf8), tensors: nil)
    #expect(run.diagnostics.contains { $0.severity == .warning && String(describing: $0.message).hasPrefix("unusedDefinition") })
  }
}
