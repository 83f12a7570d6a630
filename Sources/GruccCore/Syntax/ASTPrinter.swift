// Prints the syntax tree as indented text (`grucc --emit ast`); golden tests compare this text.

/// Renders a `ModelFile` one statement per block, locations as `@line:col`.
public enum ASTPrinter {
  public static func print(_ file: ModelFile) -> String {
    var out = ""
    for s in file.statements {
      out += line(s) + "  @\(s.range.start.line):\(s.range.start.column)\n"
      switch s.kind {
      case .input(let d): out += options(d.options)
      case .gru(let d): out += options(d.options)
      case .conv1d(let d): out += options(d.options)
      case .sequenceLayer(let d): out += options(d.options)
      case .norm(let d): out += options(d.options)
      case .weights(let d): out += options(d.options)
      case .map(let d): out += options(d.options)
      case .binding(let b): out += expr(b.value, indent: "  ")
      case .initRule(let r): out += expr(r.distribution, indent: "  ")
      case .model, .precision, .weightsStorage, .initSeed, .invalid: break
      }
    }
    return out
  }

  private static func line(_ s: Statement) -> String {
    switch s.kind {
    case .model(let n): return "Model \(n.text)"
    case .precision(let n): return "Precision \(n.text)"
    case .weightsStorage(let n): return "WeightsStorage \(n.text)"
    case .input(let d): return "Input \(d.name.text) [\(d.features)]"
    case .gru(let d): return "GRU \(d.name.text) = \(d.source.text) hidden \(d.hidden)"
    case .conv1d(let d): return "Conv1D \(d.name.text) = \(d.source.text) filters \(d.filters)"
    case .sequenceLayer(let d): return "\(d.keyword.text.capitalized) \(d.name.text) = \(d.source.text)"
    case .norm(let d): return "\(d.kind.spelling) \(d.name.text) = \(d.source.text)"
    case .binding(let b): return "\(b.isOutput ? "Output" : "Let") \(b.name.text)"
    case .weights(let d): return "Weights \"\(d.path)\""
    case .map(let d): return "Map \(d.target.text) = \"\(d.source)\""
    case .initSeed(let v, _): return "InitSeed \(v)"
    case .initRule(let r): return "InitRule \(r.patterns.map(\.text).joined(separator: ", "))"
    case .invalid(let n): return "Invalid \(s.keyword.text)" + (n.map { " \($0.text)" } ?? "")
    }
  }

  private static func options(_ options: [OptionClause]) -> String {
    options.map { "  Option \($0.key.text)\($0.value.map { " " + $0.spelling } ?? "")\n" }.joined()
  }

  private static func expr(_ e: Expr, indent: String) -> String {
    switch e {
    case .name(let n): return "\(indent)Name \(n.text)\n"
    case .integer(let v, _): return "\(indent)Integer \(v)\n"
    case .number(_, let text, _): return "\(indent)Number \(text)\n"
    case .call(let callee, let args, _):
      return "\(indent)Call \(callee.text)\n" + args.map { expr($0, indent: indent + "  ") }.joined()
    }
  }
}
