// Shape inference tests: the type every kind of value gets, and the shape errors (one per
// mistake, located at the construct, values computed from a bad one left alone).

import Testing

@testable import GruccCore

@Suite struct ShapeInferenceTests {
  /// Infers the types of a model's graph; returns each output's type and the diagnostics.
  func infer(_ text: String) throws -> (types: [String: String], module: Module, diagnostics: [Diagnostic]) {
    let front = InProcess.frontEnd(text)
    let module = try #require(front.module, "\(InProcess.render(front.diagnostics.diagnostics, text))")
    var diagnostics = DiagnosticEngine()
    let typed = ShapeInference().run(module, diagnostics: &diagnostics)
    var types: [String: String] = [:]
    for o in typed.graph.outputs { types[o.name] = typed.graph.type(of: o.value)?.description ?? "?" }
    return (types, typed, diagnostics.diagnostics)
  }

  @Test(arguments: [
    ("input x[3]", "h", "f32[B, T, 5]"),
    ("input x[3]", "s", "f32[B, 5]"),
    ("input x[3]", "pooled", "f32[B, 5]"),
    ("input x[3]", "peak", "f32[B, 5]"),
    ("input x[3]", "final", "f32[B, 5]"),
    ("input x[3]", "steps", "f32[B, T, 2]"),
    ("input x[3]", "classes", "f32[B, 4]"),
    ("input x[3], steps 6", "h", "f32[B, 6, 5]"),
    ("input x[3], steps 6", "steps", "f32[B, 6, 2]"),
    ("input x[3], steps 6", "unshared", "f32[B, 6, 7]"),
    ("input x[3], lengths len", "h", "f32[B, T, 5]"),
    ("input x[3], layout time-major", "h", "f32[B, T, 5]"),
  ])
  func outputTypes(input: String, output: String, expected: String) throws {
    let unshared = input.contains("steps") ? "output unshared = dense(h, 7, unshared)\n" : ""
    let (types, _, diagnostics) = try infer(
      """
      model m
      \(input)
      gru g = x -> hidden 5, reset before, update keeps-state, bias single
      output h = g
      output s = state(g)
      output pooled = mean(g)
      output peak = max(g)
      output final = last(g)
      output steps = tanh(dense(g, 2))
      output classes = softmax(dense(last(g), 4))
      \(unshared)
      """)
    #expect(diagnostics.isEmpty)
    #expect(types[output] == expected)
  }

  @Test(arguments: [
    ("direction bidirectional, merge concat", "f64[B, T, 8]", "f64[B, 8]"),
    ("direction bidirectional, merge sum", "f64[B, T, 4]", "f64[B, 8]"),
    ("direction bidirectional, merge mean", "f64[B, T, 4]", "f64[B, 8]"),
    ("direction bidirectional, merge mul", "f64[B, T, 4]", "f64[B, 8]"),
    ("direction bidirectional", "f64[B, T, 8]", "f64[B, 8]"),
    ("direction reverse", "f64[B, T, 4]", "f64[B, 4]"),
    ("output-activation sigmoid", "f64[B, T, 4]", "f64[B, 4]"),
  ])
  func layerTypes(options: String, sequence: String, state: String) throws {
    let (types, _, diagnostics) = try infer(
      """
      model m
      precision f64
      input x[2]
      gru g = x -> hidden 4, reset after, update keeps-state, bias separate, \(options)
      output h = g
      output s = state(g)
      """)
    #expect(diagnostics.isEmpty)
    #expect(types["h"] == sequence)
    #expect(types["s"] == state)
  }

  @Test func everyNodeIsTypedIncludingArguments() throws {
    let (_, module, diagnostics) = try infer(
      """
      model m
      input x[2], lengths len
      gru a = x -> hidden 3, reset none, update keeps-state, bias none, initial given
      gru b = a -> hidden 2, reset before, update keeps-state, bias single, direction bidirectional
      output y = dense(mean(b), 1)
      output z = b
      """)
    #expect(diagnostics.isEmpty)
    #expect(module.graph.nodes.allSatisfy { $0.types.allSatisfy { $0 != nil } })
    let arguments = module.graph.argumentNodes.map { module.graph.nodes[$0] }
    #expect(arguments.map { $0.types[0]?.description } == ["f32[B, T, 2]", "i32[B]", "f32[B, 3]"])
    #expect(Verifier.verify(module, requireTypes: true).isEmpty)
  }

  @Test func inferenceIsIdempotent() throws {
    let (_, once, _) = try infer(SemaTests.tiny("output s = state(h)"))
    var diagnostics = DiagnosticEngine()
    let twice = ShapeInference().run(once, diagnostics: &diagnostics)
    #expect(IRPrinter.print(twice) == IRPrinter.print(once))
    #expect(diagnostics.diagnostics.isEmpty)
  }

  // MARK: - Errors

  @Test(arguments: [
    ("output z = mean(last(h))", "expectedSequence", "5:12"),
    ("output z = max(state(h))", "expectedSequence", "5:12"),
    (
      "let v = last(h)\ngru g = v -> hidden 2, reset none, update keeps-state, bias none\noutput z = g",
      "expectedSequence", "6:1"
    ),
    ("output z = dense(h, 2, unshared)", "unsharedNeedsFixedSteps", "5:12"),
    ("output z = dense(last(h), 2, unshared)", "expectedSequence", "5:12"),
  ])
  func shapeErrors(extra: String, message: String, position: String) throws {
    let (_, _, diagnostics) = try infer(SemaTests.tiny(extra))
    #expect(diagnostics.map(\.message.caseName) == [message])
    #expect(diagnostics.map(\.position) == [position])
    #expect(diagnostics.allSatisfy { $0.severity == .error })
  }

  @Test func errorMessagesDescribeTheValue() throws {
    let (_, _, diagnostics) = try infer(SemaTests.tiny("output z = last(last(h))"))
    #expect(diagnostics.map(\.message) == [.expectedSequence(function: "last", found: "a 2-vector")])
  }

  /// Values computed from a badly shaped one are not reported again.
  @Test func oneErrorPerMistake() throws {
    let (types, _, diagnostics) = try infer(
      SemaTests.tiny(
        """
        let v = mean(mean(h))
        gru g = v -> hidden 2, reset none, update keeps-state, bias none
        output a = dense(g, 3)
        output b = softmax(dense(last(g), 2))
        output c = state(g)
        output d = mean(h)
        """))
    #expect(diagnostics.map(\.position) == ["5:9"])
    #expect(types["a"] == "?")
    #expect(types["d"] == "f32[B, 2]")
  }

  @Test func independentErrorsAreAllReported() throws {
    let (_, _, diagnostics) = try infer(
      SemaTests.tiny(
        """
        output a = mean(last(h))
        output b = dense(h, 2, unshared)
        output c = max(state(h))
        """))
    #expect(diagnostics.map(\.position) == ["5:12", "6:12", "7:12"])
  }
}
