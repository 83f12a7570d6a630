// Lexer: turns the bytes of a .gru file into tokens. Works on UTF-8 bytes so that bad bytes
// (NUL, invalid UTF-8, stray characters) become located errors instead of crashes.

/// Splits a source file into tokens. Newlines are tokens because a statement ends at the end of
/// its line; `#` starts a comment that runs to the end of the line.
public struct Lexer {
  private let source: SourceFile
  private let bytes: [UInt8]
  private var pos = 0
  public private(set) var diagnostics = DiagnosticEngine()

  public init(source: SourceFile) {
    self.source = source
    self.bytes = source.bytes
  }

  /// Lexes the whole file. The result always ends with an `endOfFile` token.
  public mutating func tokenize() -> [Token] {
    var tokens: [Token] = []
    while true {
      let token = next()
      tokens.append(token)
      if token.kind == .endOfFile { return tokens }
    }
  }

  private func peek(_ ahead: Int = 0) -> UInt8? {
    pos + ahead < bytes.count ? bytes[pos + ahead] : nil
  }

  private func make(_ kind: TokenKind, from start: Int, text: String? = nil) -> Token {
    let spelled = text ?? String(decoding: bytes[start..<pos], as: UTF8.self)
    return Token(kind: kind, text: spelled, range: source.range(start, pos))
  }

  private mutating func next() -> Token {
    while true {
      skipSpaceAndComments()
      let start = pos
      guard let c = peek() else { return make(.endOfFile, from: start, text: "") }
      pos += 1
      if let token = token(startingWith: c, at: start) { return token }
    }
  }

  /// The token that starts with byte `c`, or nil after reporting a byte that starts none.
  private mutating func token(startingWith c: UInt8, at start: Int) -> Token? {
    switch c {
    case UInt8(ascii: "\n"): return make(.newline, from: start)
    case UInt8(ascii: "\r") where peek() == UInt8(ascii: "\n"):
      pos += 1
      return make(.newline, from: start)
    case UInt8(ascii: "="): return make(.equal, from: start)
    case UInt8(ascii: ","): return make(.comma, from: start)
    case UInt8(ascii: "("): return make(.leftParen, from: start)
    case UInt8(ascii: ")"): return make(.rightParen, from: start)
    case UInt8(ascii: "["): return make(.leftBracket, from: start)
    case UInt8(ascii: "]"): return make(.rightBracket, from: start)
    case UInt8(ascii: "."): return make(.dot, from: start)
    case UInt8(ascii: "*"): return make(.star, from: start)
    case UInt8(ascii: ":"): return make(.colon, from: start)
    case UInt8(ascii: "\""): return string(from: start)
    case UInt8(ascii: "-") where peek() == UInt8(ascii: ">"):
      pos += 1
      return make(.arrow, from: start)
    case UInt8(ascii: "-") where peek().map(isDigit) ?? false:
      return number(from: start)
    case _ where isDigit(c): return number(from: start)
    case _ where isIdentifierStart(c): return identifier(from: start)
    default:
      reportUnexpected(c, from: start)
      return nil
    }
  }

  /// Reports a byte that cannot start a token and skips it (with the rest of its UTF-8 sequence).
  private mutating func reportUnexpected(_ c: UInt8, from start: Int) {
    if c == 0 {
      diagnostics.error(.nulByte, at: source.range(start, pos))
    } else if c >= 0x80 {
      let length = utf8SequenceLength(at: start)
      if length == 0 {
        pos = invalidRunEnd(from: start)
        diagnostics.error(.invalidUTF8, at: source.range(start, pos))
      } else {
        pos = start + length
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        diagnostics.error(.unexpectedCharacter(text), at: source.range(start, pos))
      }
    } else {
      let text = String(decoding: [c], as: UTF8.self)
      diagnostics.error(.unexpectedCharacter(text), at: source.range(start, pos))
    }
  }

  private mutating func skipSpaceAndComments() {
    while let c = peek() {
      if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") {
        pos += 1
      } else if c == UInt8(ascii: "\r"), peek(1) != UInt8(ascii: "\n") {
        pos += 1
      } else if c == UInt8(ascii: "#") {
        // Comments may hold any valid UTF-8, but not broken bytes.
        while let d = peek(), d != UInt8(ascii: "\n") {
          if d == 0 {
            diagnostics.error(.nulByte, at: source.range(pos, pos + 1))
            pos += 1
          } else if d >= 0x80 {
            let length = utf8SequenceLength(at: pos)
            if length == 0 {
              let end = invalidRunEnd(from: pos)
              diagnostics.error(.invalidUTF8, at: source.range(pos, end))
              pos = end
            } else {
              pos += length
            }
          } else {
            pos += 1
          }
        }
      } else {
        return
      }
    }
  }

  // identifier = letter-or-_ { letter | digit | _ } { "-" letter-or-digit { ... } }
  private mutating func identifier(from start: Int) -> Token {
    while true {
      while let c = peek(), isIdentifierContinue(c) { pos += 1 }
      // A hyphen joins words (`keeps-state`) only when a letter follows it.
      if peek() == UInt8(ascii: "-"), let after = peek(1), isIdentifierStart(after) {
        pos += 1
        continue
      }
      break
    }
    return make(.identifier, from: start)
  }

  // number = [ "-" ] digits [ "." digits ] [ ("e" | "E") [ "+" | "-" ] digits ]
  private mutating func number(from start: Int) -> Token {
    if peek() == UInt8(ascii: "-") { pos += 1 }
    var isInteger = true
    while let c = peek(), isDigit(c) { pos += 1 }
    if peek() == UInt8(ascii: "."), let d = peek(1), isDigit(d) {
      isInteger = false
      pos += 1
      while let c = peek(), isDigit(c) { pos += 1 }
    }
    if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
      var ahead = 1
      if let s = peek(1), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { ahead = 2 }
      if let d = peek(ahead), isDigit(d) {
        isInteger = false
        pos += ahead
        while let c = peek(), isDigit(c) { pos += 1 }
      }
    }
    // `16x` is one malformed word, not `16` followed by `x`.
    if let c = peek(), isIdentifierStart(c) {
      while let c = peek(), isIdentifierContinue(c) { pos += 1 }
      let token = make(.identifier, from: start)
      diagnostics.error(.malformedNumber(token.text), at: token.range)
      return token
    }
    return make(isInteger ? .integer : .number, from: start)
  }

  // string = '"' { character | '\"' | '\\' } '"'   (on one line)
  private mutating func string(from start: Int) -> Token {
    var value: [UInt8] = []
    while let c = peek() {
      if c == UInt8(ascii: "\n") { break }
      pos += 1
      if c == UInt8(ascii: "\"") {
        return make(.string, from: start, text: String(decoding: value, as: UTF8.self))
      }
      if c == UInt8(ascii: "\\"), let e = peek(), e == UInt8(ascii: "\"") || e == UInt8(ascii: "\\") {
        value.append(e)
        pos += 1
      } else if c == 0 {
        diagnostics.error(.nulByte, at: source.range(pos - 1, pos))
      } else if c >= 0x80 {
        let length = utf8SequenceLength(at: pos - 1)
        if length == 0 {
          let end = invalidRunEnd(from: pos - 1)
          diagnostics.error(.invalidUTF8, at: source.range(pos - 1, end))
          pos = end
        } else {
          value.append(contentsOf: bytes[(pos - 1)..<(pos - 1 + length)])
          pos += length - 1
        }
      } else {
        value.append(c)
      }
    }
    diagnostics.error(.unterminatedString, at: source.range(start, pos))
    return make(.string, from: start, text: String(decoding: value, as: UTF8.self))
  }

  /// The end of the run of bytes from `offset` that start no valid UTF-8 sequence, so that a run of
  /// Latin-1 or binary bytes is one error rather than one per byte.
  private func invalidRunEnd(from offset: Int) -> Int {
    var end = offset + 1
    while end < bytes.count, bytes[end] >= 0x80, utf8SequenceLength(at: end) == 0 { end += 1 }
    return end
  }

  /// The length of the valid UTF-8 sequence starting at `offset`, or 0 if the bytes there are not one.
  private func utf8SequenceLength(at offset: Int) -> Int {
    let lead = bytes[offset]
    let length: Int
    let minimum: UInt32
    switch lead {
    case 0xC2...0xDF: length = 2; minimum = 0x80
    case 0xE0...0xEF: length = 3; minimum = 0x800
    case 0xF0...0xF4: length = 4; minimum = 0x10000
    default: return 0
    }
    guard offset + length <= bytes.count else { return 0 }
    var scalar = UInt32(lead) & (0xFF >> (length + 1))
    for i in 1..<length {
      let b = bytes[offset + i]
      guard b & 0xC0 == 0x80 else { return 0 }
      scalar = scalar << 6 | UInt32(b & 0x3F)
    }
    guard scalar >= minimum, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else { return 0 }
    return length
  }
}

private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

private func isIdentifierStart(_ c: UInt8) -> Bool {
  (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
    || c == UInt8(ascii: "_")
}

private func isIdentifierContinue(_ c: UInt8) -> Bool { isIdentifierStart(c) || isDigit(c) }
