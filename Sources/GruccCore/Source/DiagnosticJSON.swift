// Diagnostics for tools (`--diagnostics-format json`): one JSON object per line for each error or
// warning, its notes and fix-its inside it. Lines and columns count from 1 (columns in bytes, as
// in the text form); a diagnostic that belongs to no place has null for both.

enum DiagnosticJSON {
  static func render(_ diagnostics: [Diagnostic], fileName: String) -> String {
    diagnostics.map { object($0, fileName: fileName, parent: nil).text + "\n" }.joined()
  }

  /// An error the driver reports about no place in a model (a file it cannot read, say).
  static func driverError(_ message: String, file: String?) -> String {
    JSONValue.object([
      ("file", file.map(JSONValue.string) ?? .null), ("line", .null), ("column", .null), ("severity", .string("error")),
      ("message", .string(message)), ("notes", .array([])), ("fixits", .array([])),
    ]).text + "\n"
  }

  private static func object(_ d: Diagnostic, fileName: String, parent: SourceRange?) -> JSONValue {
    // A note without a place of its own is about its parent's.
    let range = d.range.isNone ? (parent ?? .none) : d.range
    var members: [(String, JSONValue)] = [
      ("file", .string(fileName)),
      ("line", range.isNone ? .null : .int(range.start.line)),
      ("column", range.isNone ? .null : .int(range.start.column)),
    ]
    if !range.isNone {
      members.append(("end_line", .int(range.end.line)))
      members.append(("end_column", .int(range.end.column)))
    }
    members.append(("severity", .string(d.severity.rawValue)))
    members.append(("message", .string(d.message.text)))
    if d.severity != .note {
      members.append(("notes", .array(d.notes.map { object($0, fileName: fileName, parent: range) })))
    }
    let fixIts = d.notes.flatMap(\.fixIts) + d.fixIts
    members.append((
      "fixits",
      .array(
        (d.severity == .note ? d.fixIts : fixIts).map { f in
          .object([
            ("line", .int(f.range.start.line)), ("column", .int(f.range.start.column)),
            ("end_line", .int(f.range.end.line)), ("end_column", .int(f.range.end.column)),
            ("replacement", .string(f.replacement)),
          ])
        })
    ))
    return .object(members)
  }
}
