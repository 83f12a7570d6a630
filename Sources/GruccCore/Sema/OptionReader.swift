// Reads the `key value` clauses of one declaration: typed lookups for Sema, and the checks every
// declaration shares (unknown keys, repeated keys, missing or invalid values).

/// The option clauses of one declaration and the keys it accepts.
struct OptionReader {
  private let options: [OptionClause]
  private let declaration: String
  private let allowed: [String]

  init(_ options: [OptionClause], declaration: String, allowed: [String]) {
    self.options = options
    self.declaration = declaration
    self.allowed = allowed
  }

  /// The first clause with this key.
  func clause(_ key: String) -> OptionClause? { options.first { $0.key.text == key } }

  func mentioned(_ key: String) -> Bool { clause(key) != nil }

  /// Whether the key is given, or an unknown key is a misspelling of it (what `finish` suggests):
  /// either way the user did say it, and the misspelling's error is enough.
  func mentionedOrMisspelled(_ key: String) -> Bool {
    options.contains { c in c.key.text == key || (!allowed.contains(c.key.text) && suggestion(for: c.key.text) == key) }
  }

  /// The allowed key closest to an unknown one, if it is close enough to be a misspelling.
  private func suggestion(for key: String) -> String? {
    guard let best = allowed.min(by: { editDistance($0, key) < editDistance($1, key) }), editDistance(best, key) <= 2
    else { return nil }
    return best
  }

  /// A value from a closed set of words, such as `reset before`.
  func choice<E: RawRepresentable & CaseIterable>(
    _ key: String, _ type: E.Type, _ diagnostics: inout DiagnosticEngine
  ) -> E? where E.RawValue == String {
    guard let c = clause(key) else { return nil }
    let choices = E.allCases.map(\.rawValue)
    guard let value = c.value else {
      diagnostics.error(.missingOptionValue(key), at: c.range, notes: [.note(.expectedOneOf(choices))])
      return nil
    }
    if case .word(let w) = value, let e = E(rawValue: w.text) { return e }
    var notes: [Diagnostic] = [.note(.expectedOneOf(choices))]
    if let best = choices.min(by: { editDistance($0, value.spelling) < editDistance($1, value.spelling) }),
      editDistance(best, value.spelling) <= 2
    {
      notes.insert(.didYouMean(best, replacing: value.range), at: 0)
    }
    diagnostics.error(.invalidOptionValue(option: key, value: value.spelling), at: value.range, notes: notes)
    return nil
  }

  /// A whole-number value, such as `steps 10`.
  func integer(_ key: String, _ diagnostics: inout DiagnosticEngine, minimum: Int) -> Int? {
    guard let c = clause(key) else { return nil }
    guard let value = c.value else {
      diagnostics.error(.missingOptionValue(key), at: c.range)
      return nil
    }
    guard case .integer(let v, let r) = value else {
      diagnostics.error(.expectedIntegerOption(key, value.spelling), at: value.range)
      return nil
    }
    guard v >= minimum, v <= Sema.maxSize else {
      diagnostics.error(.sizeOutOfRange("'\(key)'", v, Sema.maxSize), at: r)
      return nil
    }
    return v
  }

  /// A positive number, such as `clip 3` or `clip 0.5`.
  func positiveNumber(_ key: String, _ diagnostics: inout DiagnosticEngine) -> Double? {
    guard let c = clause(key) else { return nil }
    let v: Double?
    switch c.value {
    case .integer(let i, _): v = Double(i)
    case .number(let d, _, _): v = d
    default: v = nil
    }
    guard let v, v > 0 else {
      diagnostics.error(.expectedNumberOption(key, c.value?.spelling ?? ""), at: c.value?.range ?? c.range)
      return nil
    }
    return v
  }

  /// An activation, such as `gate-activation sigmoid` or `gate-activation hard-sigmoid(0.2, 0.5)`.
  /// Softmax, l2norm and clip are not elementwise gate activations, so they are refused here.
  func activation(_ key: String, _ diagnostics: inout DiagnosticEngine) -> Activation? {
    guard let c = clause(key) else { return nil }
    let choices = Activation.forms.map(\.name).filter { $0 != "softmax" && $0 != "l2norm" && $0 != "clip" }
    let name: Name
    var arguments: [Expr] = []
    switch c.value {
    case .word(let w): name = w
    case .call(let callee, let args, _):
      name = callee
      arguments = args
    default:
      diagnostics.error(.missingOptionValue(key), at: c.value?.range ?? c.range, notes: [.note(.expectedOneOf(choices))])
      return nil
    }
    guard choices.contains(name.text), let form = Activation.form(named: name.text) else {
      var notes: [Diagnostic] = [.note(.expectedOneOf(choices))]
      if let best = choices.min(by: { editDistance($0, name.text) < editDistance($1, name.text) }),
        editDistance(best, name.text) <= 2
      {
        notes.insert(.didYouMean(best, replacing: name.range), at: 0)
      }
      diagnostics.error(.invalidOptionValue(option: key, value: name.text), at: name.range, notes: notes)
      return nil
    }
    return Activation.make(form, arguments: arguments, at: c.value?.range ?? c.range, &diagnostics)
  }

  /// A range of indices, such as `columns 0:32`: counted from 0, the end excluded, and not empty
  /// when both ends are given. An end left out is the axis's own, known once the file is read.
  func range(_ key: String, _ diagnostics: inout DiagnosticEngine) -> IndexRange? {
    guard let c = clause(key) else { return nil }
    guard let value = c.value else {
      diagnostics.error(.missingOptionValue(key), at: c.range)
      return nil
    }
    guard case .range(let start, let end, let r) = value else {
      diagnostics.error(.expectedRangeOption(key, value.spelling), at: value.range)
      return nil
    }
    if (start ?? 0) < 0 || (end ?? 0) < 0 {
      diagnostics.error(.expectedRangeOption(key, value.spelling), at: r)
      return nil
    }
    if let start, let end, end <= start {
      diagnostics.error(.emptyRange("\(key) \(value.spelling)"), at: r)
      return nil
    }
    return IndexRange(start: start, end: end, option: key, range: c.range)
  }

  /// A name value, such as `lengths len`.
  func word(_ key: String, _ diagnostics: inout DiagnosticEngine) -> Name? {
    guard let c = clause(key) else { return nil }
    guard case .word(let w) = c.value else {
      diagnostics.error(.expectedNameOption(key), at: c.value?.range ?? c.range)
      return nil
    }
    return w
  }

  /// Reports keys this declaration does not know and keys given twice.
  func finish(_ diagnostics: inout DiagnosticEngine) {
    var seen: [String: SourceRange] = [:]
    for c in options {
      let key = c.key.text
      if !allowed.contains(key) {
        var notes: [Diagnostic] = []
        if let best = suggestion(for: key) { notes.append(.didYouMean(best, replacing: c.key.range)) }
        notes.append(.note(.optionsOf(declaration, allowed)))
        diagnostics.error(.unknownOption(key, declaration: declaration), at: c.key.range, notes: notes)
      } else if let previous = seen[key] {
        diagnostics.error(.duplicateOption(key), at: c.key.range, notes: [.note(.previousDeclaration, at: previous)])
      } else {
        seen[key] = c.key.range
      }
    }
  }
}
