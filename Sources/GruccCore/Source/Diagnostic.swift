// Diagnostics as data: a message from the catalogue, a severity, a source range and notes.
// Detection (lexer, parser, sema, passes, weight binding) builds these; DiagnosticRenderer prints them.

/// One problem found in the user's input, located in the source file.
public struct Diagnostic: Sendable {
  public enum Severity: String, Sendable { case error, warning, note }

  public var severity: Severity
  public var message: DiagnosticMessage
  /// `SourceRange.none` for problems that belong to no particular place (an unreadable file).
  public var range: SourceRange
  public var notes: [Diagnostic]
  /// Edits that would fix it (a near-miss name replaced by the one meant), for tools.
  public var fixIts: [FixIt] = []

  public init(
    _ severity: Severity, _ message: DiagnosticMessage, at range: SourceRange, notes: [Diagnostic] = []
  ) {
    self.severity = severity
    self.message = message
    self.range = range
    self.notes = notes
  }

  public static func note(_ message: DiagnosticMessage, at range: SourceRange = .none) -> Diagnostic {
    Diagnostic(.note, message, at: range)
  }

  /// "did you mean 'X'?", with the fix-it that writes X over the misspelt text at `range`.
  static func didYouMean(_ name: String, replacing range: SourceRange) -> Diagnostic {
    var note = Diagnostic(.note, .didYouMean(name), at: .none)
    if !range.isNone { note.fixIts = [FixIt(range: range, replacement: name)] }
    return note
  }
}

/// Replace the text at `range` with `replacement`.
public struct FixIt: Sendable, Equatable {
  public var range: SourceRange
  public var replacement: String
}

/// Collects diagnostics in the order they are found. Each stage owns one for the length of a run;
/// there is no global sink.
public struct DiagnosticEngine: Sendable {
  public private(set) var diagnostics: [Diagnostic] = []

  public init() {}

  public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

  public mutating func error(_ message: DiagnosticMessage, at range: SourceRange, notes: [Diagnostic] = []) {
    diagnostics.append(Diagnostic(.error, message, at: range, notes: notes))
  }

  public mutating func warning(_ message: DiagnosticMessage, at range: SourceRange, notes: [Diagnostic] = []) {
    diagnostics.append(Diagnostic(.warning, message, at: range, notes: notes))
  }

  public mutating func append(contentsOf other: DiagnosticEngine) {
    diagnostics.append(contentsOf: other.diagnostics)
  }

  public mutating func append(_ diagnostic: Diagnostic) { diagnostics.append(diagnostic) }
}
