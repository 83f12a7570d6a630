// JSON text from a JSONValue, for the machine-readable outputs (`--diagnostics-format json`,
// `grucc check --json`). Members keep their order, so the same value is always the same text.

extension JSONValue {
  /// Compact JSON: no spaces, no newlines (one value per line stays one line).
  var text: String {
    switch self {
    case .null: return "null"
    case .bool(let b): return b ? "true" : "false"
    case .number(let n): return n
    case .string(let s): return JSONValue.quoted(s)
    case .array(let items): return "[" + items.map(\.text).joined(separator: ",") + "]"
    case .object(let members): return "{" + members.map { JSONValue.quoted($0.0) + ":" + $0.1.text }.joined(separator: ",") + "}"
    }
  }

  static func int(_ n: Int) -> JSONValue { .number(String(n)) }

  /// A JSON string literal with the escapes serde_json writes (so safetensors headers match the
  /// reference writer byte for byte; the other JSON grucc prints uses the same).
  static func quoted(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\u{08}": out += "\\b"
      case "\u{0C}": out += "\\f"
      case _ where scalar.value < 0x20:
        let hex = String(scalar.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }
}
