// Verifier tests: hand-built broken graphs are rejected with an error naming the bad node, valid
// ones pass, and the pipeline stops at the pass that broke an invariant and names it.

import Testing

@testable import GruccCore

@Suite struct VerifierTests {
  static let seq2 = TensorType(.f32, [.batch, .time, .fixed(2)])
  static let seq3 = TensorType(.f32, [.batch, .time, .fixed(3)])
  static let vec2 = TensorType(.f32, [.batch, .fixed(2)])
  static let lengths = TensorType(.i32, [.batch])

  static func module(_ nodes: [Node], outputs: [Int] = [], parameters: [Parameter] = []) -> Module {
    var graph = Graph()
    graph.nodes = nodes
    graph.outputs = outputs.enumerated().map { GraphOutput(name: "out\($0.offset)", value: ValueRef($0.element)) }
    var m = Module(name: "m", precision: .f32, layout: .batchMajor, steps: nil, sourceName: "m.gru", graph: graph)
    m.parameters = parameters
    return m
  }

  static func argument(_ name: String, _ type: TensorType) -> Node {
    Node(.argument(name: name, type: type), [], types: [type], range: .none)
  }

  static func node(_ op: Op, _ operands: [ValueRef], _ types: [TensorType?]) -> Node {
    Node(op, operands, types: types, range: .none)
  }

  /// A scan over x [B, T, 2] with one [B, 2] state whose body is `body`.
  static func scan(_ body: Graph, states: Int = 1, hasLengths: Bool = false) -> Op {
    .scan(Scan(name: "s", direction: .forward, sequences: 1, states: states, hasLengths: hasLengths, body: body))
  }

  /// The step body `h' = tanh(x_t + h)`, yielding h' as state and as output.
  static func goodBody() -> Graph {
    var body = Graph()
    body.nodes = [
      argument("x_t", vec2), argument("h", vec2), node(.add, [ValueRef(0), ValueRef(1)], [vec2]),
      node(.activation(.tanh), [ValueRef(2)], [vec2]),
    ]
    body.outputs = [GraphOutput(name: "state", value: ValueRef(3)), GraphOutput(name: "output", value: ValueRef(3))]
    return body
  }

  func problems(_ m: Module, requireTypes: Bool = true) -> [String] {
    Verifier.verify(m, requireTypes: requireTypes).map(\.description)
  }

  // MARK: - Accepted

  @Test func aWellTypedGraphPasses() {
    let m = Self.module(
      [
        Self.argument("x", Self.seq2), Self.node(.zeros(Self.vec2), [], [Self.vec2]),
        Self.node(Self.scan(Self.goodBody()), [ValueRef(0), ValueRef(1)], [Self.vec2, Self.seq2]),
        Self.node(.reduce(.mean), [ValueRef(2, 1)], [Self.vec2]),
      ], outputs: [3])
    #expect(problems(m) == [])
  }

  @Test(arguments: ModelVariants.structures(precision: .f64))
  func everyStageOfARealModelPasses(_ variant: VariantModel) {
    let run = InProcess.run(variant.text)
    #expect(run.stages.count == PassPipeline.standardNames.count + 1)
    for (pass, module) in run.stages.dropFirst() {
      #expect(Verifier.verify(module, requireTypes: true).isEmpty, "after \(pass)")
    }
  }

  // MARK: - Rejected

  @Test func useBeforeDefinition() {
    let m = Self.module([
      Self.argument("x", Self.seq2), Self.node(.add, [ValueRef(2), ValueRef(0)], [Self.seq2]),
      Self.node(.activation(.tanh), [ValueRef(0)], [Self.seq2]),
    ])
    #expect(problems(m) == ["%1 (add): operand 0 refers to node 2, which is not defined before it"])
  }

  @Test func aNodeCannotUseItself() {
    let m = Self.module([Self.argument("x", Self.seq2), Self.node(.activation(.relu), [ValueRef(1)], [Self.seq2])])
    #expect(problems(m) == ["%1 (relu): operand 0 refers to node 1, which is not defined before it"])
  }

  @Test func operandRefersToAMissingResult() {
    let m = Self.module([Self.argument("x", Self.seq2), Self.node(.activation(.relu), [ValueRef(0, 1)], [Self.seq2])])
    #expect(problems(m) == ["%1 (relu): operand 0 refers to result 1 of a node with 1"])
  }

  @Test func wrongOperandCount() {
    let m = Self.module([Self.argument("x", Self.seq2), Self.node(.add, [ValueRef(0)], [Self.seq2])])
    #expect(problems(m) == ["%1 (add): internal: 'add' takes 2...2 operands, got 1"])
  }

  @Test func operandTypesThatDoNotFit() {
    let m = Self.module([
      Self.argument("x", Self.seq2), Self.argument("y", Self.seq3),
      Self.node(.mul, [ValueRef(0), ValueRef(1)], [Self.seq2]),
    ])
    #expect(problems(m) == ["%2 (mul): internal: 'mul' of f32[B, T, 2] and f32[B, T, 3]"])
  }

  @Test func declaredTypeDisagreesWithOperands() {
    let m = Self.module([Self.argument("x", Self.seq2), Self.node(.activation(.tanh), [ValueRef(0)], [Self.seq3])])
    #expect(
      problems(m) == [
        "%1 (tanh): declared type [\"f32[B, T, 3]\"] but operands give [\"f32[B, T, 2]\"]"
      ])
  }

  @Test func wrongNumberOfResultTypes() {
    let m = Self.module([
      Self.argument("x", Self.seq2), Self.node(.activation(.tanh), [ValueRef(0)], [Self.seq2, nil]),
    ])
    #expect(problems(m) == ["%1 (tanh): has 2 result types, expected 1"])
  }

  @Test func mixedPrecisionIsRejected() {
    let w = Parameter(name: "w", shape: [2, 2], values: [1, 2, 3, 4], role: "")
    var m = Self.module(
      [
        Self.argument("x", TensorType(.f64, [.batch, .time, .fixed(2)])),
        Self.node(.parameter(name: "w"), [], [TensorType(.f32, [.fixed(2), .fixed(2)])]),
        Self.node(.linear, [ValueRef(0), ValueRef(1)], [TensorType(.f64, [.batch, .time, .fixed(2)])]),
      ], parameters: [w])
    m.precision = .f32
    #expect(problems(m).count == 1)
    #expect(
      problems(m).first?.hasPrefix("%2 (linear): internal: linear: weight f32[2, 2] does not fit input f64") == true)
  }

  @Test func lengthsMustBeIntegers() {
    let m = Self.module([
      Self.argument("x", Self.seq2), Self.argument("len", Self.vec2),
      Self.node(.mask, [ValueRef(0), ValueRef(1)], [Self.seq2]),
    ])
    #expect(problems(m) == ["%2 (mask): internal: lengths have type f32[B, 2], expected i32[B]"])
  }

  /// Before shape inference, unknown types are allowed; after it they are a bug.
  @Test func untypedAfterShapeInference() throws {
    let front = InProcess.frontEnd(SemaTests.tiny())
    let module = try #require(front.module)
    #expect(problems(module, requireTypes: false) == [])
    #expect(
      problems(module, requireTypes: true) == [
        "%1 (gru): result type is unknown after shape inference",
        "%2 (dense): result type is unknown after shape inference",
      ])
  }

  @Test func unknownParameter() {
    let m = Self.module([Self.node(.parameter(name: "ghost"), [], [TensorType(.f32, [.fixed(2)])])])
    #expect(problems(m) == ["%0 (parameter): internal: unknown parameter @ghost"])
  }

  @Test func parameterTable() {
    let a = Parameter(name: "a", shape: [2], values: [1, 2], role: "")
    let short = Parameter(name: "b", shape: [2, 2], values: [1, 2, 3], role: "")
    let m = Self.module([], parameters: [a, a, short])
    #expect(problems(m) == ["@a: parameter defined twice", "@b: 3 values for shape [2, 2]"])
  }

  @Test func outputs() {
    var m = Self.module([Self.argument("x", Self.seq2)], outputs: [0])
    m.graph.outputs.append(GraphOutput(name: "out0", value: ValueRef(0)))
    m.graph.outputs.append(GraphOutput(name: "lost", value: ValueRef(5)))
    #expect(problems(m) == ["% output lost: refers to an undefined value", "output out0: output defined twice"])
  }

  // MARK: - Scans

  func scanModule(_ body: Graph, states: Int = 1, resultTypes: [TensorType?]? = nil) -> Module {
    Self.module([
      Self.argument("x", Self.seq2), Self.node(.zeros(Self.vec2), [], [Self.vec2]),
      Self.node(Self.scan(body, states: states), [ValueRef(0), ValueRef(1)], resultTypes ?? [Self.vec2, Self.seq2]),
    ])
  }

  @Test func scanBodyYieldsAnUndefinedValue() {
    var body = Self.goodBody()
    body.outputs[1].value = ValueRef(9)
    let found = problems(scanModule(body))
    #expect(found.contains("%2/%t output output: refers to an undefined value"))
    #expect(found.contains("%2 (scan): body yields an undefined value"))
  }

  @Test func scanBodyWithTooFewArguments() {
    var body = Self.goodBody()
    body.nodes[1] = Self.node(.zeros(Self.vec2), [], [Self.vec2])
    #expect(problems(scanModule(body)) == ["%2 (scan): internal: scan 's' body has 1 arguments, expected 2"])
  }

  @Test func scanBodyArgumentOfTheWrongType() {
    var body = Self.goodBody()
    body.nodes[0] = Self.argument("x_t", TensorType(.f32, [.batch, .fixed(3)]))
    #expect(
      problems(scanModule(body)).contains("%2 (scan): internal: scan 's' body argument 0 does not have type f32[B, 2]"))
  }

  @Test func scanBodyMustBeFullyTyped() {
    var body = Self.goodBody()
    body.nodes[3].types = [nil]
    let found = problems(scanModule(body))
    #expect(found.contains("%2/%t3 (tanh): result type is unknown after shape inference"))
  }

  @Test func scanStateMustKeepItsType() {
    var body = Self.goodBody()
    body.nodes.append(
      Self.node(.concat(axis: 1), [ValueRef(3), ValueRef(3)], [TensorType(.f32, [.batch, .fixed(4)])]))
    body.outputs[0].value = ValueRef(4)
    #expect(problems(scanModule(body)) == ["%2 (scan): internal: scan 's' state 0 changes type"])
  }

  @Test func scanWithTheWrongOperandCount() {
    let m = Self.module([
      Self.argument("x", Self.seq2),
      Self.node(Self.scan(Self.goodBody()), [ValueRef(0)], [Self.vec2, Self.seq2]),
    ])
    #expect(problems(m) == ["%1 (scan): internal: scan 's' has 1 operands, expected 2"])
  }

  // MARK: - The pipeline

  /// A pass that appends a node whose declared type is wrong.
  struct BreakThings: Pass {
    let name = "break-things"
    func run(_ module: Module, diagnostics: inout DiagnosticEngine) -> Module {
      var m = module
      m.graph.append(
        Node(.activation(.tanh), [ValueRef(0)], types: [TensorType(.f32, [.batch, .fixed(9)])], range: .none))
      return m
    }
  }

  @Test func thePipelineNamesThePassThatBrokeTheIR() throws {
    let module = try #require(InProcess.frontEnd(SemaTests.tiny()).module)
    var diagnostics = DiagnosticEngine()
    var seen: [String] = []
    let result = PassPipeline([ShapeInference(), BreakThings(), LowerGRU()])
      .run(module, diagnostics: &diagnostics) { name, _ in seen.append(name) }
    guard case .failure(.verifier(let pass, let errors, let dump)) = result else {
      Issue.record("expected a verifier failure, got \(result)")
      return
    }
    #expect(pass == "break-things")
    #expect(seen == ["shape-inference"])
    #expect(errors.map(\.path) == ["%3 (tanh)"])
    #expect(dump.contains("%3 = tanh %0 : f32[B, 9]"))
    #expect(diagnostics.diagnostics.isEmpty)
  }

  @Test func thePipelineStopsAtUserErrors() throws {
    let module = try #require(InProcess.frontEnd(SemaTests.tiny("output z = mean(last(h))")).module)
    var diagnostics = DiagnosticEngine()
    let result = PassPipeline([ShapeInference(), BreakThings()]).run(module, diagnostics: &diagnostics)
    guard case .failure(.diagnostics(pass: "shape-inference")) = result else {
      Issue.record("expected a diagnostics failure, got \(result)")
      return
    }
    #expect(diagnostics.diagnostics.map(\.message.caseName) == ["expectedSequence"])
  }
}
