// Parser tests: the syntax tree of every statement kind, continuation lines, and recovery: one
// error per broken line, the lines between still parsed, no echo of a lexer error.

import Testing

@testable import GruccCore

@Suite struct ParserTests {
  static func parse(_ text: String) -> (ModelFile, [Diagnostic]) {
    let (file, diagnostics) = Parser.parse(SourceFile(path: "t.gru", text: text))
    return (file, diagnostics.diagnostics)
  }

  /// Parses one statement that must be error-free.
  func statement(_ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> StatementKind {
    let (file, diagnostics) = Self.parse(text)
    #expect(diagnostics.isEmpty, "\(diagnostics.map(\.message.text))", sourceLocation: sourceLocation)
    #expect(file.statements.count == 1, sourceLocation: sourceLocation)
    return try #require(file.statements.first, sourceLocation: sourceLocation).kind
  }

  /// An expression as compact text: `dense(last(h), 5)`.
  static func text(_ e: Expr) -> String {
    switch e {
    case .name(let n): return n.text
    case .integer(let v, _): return "\(v)"
    case .number(_, let t, _): return t
    case .call(let c, let args, _): return "\(c.text)(\(args.map(text).joined(separator: ", ")))"
    }
  }

  static func options(_ options: [OptionClause]) -> [String] {
    options.map { $0.key.text + ($0.value.map { " " + $0.spelling } ?? "") }
  }

  // MARK: - Statements

  @Test func modelAndPrecision() throws {
    guard case .model(let name) = try statement("model adder") else {
      Issue.record("not a model")
      return
    }
    #expect(name.text == "adder")
    #expect(name.range.start.column == 7)
    guard case .precision(let p) = try statement("precision f64") else {
      Issue.record("not precision")
      return
    }
    #expect(p.text == "f64")
  }

  @Test func inputWithOptions() throws {
    guard case .input(let d) = try statement("input x[28], steps 10, layout time-major, lengths len") else {
      Issue.record("not an input")
      return
    }
    #expect(d.name.text == "x")
    #expect(d.features == 28)
    #expect(d.featuresRange.start.column == 9)
    #expect(Self.options(d.options) == ["steps 10", "layout time-major", "lengths len"])
    guard case .integer(10, _) = d.options[0].value else {
      Issue.record("steps is not an integer")
      return
    }
  }

  @Test func conv1dReadsLikeAGruLine() throws {
    let text = "conv1d c = x -> filters 16, kernel 20, padding causal, stride 2, dilation 3, groups 1, bias no, activation relu"
    guard case .conv1d(let d) = try statement(text) else {
      Issue.record("not a conv1d")
      return
    }
    #expect((d.name.text, d.source.text, d.filters) == ("c", "x", 16))
    #expect(d.filtersClauseRange.start.column == 17)
    #expect(
      Self.options(d.options) == [
        "kernel 20", "padding causal", "stride 2", "dilation 3", "groups 1", "bias no", "activation relu",
      ])
  }

  @Test func gruWithEveryOption() throws {
    let text =
      "gru h = x -> hidden 16, reset after, update keeps-state, bias separate, direction bidirectional, "
      + "merge sum, initial given, output-activation tanh"
    guard case .gru(let d) = try statement(text) else {
      Issue.record("not a gru")
      return
    }
    #expect(d.name.text == "h")
    #expect(d.source.text == "x")
    #expect(d.hidden == 16)
    #expect(
      Self.options(d.options) == [
        "reset after", "update keeps-state", "bias separate", "direction bidirectional", "merge sum", "initial given",
        "output-activation tanh",
      ])
  }

  @Test(arguments: [
    ("let pooled = mean(h)", false, "pooled", "mean(h)"),
    ("output y = dense(h, 1)", true, "y", "dense(h, 1)"),
    ("output p = softmax(dense(last(h), 5))", true, "p", "softmax(dense(last(h), 5))"),
    ("output s = state(h)", true, "s", "state(h)"),
    ("output u = dense(h, 8, unshared)", true, "u", "dense(h, 8, unshared)"),
    ("let v = h", false, "v", "h"),
    ("output n = f(1.5, -2, 3e1)", true, "n", "f(1.5, -2, 3e1)"),
    ("output e = f()", true, "e", "f()"),
  ])
  func bindings(source: String, isOutput: Bool, name: String, expression: String) throws {
    guard case .binding(let b) = try statement(source) else {
      Issue.record("not a binding")
      return
    }
    #expect(b.isOutput == isOutput)
    #expect(b.name.text == name)
    #expect(Self.text(b.value) == expression)
  }

  @Test func weightsWithOptions() throws {
    guard case .weights(let w) = try statement(#"weights "dir/w \"1\".safetensors", format grucc"#) else {
      Issue.record("not weights")
      return
    }
    #expect(w.path == #"dir/w "1".safetensors"#)
    #expect(Self.options(w.options) == ["format grucc"])
  }

  @Test func mapWithBlocksOfATensor() throws {
    guard case .map(let m) = try statement(#"map h.w_r = "lstm_W", rows 0:28, columns 32:, transposed"#) else {
      Issue.record("not a map")
      return
    }
    #expect(m.target.text == "h.w_r")
    #expect(m.source == "lstm_W")
    #expect(Self.options(m.options) == ["rows 0:28", "columns 32:", "transposed"])
    guard case .range(0, 28, let r)? = m.options[0].value, case .range(32, nil, _)? = m.options[1].value else {
      Issue.record("range values: \(m.options.map(\.value))")
      return
    }
    #expect((r.start.column, r.end.column) == (28, 32), "\(r)")
    guard case .map(let open) = try statement(#"map h.b_r = "b", columns :16"#),
      case .range(nil, 16, _)? = open.options.first?.value
    else {
      Issue.record("an open start")
      return
    }
  }

  @Test func initSeedAndRules() throws {
    guard case .initSeed(let seed, _) = try statement("init seed 42") else {
      Issue.record("not a seed")
      return
    }
    #expect(seed == 42)
    guard case .initRule(let rule) = try statement("init h.w_*, *.b_*, y.w normal(0, 0.1)") else {
      Issue.record("not a rule")
      return
    }
    #expect(rule.patterns.map(\.text) == ["h.w_*", "*.b_*", "y.w"])
    #expect(Self.text(rule.distribution) == "normal(0, 0.1)")
    // `seed` followed by something else than a number is a pattern, not the seed statement.
    guard case .initRule(let named) = try statement("init seed zeros") else {
      Issue.record("not a rule")
      return
    }
    #expect(named.patterns.map(\.text) == ["seed"])
  }

  @Test func optionValuesKeepTheirKind() throws {
    guard case .input(let d) = try statement(#"input x[2], a word, b 3, c -0.5, d "s", e"#) else {
      Issue.record("not an input")
      return
    }
    let values = d.options.map(\.value)
    guard case .word(let w)? = values[0], case .integer(3, _)? = values[1], case .number(-0.5, "-0.5", _)? = values[2],
      case .string("s", _)? = values[3], values[4] == nil
    else {
      Issue.record("option values: \(values)")
      return
    }
    #expect(w.text == "word")
  }

  @Test func statementRangesCoverTheLine() throws {
    let (file, _) = Self.parse("model m\n\n# comment\ngru h = x -> hidden 2, reset before,\n  bias single\n")
    #expect(file.statements.map { $0.range.start.line } == [1, 4])
    #expect(file.statements.map(\.keyword.text) == ["model", "gru"])
    #expect(file.statements[1].range.end.line == 5)
  }

  @Test func continuationAfterCommaAndInsideParentheses() throws {
    let (file, diagnostics) = Self.parse(
      """
      input x[2],

        steps 3
      output y = dense(
        h,
        2
      )
      init a,
        b zeros
      """)
    #expect(diagnostics.isEmpty)
    #expect(file.statements.count == 3)
    guard case .input(let d) = file.statements[0].kind, case .binding(let b) = file.statements[1].kind,
      case .initRule(let r) = file.statements[2].kind
    else {
      Issue.record("statements: \(file.statements.map(\.kind))")
      return
    }
    #expect(Self.options(d.options) == ["steps 3"])
    #expect(Self.text(b.value) == "dense(h, 2)")
    #expect(r.patterns.map(\.text) == ["a", "b"])
  }

  @Test func blankLinesAndCommentsBetweenStatements() throws {
    let (file, diagnostics) = Self.parse("\n\n# a\nmodel m   # b\n\n\ninput x[1]\n# end")
    #expect(diagnostics.isEmpty)
    #expect(file.statements.map(\.keyword.text) == ["model", "input"])
  }

  // MARK: - Errors and recovery

  /// One broken line, the error it gives and where.
  struct Broken: Sendable, CustomTestStringConvertible {
    var line: String
    var message: DiagnosticMessage
    /// Column of the error on the line.
    var column: Int
    /// The name the abandoned statement still declares.
    var declares: String?

    var testDescription: String { line }
  }

  static let broken: [Broken] = [
    Broken(line: "model", message: .expected("a model name", found: "end of line"), column: 6),
    Broken(line: "precision 32", message: .expected("'f32' or 'f64'", found: "'32'"), column: 11),
    Broken(line: "input x", message: .expected("'['", found: "end of line"), column: 8, declares: "x"),
    Broken(
      line: "input x[]", message: .expected("the number of input features", found: "']'"), column: 9,
      declares: "x"),
    Broken(line: "input x[2", message: .expected("']'", found: "end of line"), column: 10, declares: "x"),
    Broken(line: "input [2]", message: .expected("an input name", found: "'['"), column: 7),
    Broken(line: "gru h x -> hidden 2", message: .expected("'='", found: "'x'"), column: 7, declares: "h"),
    Broken(line: "gru h = x hidden 2", message: .expected("'->'", found: "'hidden'"), column: 11, declares: "h"),
    Broken(line: "gru h = x -> 2", message: .expected("'hidden'", found: "'2'"), column: 14, declares: "h"),
    Broken(line: "conv1d c = x -> 16", message: .expected("'filters'", found: "'16'"), column: 17, declares: "c"),
    Broken(line: "batchnorm n = x, epsilon 1e-3", message: .expected("'->'", found: "','"), column: 16, declares: "n"),
    Broken(line: "layernorm n = x ->", message: .expected("an option name", found: "end of line"), column: 19, declares: "n"),
    Broken(
      line: "gru h = x -> hidden", message: .expected("the hidden size", found: "end of line"), column: 20,
      declares: "h"),
    Broken(
      line: "gru h = x -> hidden 2,", message: .expected("an option name", found: "end of line"), column: 23,
      declares: "h"),
    Broken(
      line: "gru h = x -> hidden 2 reset before", message: .expected("end of line", found: "'reset'"),
      column: 23, declares: "h"),
    Broken(line: "gru = x -> hidden 2", message: .expected("a layer name", found: "'='"), column: 5),
    Broken(line: "output = h", message: .expected("an output name", found: "'='"), column: 8),
    Broken(line: "let a h", message: .expected("'='", found: "'h'"), column: 7, declares: "a"),
    Broken(
      line: "output y =", message: .expected("an expression", found: "end of line"), column: 11,
      declares: "y"),
    Broken(line: "output y = dense(h 1)", message: .expected("',' or ')'", found: "'1'"), column: 20, declares: "y"),
    Broken(
      line: "output y = dense(h, 1", message: .expected("',' or ')'", found: "end of line"), column: 22,
      declares: "y"),
    Broken(
      line: "output y = dense(h,)", message: .expected("an expression", found: "')'"), column: 20,
      declares: "y"),
    Broken(line: "output y = (h)", message: .expected("an expression", found: "'('"), column: 12, declares: "y"),
    Broken(
      line: "weights w.safetensors", message: .expected("a weights file name in double quotes", found: "'w'"),
      column: 9),
    Broken(
      line: "init", message: .expected("a parameter name or pattern such as 'h.u_*'", found: "end of line"),
      column: 5),
    Broken(line: "init h.w_*", message: .expected("an expression", found: "end of line"), column: 11),
    Broken(line: "layer h = x", message: .unknownStatement("layer"), column: 1, declares: "h"),
    Broken(line: "= 3", message: .expected("a statement", found: "'='"), column: 1),
    Broken(line: "16", message: .expected("a statement", found: "'16'"), column: 1),
    Broken(
      line: "gru h = x -> hidden 99999999999999999999", message: .integerTooLarge("99999999999999999999"),
      column: 21, declares: "h"),
    Broken(line: "init h constant(1e400)", message: .numberOutOfRange("1e400"), column: 17),
    Broken(line: #"map h.w_r = "W", rows 0:x"#, message: .expected("end of line", found: "'x'"), column: 25),
    Broken(line: #"map h.w_r = "W", rows 0:32:64"#, message: .expected("end of line", found: "':'"), column: 27),
  ]

  @Test(arguments: broken)
  func brokenLineGivesOneError(_ b: Broken) throws {
    let (file, diagnostics) = Self.parse("model m\n" + b.line + "\ninput q[1]\n")
    #expect(diagnostics.map(\.message) == [b.message])
    #expect(diagnostics.map(\.position) == ["2:\(b.column)"])
    // The broken statement stays as a placeholder; the lines around it parse as usual.
    #expect(file.statements.count == 3)
    guard file.statements.count == 3, case .invalid(let name) = file.statements[1].kind else {
      Issue.record("no placeholder for the broken line")
      return
    }
    #expect(name?.text == b.declares)
    guard case .input(let q) = file.statements[2].kind else {
      Issue.record("the next line was lost")
      return
    }
    #expect(q.name.text == "q")
  }

  /// All the broken lines in one file: exactly one error each, in order, nothing in between.
  @Test func everyBrokenLineInOneFile() throws {
    let lines = Self.broken
    let (file, diagnostics) = Self.parse(lines.map(\.line).joined(separator: "\nlet ok = x\n"))
    #expect(diagnostics.map(\.message) == lines.map(\.message))
    #expect(diagnostics.map(\.range.start.line) == lines.indices.map { 2 * $0 + 1 })
    let good = file.statements.filter { if case .binding = $0.kind { return true } else { return false } }
    #expect(good.count == lines.count - 1)
  }

  @Test func aForgottenParenthesisDoesNotSwallowTheNextStatement() throws {
    let (file, diagnostics) = Self.parse("output y = dense(h, 1\noutput z = mean(h)\n")
    #expect(diagnostics.map(\.position) == ["1:22"])
    #expect(file.statements.count == 2)
    guard case .binding(let z) = file.statements.last?.kind else {
      Issue.record("second statement lost")
      return
    }
    #expect(z.name.text == "z")
  }

  @Test func aTrailingCommaDoesNotSwallowTheNextStatement() throws {
    let (file, diagnostics) = Self.parse("gru h = x -> hidden 2, reset before,\ngru g = h -> hidden 2\n")
    #expect(diagnostics.map(\.message) == [.expected("an option name", found: "end of line")])
    #expect(diagnostics.map(\.position) == ["1:37"])
    guard case .gru(let g) = file.statements.last?.kind else {
      Issue.record("second statement lost")
      return
    }
    #expect(g.name.text == "g")
  }

  /// A value that only looks like a statement keyword still continues the line.
  @Test func keywordNamedArgumentsStillContinue() throws {
    let (file, diagnostics) = Self.parse("output y = dense(\n  model,\n  2)\n")
    #expect(diagnostics.isEmpty)
    guard case .binding(let b) = file.statements.first?.kind else {
      Issue.record("no binding")
      return
    }
    #expect(Self.text(b.value) == "dense(model, 2)")
  }

  @Test func lexerErrorIsNotEchoedByTheParser() throws {
    let (file, diagnostics) = Self.parse("gru h = x => hidden 2\nmodel @m\noutput y = dense(h, 1)\n")
    #expect(diagnostics.map(\.message) == [.unexpectedCharacter(">"), .unexpectedCharacter("@")])
    #expect(diagnostics.map(\.position) == ["1:12", "2:7"])
    #expect(file.statements.count == 3)
  }

  @Test(arguments: [32, 33])
  func nestingDepthIsBounded(depth: Int) throws {
    let text = "output y = " + String(repeating: "f(", count: depth) + "h" + String(repeating: ")", count: depth)
    let (_, diagnostics) = Self.parse(text)
    #expect(diagnostics.map(\.message) == (depth > 32 ? [.nestingTooDeep] : []))
  }

  @Test func deepNestingDoesNotExhaustTheStack() {
    let text = "output y = " + String(repeating: "f(", count: 100_000)
    let (_, diagnostics) = Self.parse(text)
    #expect(diagnostics.map(\.message) == [.nestingTooDeep])
  }
}
