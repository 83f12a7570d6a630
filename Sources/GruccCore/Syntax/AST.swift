// The syntax tree of a .gru file: what the user wrote, with a source range on every node.
// Nothing here is checked yet; Sema turns it into a resolved `Model`.

/// A name as written, with its range.
public struct Name: Sendable, Equatable {
  public var text: String
  public var range: SourceRange
}

/// The value after an option's key: `reset before`, `steps 10`, `layout "x"`.
public enum OptionValue: Sendable, Equatable {
  case word(Name)
  case integer(Int, SourceRange)
  case number(Double, String, SourceRange)
  case string(String, SourceRange)
  /// A word with arguments: `gate-activation hard-sigmoid(0.2, 0.5)`.
  case call(Name, [Expr], SourceRange)
  /// A half-open range of indices, either end optional: `columns 0:32`, `rows 16:`.
  case range(Int?, Int?, SourceRange)

  public var range: SourceRange {
    switch self {
    case .word(let n): return n.range
    case .integer(_, let r), .number(_, _, let r), .string(_, let r), .call(_, _, let r), .range(_, _, let r): return r
    }
  }

  /// The value as written, for messages.
  public var spelling: String {
    switch self {
    case .word(let n): return n.text
    case .integer(let v, _): return String(v)
    case .number(_, let text, _): return text
    case .string(let s, _): return "\"\(s)\""
    case .call(let callee, let arguments, _): return "\(callee.text)(\(arguments.map(\.spelling).joined(separator: ", ")))"
    case .range(let start, let end, _): return "\(start.map(String.init) ?? ""):\(end.map(String.init) ?? "")"
    }
  }
}

/// One `key [value]` clause of a declaration, such as `reset before` or `bias single`.
public struct OptionClause: Sendable, Equatable {
  public var key: Name
  public var value: OptionValue?
  public var range: SourceRange
}

/// A head expression: a name, a call such as `dense(last(h), 10)`, or a number argument.
public indirect enum Expr: Sendable, Equatable {
  case name(Name)
  case call(callee: Name, arguments: [Expr], range: SourceRange)
  case integer(Int, SourceRange)
  case number(Double, String, SourceRange)

  public var range: SourceRange {
    switch self {
    case .name(let n): return n.range
    case .call(_, _, let r), .integer(_, let r), .number(_, _, let r): return r
    }
  }

  /// The expression as written (normalised spacing), for messages and AST dumps.
  public var spelling: String {
    switch self {
    case .name(let n): return n.text
    case .call(let callee, let arguments, _): return "\(callee.text)(\(arguments.map(\.spelling).joined(separator: ", ")))"
    case .integer(let v, _): return String(v)
    case .number(_, let text, _): return text
    }
  }
}

/// `input x[28], steps 50, layout time-major, lengths len`
public struct InputDecl: Sendable, Equatable {
  public var name: Name
  public var features: Int
  public var featuresRange: SourceRange
  public var options: [OptionClause]
}

/// `gru h = x -> hidden 16, reset before, update keeps-state, bias single`
public struct GRUDecl: Sendable, Equatable {
  public var name: Name
  public var source: Name
  public var hidden: Int
  public var hiddenRange: SourceRange
  public var options: [OptionClause]
  /// `hidden N` whole, for errors about the size rather than the number.
  public var hiddenClauseRange: SourceRange = .none
}

/// `let e = expr` or `output y = expr`.
/// `conv1d NAME = SOURCE -> filters F, ...`: read like a gru line, the output size first.
public struct ConvDecl: Sendable, Equatable {
  public var name: Name
  public var source: Name
  public var filters: Int
  public var filtersRange: SourceRange
  public var options: [OptionClause]
  public var filtersClauseRange: SourceRange = .none
}

/// `pad NAME = SOURCE -> before P` or `pool NAME = SOURCE -> average N, ...`: a layer over time
/// whose line is its keyword, its names and its options, the first right after the arrow.
public struct SequenceLayerDecl: Sendable, Equatable {
  public var keyword: Name
  public var name: Name
  public var source: Name
  public var options: [OptionClause]
}

public struct BindingDecl: Sendable, Equatable {
  public var isOutput: Bool
  public var name: Name
  public var value: Expr
}

/// `weights "file.safetensors" [, option ...]`
public struct WeightsDecl: Sendable, Equatable {
  public var path: String
  public var pathRange: SourceRange
  public var options: [OptionClause]
}

/// `map h = "gru", layer 0` or `map h.w_r = "Wr", transposed`: which tensor of the weights file
/// holds a layer's (or one parameter's) weights.
public struct MapDecl: Sendable, Equatable {
  /// A layer, a dense binding, or one of grucc's tensor names (`h.w_r`).
  public var target: Name
  public var source: String
  public var sourceRange: SourceRange
  public var options: [OptionClause]
}

/// `init h.u_*, *.w orthogonal` — glob patterns over parameter names and a distribution.
public struct InitRuleDecl: Sendable, Equatable {
  public var patterns: [Name]
  public var distribution: Expr
}

/// One statement of a .gru file.
public enum StatementKind: Sendable, Equatable {
  case model(Name)
  case precision(Name)
  /// `weights-storage f16`
  case weightsStorage(Name)
  case input(InputDecl)
  case gru(GRUDecl)
  case conv1d(ConvDecl)
  /// `pad`, `pool`
  case sequenceLayer(SequenceLayerDecl)
  case norm(NormDecl)
  case binding(BindingDecl)
  case weights(WeightsDecl)
  case map(MapDecl)
  case initSeed(Int, SourceRange)
  case initRule(InitRuleDecl)
  /// A statement the parser abandoned after reporting an error, with the name it declares if the
  /// parser got that far. Sema counts it as written and its name as defined, so the one mistake
  /// does not also surface as "unknown name" or "no 'output' statement".
  case invalid(Name?)
}

/// A statement with the range of its whole line and of its leading keyword.
public struct Statement: Sendable, Equatable {
  public var kind: StatementKind
  public var keyword: Name
  public var range: SourceRange
}

/// A parsed .gru file.
public struct ModelFile: Sendable, Equatable {
  public var statements: [Statement]
}
