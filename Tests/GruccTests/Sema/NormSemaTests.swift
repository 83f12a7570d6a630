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

  /// A norm inside the conv1d, pad and pool chain, unfolded, is accepted (it was refused while
  /// the C front end had no norm), and with `--weights external` (no fold) it becomes a layer of
  /// the chain; a norm whose source another layer reads too still ends the chain.
  @Test(arguments: [
    "conv1d c = x -> filters 4, kernel 3, padding causal\nlayernorm l = c -> epsilon 1e-3\npool p = l -> average 2, stride 1\n",
    "batchnorm n = x -> epsilon 1e-3\nconv1d c = n -> filters 4, kernel 3, padding causal\npool p = c -> max 1\n",
    "conv1d c = x -> filters 4, kernel 3, padding causal\nbatchnorm n = c -> epsilon 1e-3\npad z = n -> before 2\npool p = z -> average 3, stride 1\n",
  ])
  func aNormInsideTheChainIsALayerOfIt(chain: String) throws {
    let text = "model m\ninput x[3]\n" + chain + "gru h = p -> hidden 2, reset after, update keeps-state, bias separate\noutput y = h\n"
    #expect(diagnostics(text).isEmpty, "\(diagnostics(text))")
    let front = Compiler.frontEnd(SourceFile(path: "m.gru", bytes: Array(text.utf8)))
    let model = try #require(front.model, "\(front.diagnostics.diagnostics)")
    var found = DiagnosticEngine()
    let pipeline = PassPipeline.standard(weights: Compiler.weightSource(for: model, file: nil), foldBatchNorm: false)
    guard case .success(let module) = pipeline.run(front.module!, diagnostics: &found) else {
      Issue.record("unfolded, the pipeline failed: \(found.diagnostics)")
      return
    }
    let inChain = module.graph.nodes.filter { if case .sequenceLayer(let l) = $0.op, case .norm = l.kind { return true } else { return false } }
    #expect(inChain.count == 1)
    let reread = "model m\ninput x[3]\nconv1d c = x -> filters 4, kernel 3, padding causal\nlayernorm l = c -> epsilon 1e-3\n"
      + "pool p = l -> max 2\ngru h = p -> hidden 2, reset after, update keeps-state, bias separate\noutput y = h\noutput z = c\n"
    #expect(diagnostics(reread).map(\.0) == ["sequenceLayerChain"])
  }

  /// A conv1d after a gru, through a norm, is a layer of the graph (not of the chain from the
  /// input); with lengths, a pool there is refused at the pool, saying why.
  @Test func aConvAfterAGruThroughANormIsALayerOfTheGraph() throws {
    let text = "model m\ninput x[3]\ngru h = x -> hidden 2, reset after, update keeps-state, bias separate\n"
      + "layernorm l = h -> epsilon 1e-3\nconv1d c = l -> filters 2, kernel 2, padding causal\noutput y = c\n"
    let run = InProcess.run(bytes: Array(text.utf8), tensors: nil)
    #expect(run.diagnostics.filter { $0.severity == .error }.isEmpty, "\(run.diagnostics.map(\.message.text))")
    let module = try #require(InProcess.frontEnd(text).module)
    let front = module.graph.frontEndLayers
    let layers = module.graph.nodes.indices.filter { if case .sequenceLayer = module.graph.nodes[$0].op { return true } else { return false } }
    #expect(layers.count == 1 && layers.allSatisfy { !front[$0] })

    let lengths = "model m\ninput x[3], lengths len\ngru h = x -> hidden 2, reset after, update keeps-state, bias separate\n"
      + "pool p = h -> average 2, stride 1\noutput y = p\n"
    let refused = InProcess.run(bytes: Array(lengths.utf8), tensors: nil)
    let messages = refused.diagnostics.filter { $0.severity == .error }.map(\.message.text)
    #expect(messages.count == 1)
    #expect(messages.first?.contains("after a gru layer, only a causal conv1d with stride 1 keeps each step's length") == true, "\(messages)")
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
