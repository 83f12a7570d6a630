// C identifiers: the model prefix on every symbol, DSL names made C-safe, and local names made
// unique within a function.

/// Names for one generated model.
struct CNames {
  /// `adder` → symbols `adder_...`, macros `ADDER_...`.
  let symbol: String
  let macro: String

  init(model: String) {
    symbol = CNames.sanitize(model)
    macro = symbol.uppercased()
  }

  /// `h.w_rzn` → `h_w_rzn`: every character that cannot appear in a C identifier becomes `_`.
  static func sanitize(_ s: String) -> String {
    var out = String(s.map { c in c.isASCII && (c.isLetter || c.isNumber || c == "_") ? c : "_" })
    if let first = out.first, first.isNumber { out = "_" + out }
    return out.isEmpty ? "_" : out
  }

  func global(_ s: String) -> String { "\(symbol)_\(CNames.sanitize(s))" }

  /// Words a generated local or parameter must not be: C and C++ keywords, the library functions
  /// and macros the generated code calls, and the fixed parameter names of the API.
  static let reserved: Set<String> = [
    "auto", "bool", "break", "case", "char", "class", "const", "continue", "default", "delete", "do", "double",
    "else", "enum", "extern", "false", "float", "for", "goto", "if", "inline", "int", "long", "namespace", "new",
    "operator", "private", "protected", "public", "register", "restrict", "return", "short", "signed", "sizeof",
    "static", "struct", "switch", "template", "this", "throw", "true", "try", "typedef", "typename", "union",
    "unsigned", "using", "virtual", "void", "volatile", "while", "NULL", "memcpy", "memset", "exp", "expf",
    "tanh", "tanhf", "size_t", "i", "j", "t", "b", "s", "x", "x_stride", "T", "B", "len", "lengths", "scratch",
    "state",
  ]

  /// A DSL name used as a C parameter or local: sanitised, and moved aside if it is reserved.
  static func parameter(_ s: String) -> String {
    let name = sanitize(s)
    return reserved.contains(name) ? name + "_" : name
  }
  func constant(_ s: String) -> String { "\(macro)_\(CNames.sanitize(s).uppercased())" }
}

/// Hands out local variable names unique within one C function.
struct LocalNames {
  private var used: Set<String>

  init(reserved: [String] = []) { used = CNames.reserved.union(reserved) }

  mutating func fresh(_ hint: String) -> String {
    let base = CNames.sanitize(hint)
    if used.insert(base).inserted { return base }
    var i = 2
    while !used.insert("\(base)_\(i)").inserted { i += 1 }
    return "\(base)_\(i)"
  }
}
