// A parser for the tiny subset of Python literal syntax that .npy headers use
// (dicts, tuples, lists, strings, ints, True/False/None), so no evaluation is needed.

/// A parsed Python literal.
indirect enum PyLiteral: Equatable {
  case none
  case bool(Bool)
  /// An integer literal; `nil` when it does not fit in an Int.
  case int(Int?)
  case string(String)
  case tuple([PyLiteral])
  case list([PyLiteral])
  case dict([PyDictEntry])

  /// A short name of the value's kind for error messages.
  var kindName: String {
    switch self {
    case .none: "None"
    case .bool: "a bool"
    case .int: "an int"
    case .string: "a string"
    case .tuple: "a tuple"
    case .list: "a list"
    case .dict: "a dict"
    }
  }
}

/// One `key: value` pair of a dict literal, in source order.
struct PyDictEntry: Equatable {
  var key: PyLiteral
  var value: PyLiteral
}

/// Parser state over header bytes. Strings are decoded as Latin-1 (format 1.0/2.0) or
/// validated UTF-8 (format 3.0), matching how numpy decodes the header.
struct PyLiteralParser {
  static let maxDepth = 16

  let bytes: ArraySlice<UInt8>
  let utf8: Bool
  var pos: Int

  /// Parses one literal followed only by whitespace (numpy pads headers with spaces and '\n').
  static func parse(_ bytes: ArraySlice<UInt8>, utf8: Bool) throws(FormatError) -> PyLiteral {
    var p = PyLiteralParser(bytes: bytes, utf8: utf8, pos: bytes.startIndex)
    p.skipWhitespace()
    let value = try p.parseValue(depth: 0)
    p.skipWhitespace()
    if p.pos < bytes.endIndex { throw p.error("unexpected \(p.describeCurrent()) after the header dict") }
    return value
  }

  func error(_ message: String) -> FormatError {
    FormatError("header is not a valid python literal: \(message) at header byte \(pos - bytes.startIndex)")
  }

  func describeCurrent() -> String {
    guard pos < bytes.endIndex else { return "end of header" }
    let b = bytes[pos]
    if b >= 0x21 && b < 0x7F { return "character '\(Character(Unicode.Scalar(b)))'" }
    return "byte 0x" + String(b, radix: 16, uppercase: true)
  }

  mutating func skipWhitespace() {
    while pos < bytes.endIndex, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[pos]) { pos += 1 }
  }

  func isIdentifierByte(_ b: UInt8) -> Bool {
    (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
      || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_")
  }

  mutating func parseValue(depth: Int) throws(FormatError) -> PyLiteral {
    guard depth <= Self.maxDepth else { throw error("nesting deeper than \(Self.maxDepth) levels") }
    guard pos < bytes.endIndex else { throw error("unexpected end of header") }
    let b = bytes[pos]
    switch b {
    case UInt8(ascii: "{"): return try parseDict(depth: depth + 1)
    case UInt8(ascii: "("): return try parseSequence(close: UInt8(ascii: ")"), depth: depth + 1)
    case UInt8(ascii: "["): return try parseSequence(close: UInt8(ascii: "]"), depth: depth + 1)
    case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try parseString())
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseInt()
    default:
      let start = pos
      while pos < bytes.endIndex, isIdentifierByte(bytes[pos]) { pos += 1 }
      switch String(decoding: bytes[start..<pos], as: UTF8.self) {
      case "True": return .bool(true)
      case "False": return .bool(false)
      case "None": return .none
      default:
        pos = start
        throw error("unexpected \(describeCurrent())")
      }
    }
  }

  mutating func parseInt() throws(FormatError) -> PyLiteral {
    let negative = bytes[pos] == UInt8(ascii: "-")
    if negative { pos += 1 }
    var value: Int? = 0
    var digits = 0
    while pos < bytes.endIndex, bytes[pos] >= UInt8(ascii: "0"), bytes[pos] <= UInt8(ascii: "9") {
      let d = Int(bytes[pos] - UInt8(ascii: "0"))
      value = value.flatMap { Checked.multiply($0, 10) }.flatMap { Checked.add($0, negative ? -d : d) }
      digits += 1
      pos += 1
    }
    if digits == 0 { throw error("expected a digit") }
    // Python 2 era headers spell long integers with an 'L' suffix, e.g. (3L, 4L).
    if pos < bytes.endIndex, bytes[pos] == UInt8(ascii: "L") { pos += 1 }
    if pos < bytes.endIndex, isIdentifierByte(bytes[pos]) || bytes[pos] == UInt8(ascii: ".") {
      throw error("only integer numbers are allowed")
    }
    return .int(value)
  }

  mutating func parseString() throws(FormatError) -> String {
    let quote = bytes[pos]
    pos += 1
    var out: [UInt8] = []
    while true {
      guard pos < bytes.endIndex else { throw error("unterminated string") }
      var b = bytes[pos]
      if b == quote {
        pos += 1
        break
      }
      if b == 0x0A { throw error("newline in string") }
      if b == UInt8(ascii: "\\") {
        // numpy never writes escapes; keep the escaped byte so quotes and backslashes work.
        pos += 1
        guard pos < bytes.endIndex else { throw error("unterminated string") }
        b = bytes[pos]
      }
      out.append(b)
      pos += 1
    }
    if utf8 {
      if firstInvalidUTF8(out) != nil { throw error("invalid UTF-8 in string") }
      return String(decoding: out, as: UTF8.self)
    }
    var s = ""
    for b in out { s.unicodeScalars.append(Unicode.Scalar(b)) }  // Latin-1
    return s
  }

  /// Parses `(...)` or `[...]`. A parenthesized single item without a trailing comma is
  /// just that item, as in Python: `(5)` is the int 5, `(5,)` a one-element tuple.
  mutating func parseSequence(close: UInt8, depth: Int) throws(FormatError) -> PyLiteral {
    pos += 1
    var items: [PyLiteral] = []
    var trailingComma = false
    while true {
      skipWhitespace()
      guard pos < bytes.endIndex else { throw error("unterminated \(close == UInt8(ascii: ")") ? "tuple" : "list")") }
      if bytes[pos] == close {
        pos += 1
        break
      }
      if !items.isEmpty && !trailingComma { throw error("expected ',' but found \(describeCurrent())") }
      items.append(try parseValue(depth: depth))
      skipWhitespace()
      trailingComma = false
      if pos < bytes.endIndex, bytes[pos] == UInt8(ascii: ",") {
        pos += 1
        trailingComma = true
      }
    }
    if close == UInt8(ascii: "]") { return .list(items) }
    if items.count == 1 && !trailingComma { return items[0] }
    return .tuple(items)
  }

  mutating func parseDict(depth: Int) throws(FormatError) -> PyLiteral {
    pos += 1
    var entries: [PyDictEntry] = []
    var trailingComma = false
    while true {
      skipWhitespace()
      guard pos < bytes.endIndex else { throw error("unterminated dict") }
      if bytes[pos] == UInt8(ascii: "}") {
        pos += 1
        return .dict(entries)
      }
      if !entries.isEmpty && !trailingComma { throw error("expected ',' but found \(describeCurrent())") }
      let key = try parseValue(depth: depth)
      skipWhitespace()
      guard pos < bytes.endIndex, bytes[pos] == UInt8(ascii: ":") else {
        throw error("expected ':' but found \(describeCurrent())")
      }
      pos += 1
      skipWhitespace()
      entries.append(PyDictEntry(key: key, value: try parseValue(depth: depth)))
      skipWhitespace()
      trailingComma = false
      if pos < bytes.endIndex, bytes[pos] == UInt8(ascii: ",") {
        pos += 1
        trailingComma = true
      }
    }
  }
}
