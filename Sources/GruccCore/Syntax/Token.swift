// The tokens of the .gru language. Keywords are ordinary identifiers: the parser and Sema decide
// what a word means where it stands, so option values such as `before` need no reserved words.

/// The lexical class of a token.
public enum TokenKind: String, Sendable {
  case identifier, integer, number, string
  case equal = "'='", arrow = "'->'", comma = "','", leftParen = "'('", rightParen = "')'"
  case leftBracket = "'['", rightBracket = "']'", dot = "'.'", star = "'*'", colon = "':'"
  case newline = "end of line", endOfFile = "end of file"

  /// How the token is named in "expected ..." messages.
  public var spelling: String {
    switch self {
    case .identifier: return "a name"
    case .integer: return "an integer"
    case .number: return "a number"
    case .string: return "a string"
    default: return rawValue
    }
  }
}

/// One token with its source range. `text` is the spelling, or for strings the unescaped value.
public struct Token: Sendable, Equatable {
  public var kind: TokenKind
  public var text: String
  public var range: SourceRange

  public init(kind: TokenKind, text: String, range: SourceRange) {
    self.kind = kind
    self.text = text
    self.range = range
  }
}
