// Pass equivalence for models with batchnorm and layernorm: every stage from bind-weights on,
// fold-batchnorm included, gives what the stage before it gave (PassEquivalenceTests.checkStages).

import Testing

@testable import GruccCore

@Suite struct NormPassEquivalenceTests {
  static func variants(precision: Precision) -> [VariantModel] {
    let p = precision.rawValue
    let initLines = "init seed 4\ninit * uniform(-0.6, 0.6)\ninit *.variance uniform(0.3, 1.6)\ninit *.gamma uniform(0.5, 1.5)\n"
    return [
      VariantModel(
        name: "\(p)-batchnorm-folds-into-a-gru-layernorm-after",
        text: """
          model a
          precision \(p)
          input x[3], lengths len
          batchnorm n = x -> epsilon 0.001
          gru h = n -> hidden 4, reset before, update keeps-state, bias single, direction bidirectional
          layernorm l = h -> epsilon 0.00001
          output y = dense(l, 2)
          output m = mean(l)

          """ + initLines),
      VariantModel(
        name: "\(p)-conv-batchnorm-pad-pool-gru",
        text: """
          model b
          precision \(p)
          input x[2]
          conv1d c = x -> filters 3, kernel 4, padding causal, bias no
          batchnorm n = c -> epsilon 0.001
          pad z = n -> before 2
          pool q = z -> average 3, stride 1
          gru h = q -> hidden 3, reset after, update keeps-state, bias separate
          output s = state(h)

          """ + initLines),
      VariantModel(
        name: "\(p)-batchnorm-kept-before-an-output",
        text: """
          model c
          precision \(p)
          input x[3], lengths len
          gru h = x -> hidden 3, reset after, update takes-candidate, bias none
          batchnorm n = h -> epsilon 0.01, center no
          gru g = n -> hidden 2, reset none, update keeps-state, bias none
          output y = n
          output z = last(g)

          """ + initLines),
    ]
  }

  @Test(arguments: variants(precision: .f64))
  func f64StagesAgree(_ variant: VariantModel) throws {
    try PassEquivalenceTests().checkStages(variant, tolerance: 1e-12)
  }

  @Test(arguments: variants(precision: .f32))
  func f32StagesAgree(_ variant: VariantModel) throws {
    try PassEquivalenceTests().checkStages(variant, tolerance: 1e-5)
  }
}
