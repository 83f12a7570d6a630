// Parser: recursive descent from tokens to the syntax tree. One statement per line; after an
// error the parser skips to the next line (panic mode), so one run reports every broken line.

/// Parses a token stream into a `ModelFile`. Each method carries the production it parses.
public struct Parser {
  private var tokens: [Token]
  private var index = 0
  /// Nesting depth of calls; bounded so that hostile input cannot exhaust the stack.
  private var depth = 0
  /// The name the current statement declares, once parsed: kept for a statement that is then
  /// abandoned, so that Sema does not report every later use of the name as unknown.
  private var declaredName: Name?
  public private(set) var diagnostics = DiagnosticEngine()

  /// The statement keywords, in the order LANGUAGE.md introduces them.
  public static let statementKeywords = [
    "model", "precision", "weights-storage", "input", "gru", "conv1d", "pad", "pool", "batchnorm", "layernorm", "let",
    "output", "weights", "map", "init",
  ]

  public init(tokens: [Token]) { self.tokens = tokens }

  /// Lexes and parses a source file; the diagnostics of both stages are returned together.
  public static func parse(_ source: SourceFile) -> (ModelFile, DiagnosticEngine) {
    var lexer = Lexer(source: source)
    let tokens = lexer.tokenize()
    var parser = Parser(tokens: tokens)
    let file = parser.parseFile()
    var diagnostics = lexer.diagnostics
    // A bad byte already has its error; what the parser then finds on that line is its echo.
    let lexerLines = Set(lexer.diagnostics.diagnostics.map(\.range.start.line))
    for d in parser.diagnostics.diagnostics where !lexerLines.contains(d.range.start.line) { diagnostics.append(d) }
    return (file, diagnostics)
  }

  // MARK: - Token stream

  private var current: Token { tokens[index] }

  private func peek(_ ahead: Int) -> Token { tokens[min(index + ahead, tokens.count - 1)] }

  @discardableResult
  private mutating func advance() -> Token {
    let t = tokens[index]
    if t.kind != .endOfFile { index += 1 }
    return t
  }

  private func check(_ kind: TokenKind) -> Bool { current.kind == kind }

  private func checkWord(_ word: String) -> Bool { current.kind == .identifier && current.text == word }

  private mutating func skipNewlines() { while check(.newline) { advance() } }

  /// Skips the line breaks a statement continues over (after ',' and inside parentheses), unless
  /// the next line plainly starts a statement: a keyword followed by a name, a string or '*',
  /// which no continuation can be. A forgotten ')' or a stray ',' is then reported at the end of
  /// its own line, and the next statement is parsed as usual.
  private mutating func skipContinuationNewlines() {
    var ahead = 0
    while peek(ahead).kind == .newline { ahead += 1 }
    let word = peek(ahead)
    let next = peek(ahead + 1).kind
    if ahead > 0, word.kind == .identifier, Parser.statementKeywords.contains(word.text),
      next == .identifier || next == .string || next == .star
    {
      return
    }
    skipNewlines()
  }

  /// Thrown inside a statement to abandon it; the error has already been reported.
  private struct Abandon: Error {}

  private mutating func expect(_ kind: TokenKind, _ what: String? = nil) throws(Abandon) -> Token {
    if check(kind) { return advance() }
    try fail(expected: what ?? kind.spelling)
  }

  private mutating func fail(expected what: String) throws(Abandon) -> Never {
    diagnostics.error(.expected(what, found: describe(current)), at: current.range)
    throw Abandon()
  }

  private func describe(_ t: Token) -> String {
    switch t.kind {
    case .newline, .endOfFile: return t.kind.rawValue
    case .string: return "\"\(t.text)\""
    default: return "'\(t.text)'"
    }
  }

  private func name(_ t: Token) -> Name { Name(text: t.text, range: t.range) }

  // MARK: - File and statements

  // file = { NEWLINE } { statement ( NEWLINE | EOF ) { NEWLINE } } EOF
  public mutating func parseFile() -> ModelFile {
    var statements: [Statement] = []
    skipNewlines()
    while !check(.endOfFile) {
      let first = current
      declaredName = nil
      do {
        let s = try statement()
        if !check(.newline) && !check(.endOfFile) { try fail(expected: "end of line") }
        statements.append(s)
      } catch {
        // Kept as a placeholder: Sema then knows the statement and its name exist.
        statements.append(Statement(kind: .invalid(declaredName), keyword: name(first), range: first.range))
        synchronize()
      }
      skipNewlines()
    }
    return ModelFile(statements: statements)
  }

  /// Panic mode: drop the rest of the broken statement, up to the end of its line.
  private mutating func synchronize() {
    var parens = 0
    while !check(.endOfFile) {
      switch current.kind {
      case .leftParen: parens += 1
      case .rightParen: parens = max(0, parens - 1)
      case .comma:
        // A statement continues on the next line after a comma, so the next line is still ours.
        advance()
        skipContinuationNewlines()
        continue
      case .newline where parens == 0: return
      case .newline:
        // Inside parentheses too, unless the next line plainly starts a statement.
        skipContinuationNewlines()
        if check(.newline) { return }
        continue
      default: break
      }
      advance()
    }
  }

  // statement = model | precision | weights-storage | input | gru | conv1d | binding | weights | init
  private mutating func statement() throws(Abandon) -> Statement {
    guard check(.identifier) else { try fail(expected: "a statement") }
    let keyword = name(current)
    let start = current.range
    let kind: StatementKind
    switch keyword.text {
    case "model":
      advance()
      kind = .model(name(try expect(.identifier, "a model name")))
    case "precision":
      advance()
      kind = .precision(name(try expect(.identifier, "'f32' or 'f64'")))
    case "weights-storage":
      advance()
      kind = .weightsStorage(name(try expect(.identifier, "'f32', 'f16', 'bf16' or 'int8'")))
    case "input": kind = .input(try input())
    case "gru": kind = .gru(try gru())
    case "conv1d": kind = .conv1d(try conv1d())
    case "pad", "pool": kind = .sequenceLayer(try sequenceLayer())
    case "batchnorm", "layernorm": kind = .norm(try norm())
    case "let", "output": kind = .binding(try binding())
    case "weights": kind = .weights(try weights())
    case "map": kind = .map(try mapStatement())
    case "init": kind = try initStatement()
    default:
      // `layer h = ...` still defines `h` as far as later lines are concerned.
      if peek(1).kind == .identifier && peek(2).kind == .equal { declaredName = name(peek(1)) }
      diagnostics.error(
        .unknownStatement(keyword.text), at: keyword.range,
        notes: [.note(.expectedOneOf(Parser.statementKeywords))])
      throw Abandon()
    }
    return Statement(kind: kind, keyword: keyword, range: start.union(peek(-1).range))
  }

  // input = "input" NAME "[" INT "]" { "," option }
  private mutating func input() throws(Abandon) -> InputDecl {
    advance()
    let n = name(try expect(.identifier, "an input name"))
    declaredName = n
    _ = try expect(.leftBracket)
    let size = try expect(.integer, "the number of input features")
    _ = try expect(.rightBracket)
    return InputDecl(
      name: n, features: try integerValue(size), featuresRange: size.range, options: try optionList())
  }

  // The head every layer statement shares, after its keyword: NAME "=" NAME "->".
  private mutating func layerHead() throws(Abandon) -> (name: Name, source: Name) {
    let n = name(try expect(.identifier, "a layer name"))
    declaredName = n
    _ = try expect(.equal)
    let source = name(try expect(.identifier, "the name of the layer's input sequence"))
    _ = try expect(.arrow)
    return (n, source)
  }

  // gru = "gru" NAME "=" NAME "->" "hidden" INT { "," option }
  private mutating func gru() throws(Abandon) -> GRUDecl {
    advance()
    let (n, source) = try layerHead()
    guard checkWord("hidden") else { try fail(expected: "'hidden'") }
    let keyword = advance()
    let size = try expect(.integer, "the hidden size")
    var decl = GRUDecl(
      name: n, source: source, hidden: try integerValue(size), hiddenRange: size.range,
      options: try optionList())
    decl.hiddenClauseRange = SourceRange(start: keyword.range.start, end: size.range.end)
    return decl
  }

  // conv1d = "conv1d" NAME "=" NAME "->" "filters" INT { "," option }
  private mutating func conv1d() throws(Abandon) -> ConvDecl {
    advance()
    let (n, source) = try layerHead()
    guard checkWord("filters") else { try fail(expected: "'filters'") }
    let keyword = advance()
    let size = try expect(.integer, "the number of filters")
    var decl = ConvDecl(
      name: n, source: source, filters: try integerValue(size), filtersRange: size.range, options: try optionList())
    decl.filtersClauseRange = SourceRange(start: keyword.range.start, end: size.range.end)
    return decl
  }

  // sequence layer = ( "pad" | "pool" ) NAME "=" NAME "->" option { "," option }
  private mutating func sequenceLayer() throws(Abandon) -> SequenceLayerDecl {
    let keyword = name(advance())
    let (n, source) = try layerHead()
    let first = try optionClause()
    return SequenceLayerDecl(keyword: keyword, name: n, source: source, options: [first] + (try optionList()))
  }

  // norm = ( "batchnorm" | "layernorm" ) NAME "=" NAME "->" option { "," option }
  private mutating func norm() throws(Abandon) -> NormDecl {
    let kind: NormKind = advance().text == "batchnorm" ? .batch : .layer
    let (n, source) = try layerHead()
    let first = try optionClause()
    return NormDecl(kind: kind, name: n, source: source, options: [first] + (try optionList()))
  }

  // binding = ( "let" | "output" ) NAME "=" expr
  private mutating func binding() throws(Abandon) -> BindingDecl {
    let isOutput = advance().text == "output"
    let n = name(try expect(.identifier, isOutput ? "an output name" : "a name"))
    declaredName = n
    _ = try expect(.equal)
    return BindingDecl(isOutput: isOutput, name: n, value: try expr())
  }

  // weights = "weights" STRING { "," option }
  private mutating func weights() throws(Abandon) -> WeightsDecl {
    advance()
    let path = try expect(.string, "a weights file name in double quotes")
    return WeightsDecl(path: path.text, pathRange: path.range, options: try optionList())
  }

  // map = "map" pattern "=" STRING { "," option }
  private mutating func mapStatement() throws(Abandon) -> MapDecl {
    advance()
    let target = try pattern()
    _ = try expect(.equal)
    let source = try expect(.string, "a tensor name or prefix in double quotes")
    return MapDecl(target: target, source: source.text, sourceRange: source.range, options: try optionList())
  }

  // init = "init" ( "seed" INT | pattern { "," pattern } expr )
  private mutating func initStatement() throws(Abandon) -> StatementKind {
    advance()
    if checkWord("seed") && peek(1).kind == .integer {
      advance()
      let seed = advance()
      return .initSeed(try integerValue(seed), seed.range)
    }
    var patterns = [try pattern()]
    while check(.comma) {
      advance()
      skipContinuationNewlines()
      patterns.append(try pattern())
    }
    return .initRule(InitRuleDecl(patterns: patterns, distribution: try expr()))
  }

  // pattern = ( NAME | INT | "*" | "." )+, written without spaces: `h.u_*`, `*.b*`
  private mutating func pattern() throws(Abandon) -> Name {
    let pieces: Set<TokenKind> = [.identifier, .integer, .star, .dot]
    guard pieces.contains(current.kind) else { try fail(expected: "a parameter name or pattern such as 'h.u_*'") }
    let first = advance()
    var text = first.text
    var range = first.range
    while pieces.contains(current.kind) && current.range.start.offset == range.end.offset {
      text += current.text
      range = range.union(advance().range)
    }
    return Name(text: text, range: range)
  }

  // option-list = { "," option }
  // option = NAME [ NAME [ "(" args ")" ] | INT | NUMBER | STRING | range ]    range = [ INT ] ":" [ INT ]
  private mutating func optionList() throws(Abandon) -> [OptionClause] {
    var options: [OptionClause] = []
    while check(.comma) {
      advance()
      skipContinuationNewlines()
      options.append(try optionClause())
    }
    return options
  }

  // option = NAME [ value ]
  private mutating func optionClause() throws(Abandon) -> OptionClause {
    let key = name(try expect(.identifier, "an option name"))
    var value: OptionValue?
    switch current.kind {
    case .identifier where peek(1).kind == .leftParen:
      guard case .call(let callee, let arguments, let range) = try expr() else { preconditionFailure() }
      value = .call(callee, arguments, range)
    case .identifier: value = .word(name(advance()))
    case .integer where peek(1).kind == .colon, .colon: value = try range()
    case .integer:
      let t = advance()
      value = .integer(try integerValue(t), t.range)
    case .number:
      let t = advance()
      value = .number(try numberValue(t), t.text, t.range)
    case .string:
      let t = advance()
      value = .string(t.text, t.range)
    default: value = nil
    }
    return OptionClause(key: key, value: value, range: key.range.union(value?.range ?? key.range))
  }

  // range = [ INT ] ":" [ INT ], as in a numpy slice: `0:32`, `16:`, `:8`
  private mutating func range() throws(Abandon) -> OptionValue {
    var span = current.range
    var start: Int?
    if check(.integer) { start = try integerValue(advance()) }
    span = span.union(try expect(.colon).range)
    var end: Int?
    if check(.integer) {
      let t = advance()
      end = try integerValue(t)
      span = span.union(t.range)
    }
    return .range(start, end, span)
  }

  // MARK: - Expressions

  // expr = NAME [ "(" [ expr { "," expr } ] ")" ] | INT | NUMBER
  private mutating func expr() throws(Abandon) -> Expr {
    switch current.kind {
    case .integer:
      let t = advance()
      return .integer(try integerValue(t), t.range)
    case .number:
      let t = advance()
      return .number(try numberValue(t), t.text, t.range)
    case .identifier:
      let callee = name(advance())
      guard check(.leftParen) else { return .name(callee) }
      depth += 1
      defer { depth -= 1 }
      if depth > 32 {
        diagnostics.error(.nestingTooDeep, at: current.range)
        throw Abandon()
      }
      advance()
      skipContinuationNewlines()
      var arguments: [Expr] = []
      if !check(.rightParen) {
        arguments.append(try expr())
        skipContinuationNewlines()
        while check(.comma) {
          advance()
          skipContinuationNewlines()
          arguments.append(try expr())
          skipContinuationNewlines()
        }
      }
      let close = try expect(.rightParen, "',' or ')'")
      return .call(callee: callee, arguments: arguments, range: callee.range.union(close.range))
    default:
      try fail(expected: "an expression")
    }
  }

  private mutating func integerValue(_ t: Token) throws(Abandon) -> Int {
    guard let v = Int(t.text) else {
      diagnostics.error(.integerTooLarge(t.text), at: t.range)
      throw Abandon()
    }
    return v
  }

  private mutating func numberValue(_ t: Token) throws(Abandon) -> Double {
    guard let v = Double(t.text), v.isFinite else {
      diagnostics.error(.numberOutOfRange(t.text), at: t.range)
      throw Abandon()
    }
    return v
  }
}
