// Lexer tests: token kinds, spellings and locations for each lexical rule, and the errors bad
// bytes produce (matched by message case and line:column).

import Testing

@testable import GruccCore

@Suite struct LexerTests {
  /// A source text and the tokens it must give, as `kind text` words (newlines as `nl`, the final
  /// end of file left out).
  struct Case: Sendable, CustomTestStringConvertible {
    var name: String
    var source: String
    var tokens: [String]

    var testDescription: String { name }
  }

  static func lex(_ text: String) -> ([Token], [Diagnostic]) {
    var lexer = Lexer(source: SourceFile(path: "t.gru", text: text))
    return (lexer.tokenize(), lexer.diagnostics.diagnostics)
  }

  static func words(_ tokens: [Token]) -> [String] {
    tokens.dropLast().map { t in
      switch t.kind {
      case .newline: return "nl"
      case .identifier, .integer, .number, .string: return "\(t.kind.rawValue) \(t.text)"
      default: return t.text
      }
    }
  }

  static let cases: [Case] = [
    Case(
      name: "colons of index ranges", source: "rows 0:32 16: :8 4 : 5",
      tokens: [
        "identifier rows", "integer 0", ":", "integer 32", "integer 16", ":", ":", "integer 8", "integer 4", ":",
        "integer 5",
      ]),
    Case(
      name: "hyphens join words only before a letter", source: "keeps-state time-major a-1 x-y2",
      tokens: ["identifier keeps-state", "identifier time-major", "identifier a", "integer -1", "identifier x-y2"]),
    Case(
      name: "arrow with and without spaces", source: "x -> h x->h",
      tokens: [
        "identifier x", "->", "identifier h", "identifier x", "->", "identifier h",
      ]),
    Case(
      name: "integers and negative numbers", source: "16 -3 0.5 -0.25 1e-3 2E+4 7e2 -1.5e-3",
      tokens: [
        "integer 16", "integer -3", "number 0.5", "number -0.25", "number 1e-3", "number 2E+4", "number 7e2",
        "number -1.5e-3",
      ]),
    Case(
      name: "a dot needs digits on both sides to make a number", source: "2. .5 h.w_r",
      tokens: ["integer 2", ".", ".", "integer 5", "identifier h", ".", "identifier w_r"]),
    Case(name: "punctuation", source: "= , ( ) [ ] . *", tokens: ["=", ",", "(", ")", "[", "]", ".", "*"]),
    Case(
      name: "comments run to the end of the line", source: "model m # a comment (with) \"quotes\" é\ninput",
      tokens: ["identifier model", "identifier m", "nl", "identifier input"]),
    Case(name: "a comment alone on the last line", source: "# only a comment", tokens: []),
    Case(
      name: "crlf line ends are one newline each", source: "model m\r\ninput x[2]\r\n",
      tokens: [
        "identifier model", "identifier m", "nl", "identifier input", "identifier x", "[", "integer 2", "]",
        "nl",
      ]),
    Case(name: "a lone carriage return is space", source: "a\rb", tokens: ["identifier a", "identifier b"]),
    Case(name: "tabs are space", source: "\tgru\th", tokens: ["identifier gru", "identifier h"]),
    Case(
      name: "string escapes", source: #"weights "a \"b\" \\c.safetensors""#,
      tokens: ["identifier weights", #"string a "b" \c.safetensors"#]),
    Case(name: "utf-8 inside a string", source: "\"π.safetensors\"", tokens: ["string π.safetensors"]),
    Case(
      name: "patterns are separate tokens", source: "*.b_* h.u_*",
      tokens: ["*", ".", "identifier b_", "*", "identifier h", ".", "identifier u_", "*"]),
    Case(
      name: "keywords are plain identifiers", source: "model gru output-activation",
      tokens: ["identifier model", "identifier gru", "identifier output-activation"]),
  ]

  @Test(arguments: cases)
  func tokens(_ c: Case) {
    let (tokens, diagnostics) = Self.lex(c.source)
    #expect(Self.words(tokens) == c.tokens)
    #expect(diagnostics.isEmpty, "\(diagnostics.map(\.message.text))")
    #expect(tokens.last?.kind == .endOfFile)
  }

  @Test func locationsAreOneBasedLineAndByteColumn() {
    let (tokens, _) = Self.lex("model m\n  input é_x\ngru")
    let positions = tokens.map { "\($0.range.start.line):\($0.range.start.column)-\($0.range.end.column)" }
    // `é` is two bytes, so it stays an unexpected character and `_x` starts two columns later.
    #expect(positions == ["1:1-6", "1:7-8", "1:8-1", "2:3-8", "2:11-13", "2:13-1", "3:1-4", "3:4-4"])
  }

  @Test func crlfColumnsCountFromTheLineStart() {
    let (tokens, _) = Self.lex("a\r\n  b")
    let b = tokens.first { $0.text == "b" }
    #expect(b?.range.start.line == 2)
    #expect(b?.range.start.column == 3)
  }

  // MARK: - Errors

  /// A source with one lexical error, and the error's case and position.
  struct ErrorCase: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    var message: DiagnosticMessage
    var position: String
    /// The tokens still produced around the error.
    var tokens: [String]

    var testDescription: String { name }
  }

  static let errorCases: [ErrorCase] = [
    ErrorCase(
      name: "unexpected character", bytes: Array("a @ b".utf8), message: .unexpectedCharacter("@"), position: "1:3",
      tokens: ["identifier a", "identifier b"]),
    ErrorCase(
      name: "unexpected multibyte character", bytes: Array("a é".utf8), message: .unexpectedCharacter("é"),
      position: "1:3", tokens: ["identifier a"]),
    ErrorCase(
      name: "nul byte", bytes: [UInt8(ascii: "a"), 0, UInt8(ascii: "b")], message: .nulByte, position: "1:2",
      tokens: ["identifier a", "identifier b"]),
    ErrorCase(
      name: "nul byte in a comment", bytes: Array("a # x".utf8) + [0] + Array("\nb".utf8), message: .nulByte,
      position: "1:6", tokens: ["identifier a", "nl", "identifier b"]),
    ErrorCase(
      name: "nul byte in a string", bytes: Array("\"a".utf8) + [0] + Array("b\"".utf8), message: .nulByte,
      position: "1:3", tokens: ["string ab"]),
    ErrorCase(
      name: "invalid utf-8 run is one error", bytes: Array("a ".utf8) + [0xFF, 0xFE, 0x80] + Array(" b".utf8),
      message: .invalidUTF8, position: "1:3", tokens: ["identifier a", "identifier b"]),
    ErrorCase(
      name: "truncated utf-8 sequence", bytes: Array("a ".utf8) + [0xE2, 0x82], message: .invalidUTF8,
      position: "1:3", tokens: ["identifier a"]),
    ErrorCase(
      name: "overlong utf-8 encoding", bytes: [0xC0, 0xAF], message: .invalidUTF8, position: "1:1", tokens: []),
    ErrorCase(
      name: "utf-16 surrogate encoded as utf-8", bytes: [0xED, 0xA0, 0x80], message: .invalidUTF8, position: "1:1",
      tokens: []),
    ErrorCase(
      name: "invalid utf-8 in a comment", bytes: Array("# caf".utf8) + [0xE9], message: .invalidUTF8,
      position: "1:6", tokens: []),
    ErrorCase(
      name: "invalid utf-8 in a string", bytes: Array("\"caf".utf8) + [0xE9] + Array("\"".utf8),
      message: .invalidUTF8, position: "1:5", tokens: ["string caf"]),
    ErrorCase(
      name: "unterminated string", bytes: Array("weights \"w.safetensors\nx".utf8), message: .unterminatedString,
      position: "1:9", tokens: ["identifier weights", "string w.safetensors", "nl", "identifier x"]),
    ErrorCase(
      name: "malformed number", bytes: Array("hidden 16x".utf8), message: .malformedNumber("16x"), position: "1:8",
      tokens: ["identifier hidden", "identifier 16x"]),
    ErrorCase(
      name: "exponent without digits", bytes: Array("2e".utf8), message: .malformedNumber("2e"), position: "1:1",
      tokens: ["identifier 2e"]),
    ErrorCase(
      name: "malformed number with exponent", bytes: Array("1.5e3q".utf8), message: .malformedNumber("1.5e3q"),
      position: "1:1", tokens: ["identifier 1.5e3q"]),
  ]

  @Test(arguments: errorCases)
  func errors(_ c: ErrorCase) {
    var lexer = Lexer(source: SourceFile(path: "t.gru", bytes: c.bytes))
    let tokens = lexer.tokenize()
    let diagnostics = lexer.diagnostics.diagnostics
    #expect(diagnostics.map(\.message) == [c.message])
    #expect(diagnostics.map(\.position) == [c.position])
    #expect(diagnostics.allSatisfy { $0.severity == .error })
    #expect(Self.words(tokens) == c.tokens)
  }

  /// Every byte value, alone and after a name, lexes without a crash to tokens or an error.
  @Test func everyByteIsHandled() {
    for b in 0...255 {
      for bytes in [[UInt8(b)], Array("x".utf8) + [UInt8(b)] + Array(" y".utf8)] {
        var lexer = Lexer(source: SourceFile(path: "t.gru", bytes: bytes))
        let tokens = lexer.tokenize()
        #expect(tokens.last?.kind == .endOfFile)
      }
    }
  }
}
