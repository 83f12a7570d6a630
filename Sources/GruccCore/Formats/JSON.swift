// A small strict JSON (RFC 8259) parser over raw bytes, used for safetensors headers.
// Objects keep their key order so everything built from them is deterministic.

/// A parsed JSON value. Numbers keep their source text so callers decide how to
/// interpret them (integers in safetensors headers must not pass through Double).
enum JSONValue: Equatable {
  case null
  case bool(Bool)
  case number(String)
  case string(String)
  case array([JSONValue])
  /// Members in source order; keys are unique (the parser rejects duplicates).
  case object([(String, JSONValue)])

  /// Structural equality; objects compare member by member, so key order matters.
  static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
    switch (lhs, rhs) {
    case (.null, .null): return true
    case (.bool(let a), .bool(let b)): return a == b
    case (.number(let a), .number(let b)): return a == b
    case (.string(let a), .string(let b)): return a == b
    case (.array(let a), .array(let b)): return a == b
    case (.object(let a), .object(let b)):
      return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    default: return false
    }
  }

  /// The member named `key` if this is an object.
  subscript(key: String) -> JSONValue? {
    guard case .object(let members) = self else { return nil }
    return members.first { $0.0 == key }?.1
  }

  /// The value as a non-negative integer if it is a plain integer literal (no sign,
  /// fraction or exponent) that fits in an Int; `nil` otherwise.
  var nonNegativeInt: Int? {
    guard case .number(let text) = self else { return nil }
    var n = 0
    for c in text.utf8 {
      guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9"),
        let m = Checked.multiply(n, 10), let s = Checked.add(m, Int(c - UInt8(ascii: "0")))
      else { return nil }
      n = s
    }
    return n
  }

  /// A short name of the value's kind for error messages.
  var kindName: String {
    switch self {
    case .null: "null"
    case .bool: "a boolean"
    case .number: "a number"
    case .string: "a string"
    case .array: "an array"
    case .object: "an object"
    }
  }
}

/// Entry point for parsing; see `parse(_:)`.
enum JSON {
  /// Deepest array/object nesting accepted, so hostile input cannot exhaust the stack.
  static let maxDepth = 64

  /// Parses exactly one JSON value, optionally surrounded by whitespace. Rejects invalid
  /// UTF-8, lone surrogates, duplicate object keys and trailing bytes. Error offsets are
  /// counted from the start of `bytes`.
  static func parse(_ bytes: ArraySlice<UInt8>) throws(FormatError) -> JSONValue {
    var parser = JSONParser(bytes: bytes)
    parser.skipWhitespace()
    let value = try parser.parseValue(depth: 0)
    parser.skipWhitespace()
    if parser.pos < bytes.endIndex {
      throw parser.error("unexpected \(parser.describeCurrent()) after the JSON value")
    }
    return value
  }
}

/// Recursive-descent parser state; `pos` is an index into `bytes`.
private struct JSONParser {
  let bytes: ArraySlice<UInt8>
  var pos: Int

  init(bytes: ArraySlice<UInt8>) {
    self.bytes = bytes
    self.pos = bytes.startIndex
  }

  func error(_ message: String, at offset: Int? = nil) -> FormatError {
    FormatError("\(message) at byte \((offset ?? pos) - bytes.startIndex)")
  }

  func describeCurrent() -> String {
    guard pos < bytes.endIndex else { return "end of input" }
    return describeByte(bytes[pos])
  }

  func describeByte(_ b: UInt8) -> String {
    if b >= 0x21 && b < 0x7F { return "character '\(Character(Unicode.Scalar(b)))'" }
    return "byte 0x" + String(b, radix: 16, uppercase: true)
  }

  mutating func skipWhitespace() {
    while pos < bytes.endIndex {
      switch bytes[pos] {
      case 0x20, 0x09, 0x0A, 0x0D: pos += 1
      default: return
      }
    }
  }

  mutating func expect(_ literal: String, value: JSONValue) throws(FormatError) -> JSONValue {
    let start = pos
    for c in literal.utf8 {
      guard pos < bytes.endIndex, bytes[pos] == c else {
        throw error("invalid literal, expected '\(literal)'", at: start)
      }
      pos += 1
    }
    return value
  }

  mutating func parseValue(depth: Int) throws(FormatError) -> JSONValue {
    guard pos < bytes.endIndex else { throw error("unexpected end of input") }
    switch bytes[pos] {
    case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
    case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
    case UInt8(ascii: "\""): return .string(try parseString())
    case UInt8(ascii: "t"): return try expect("true", value: .bool(true))
    case UInt8(ascii: "f"): return try expect("false", value: .bool(false))
    case UInt8(ascii: "n"): return try expect("null", value: .null)
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
    default: throw error("unexpected \(describeCurrent())")
    }
  }

  mutating func parseObject(depth: Int) throws(FormatError) -> JSONValue {
    if depth > JSON.maxDepth { throw error("nesting deeper than \(JSON.maxDepth) levels") }
    pos += 1
    var members: [(String, JSONValue)] = []
    // String equality is Unicode canonical equivalence, so keys that differ only in
    // normalization count as duplicates: they would collide in any Swift dictionary later.
    var seen = Set<String>()
    skipWhitespace()
    if pos < bytes.endIndex && bytes[pos] == UInt8(ascii: "}") {
      pos += 1
      return .object(members)
    }
    while true {
      skipWhitespace()
      guard pos < bytes.endIndex, bytes[pos] == UInt8(ascii: "\"") else {
        throw error("expected a string key but found \(describeCurrent())")
      }
      let keyStart = pos
      let key = try parseString()
      if !seen.insert(key).inserted { throw error("duplicate key \(quoted(key))", at: keyStart) }
      skipWhitespace()
      guard pos < bytes.endIndex, bytes[pos] == UInt8(ascii: ":") else {
        throw error("expected ':' but found \(describeCurrent())")
      }
      pos += 1
      skipWhitespace()
      members.append((key, try parseValue(depth: depth)))
      skipWhitespace()
      guard pos < bytes.endIndex else { throw error("unterminated object") }
      if bytes[pos] == UInt8(ascii: ",") {
        pos += 1
      } else if bytes[pos] == UInt8(ascii: "}") {
        pos += 1
        return .object(members)
      } else {
        throw error("expected ',' or '}' but found \(describeCurrent())")
      }
    }
  }

  mutating func parseArray(depth: Int) throws(FormatError) -> JSONValue {
    if depth > JSON.maxDepth { throw error("nesting deeper than \(JSON.maxDepth) levels") }
    pos += 1
    var elements: [JSONValue] = []
    skipWhitespace()
    if pos < bytes.endIndex && bytes[pos] == UInt8(ascii: "]") {
      pos += 1
      return .array(elements)
    }
    while true {
      skipWhitespace()
      elements.append(try parseValue(depth: depth))
      skipWhitespace()
      guard pos < bytes.endIndex else { throw error("unterminated array") }
      if bytes[pos] == UInt8(ascii: ",") {
        pos += 1
      } else if bytes[pos] == UInt8(ascii: "]") {
        pos += 1
        return .array(elements)
      } else {
        throw error("expected ',' or ']' but found \(describeCurrent())")
      }
    }
  }

  /// Consumes a run of ASCII digits and returns how many there were.
  mutating func digits() -> Int {
    let start = pos
    while pos < bytes.endIndex, bytes[pos] >= UInt8(ascii: "0"), bytes[pos] <= UInt8(ascii: "9") {
      pos += 1
    }
    return pos - start
  }

  mutating func parseNumber() throws(FormatError) -> JSONValue {
    let start = pos
    if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
    guard pos < bytes.endIndex, bytes[pos] >= UInt8(ascii: "0"), bytes[pos] <= UInt8(ascii: "9") else {
      throw error("invalid number: expected a digit", at: pos)
    }
    if bytes[pos] == UInt8(ascii: "0") {
      pos += 1
      if pos < bytes.endIndex, bytes[pos] >= UInt8(ascii: "0"), bytes[pos] <= UInt8(ascii: "9") {
        throw error("invalid number: leading zero", at: start)
      }
    } else {
      _ = digits()
    }
    if pos < bytes.endIndex, bytes[pos] == UInt8(ascii: ".") {
      pos += 1
      if digits() == 0 { throw error("invalid number: expected a digit after '.'") }
    }
    if pos < bytes.endIndex, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
      pos += 1
      if pos < bytes.endIndex, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") {
        pos += 1
      }
      if digits() == 0 { throw error("invalid number: expected a digit in the exponent") }
    }
    return .number(String(decoding: bytes[start..<pos], as: UTF8.self))
  }

  /// Reads four hex digits of a \u escape.
  mutating func hex4() throws(FormatError) -> UInt32 {
    var v: UInt32 = 0
    for _ in 0..<4 {
      guard pos < bytes.endIndex else { throw error("unterminated \\u escape") }
      let c = bytes[pos]
      let d: UInt8
      switch c {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
      default: throw error("invalid hex digit in \\u escape")
      }
      v = v << 4 | UInt32(d)
      pos += 1
    }
    return v
  }

  mutating func parseString() throws(FormatError) -> String {
    pos += 1  // opening quote
    var out: [UInt8] = []
    while true {
      guard pos < bytes.endIndex else { throw error("unterminated string") }
      let b = bytes[pos]
      switch b {
      case UInt8(ascii: "\""):
        pos += 1
        // Raw bytes were validated as they were copied and escapes encode valid scalars.
        return String(decoding: out, as: UTF8.self)
      case UInt8(ascii: "\\"):
        let escapeStart = pos
        pos += 1
        guard pos < bytes.endIndex else { throw error("unterminated string") }
        let c = bytes[pos]
        pos += 1
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(c)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
          var scalar = try hex4()
          if scalar >= 0xDC00 && scalar <= 0xDFFF {
            throw error("lone low surrogate in \\u escape", at: escapeStart)
          }
          if scalar >= 0xD800 && scalar <= 0xDBFF {
            guard pos + 1 < bytes.endIndex, bytes[pos] == UInt8(ascii: "\\"),
              bytes[pos + 1] == UInt8(ascii: "u")
            else { throw error("high surrogate not followed by a low surrogate", at: escapeStart) }
            pos += 2
            let low = try hex4()
            guard low >= 0xDC00 && low <= 0xDFFF else {
              throw error("high surrogate not followed by a low surrogate", at: escapeStart)
            }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
          }
          guard let valid = Unicode.Scalar(scalar) else {
            throw error("invalid \\u escape", at: escapeStart)  // unreachable: surrogates excluded
          }
          out.append(contentsOf: String(valid).utf8)
        default:
          throw error("invalid escape: backslash followed by \(describeByte(c))", at: escapeStart)
        }
      case 0x00..<0x20:
        throw error("unescaped control character 0x\(String(b, radix: 16, uppercase: true)) in string")
      case 0x00..<0x80:
        out.append(b)
        pos += 1
      default:
        // Validate one multi-byte sequence at a time so the error names its offset.
        let end = Swift.min(pos + 4, bytes.endIndex)
        var len = 1
        if b >= 0xC0 { len = b >= 0xF0 ? 4 : (b >= 0xE0 ? 3 : 2) }
        let seqEnd = Swift.min(pos + len, end)
        if firstInvalidUTF8(bytes[pos..<seqEnd]) != nil || seqEnd - pos != len {
          throw error("invalid UTF-8 in string")
        }
        out.append(contentsOf: bytes[pos..<seqEnd])
        pos = seqEnd
      }
    }
  }
}
