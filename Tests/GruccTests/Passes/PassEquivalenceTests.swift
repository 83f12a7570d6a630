// Pass equivalence: the interpreter runs the module after each pass of the standard pipeline, from
// bind-weights on, on seeded random inputs; every stage must give what the stage before it gave.

import Testing

@testable import GruccCore

@Suite struct PassEquivalenceTests {
  static let f64Models = ModelVariants.all(precision: .f64)
  static let f32Models = ModelVariants.all(precision: .f32)

  /// Interprets each stage from bind-weights on (the first with weights to run) and compares it
  /// with the previous stage, output by output.
  func checkStages(_ variant: VariantModel, tolerance: Double) throws {
    let run = InProcess.run(variant.text)
    #expect(run.errors.isEmpty, "\(InProcess.render(run.diagnostics, variant.text))")
    #expect(run.failure == nil)
    let first = try #require(run.stages.firstIndex { $0.pass == "bind-weights" })
    let stages = Array(run.stages[first...])
    #expect(stages.map(\.pass) == Array(PassPipeline.standardNames.dropFirst()))

    var random = RandomInputs(seed: UInt64(variant.name.utf8.reduce(0) { $0 &* 31 &+ UInt64($1) }))
    // Comparing zeros with zeros would prove nothing.
    var sawNonZero = false
    defer { #expect(sawNonZero, "every stage computed only zeros") }
    // No steps at all is not a run: the interpreter refuses it, as run_batch does.
    if stages[0].module.steps == nil {
      let empty = random.inputs(for: stages[0].module, batch: 2, steps: 0)
      #expect(throws: InterpreterError.self) { try Interpreter.run(stages[0].module, inputs: empty) }
    }
    // The first trial has a single step (unless the model fixes T).
    for trial in 0..<4 {
      let steps = trial == 0 ? 1 : random.integer(1...5)
      let inputs = random.inputs(for: stages[0].module, batch: random.integer(2...3), steps: steps)
      var previous: (pass: String, outputs: [(name: String, value: ArrayValue)])?
      for (pass, module) in stages {
        let outputs = try Interpreter.run(module, inputs: inputs)
        if outputs.contains(where: { $0.value.values.contains { $0 != 0 } }) { sawNonZero = true }
        if let previous {
          #expect(outputs.map(\.name) == previous.outputs.map(\.name), "\(pass) renamed outputs")
          for (a, b) in zip(previous.outputs, outputs) {
            #expect(a.value.shape == b.value.shape, "\(pass), output \(a.name)")
            let gap = maxDifference(a.value.values, b.value.values)
            #expect(
              gap <= tolerance,
              "trial \(trial): '\(b.name)' after \(pass) differs from after \(previous.pass) by \(gap)")
          }
        }
        previous = (pass, outputs)
      }
    }
  }

  private func maxDifference(_ a: [Double], _ b: [Double]) -> Double {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
  }

  @Test(arguments: f64Models)
  func f64StagesAgree(_ variant: VariantModel) throws {
    try checkStages(variant, tolerance: 1e-12)
  }

  @Test(arguments: f32Models)
  func f32StagesAgree(_ variant: VariantModel) throws {
    try checkStages(variant, tolerance: 1e-5)
  }

  /// The set is as broad as it claims: every variant, direction, merge and head occurs.
  @Test func modelSetCoversTheLanguage() {
    let text = Self.f64Models.map(\.text).joined(separator: "\n")
    for word in ResetPlacement.allCases.map({ "reset \($0.rawValue)" })
      + UpdateConvention.allCases.map({ "update \($0.rawValue)" }) + BiasLayout.allCases.map({ "bias \($0.rawValue)" })
      + Direction.allCases.map({ "direction \($0.rawValue)" }) + MergeMode.allCases.map({ "merge \($0.rawValue)" })
      + [
        "lengths", "initial given", "time-major", "steps", "unshared", "state(", "mean(", "max(", "last(", "softmax(",
        "output-activation sigmoid", "output-activation tanh", "output-activation relu",
      ]
    {
      #expect(text.contains(word), "no model uses '\(word)'")
    }
  }

  /// The lowered GRU (a scan) agrees with the interpreter's direct reading of the equations even on
  /// batches where every sequence is empty.
  @Test func allEmptySequencesGiveZerosAtEveryStage() throws {
    let variant = try #require(Self.f64Models.first { $0.name == "f64-bidirectional-concat-with-lengths" })
    let run = InProcess.run(variant.text)
    var random = RandomInputs(seed: 5)
    var inputs = random.inputs(for: run.stages[0].module, batch: 2, steps: 3)
    inputs["len"] = ArrayValue(shape: [2], values: [0, 0])
    for (pass, module) in run.stages.drop(while: { $0.pass != "bind-weights" }) {
      for output in try Interpreter.run(module, inputs: inputs) {
        #expect(output.value.values.allSatisfy { $0 == 0 }, "\(output.name) after \(pass)")
      }
    }
  }
}
