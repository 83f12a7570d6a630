// Prints diagnostics the way clang and gcc do: `file:line:col: error: message`, the source line
// with a line-number gutter, and a caret under the range. The only place diagnostics become text.

/// Renders diagnostics against the source file they refer to.
public struct DiagnosticRenderer: Sendable {
  public var source: SourceFile?
  /// The name printed in front of located diagnostics (the path as the user typed it).
  public var fileName: String
  public var colors: Bool

  public init(source: SourceFile?, fileName: String? = nil, colors: Bool = false) {
    self.source = source
    self.fileName = fileName ?? source?.path ?? "grucc"
    self.colors = colors
  }

  public func render(_ diagnostics: [Diagnostic]) -> String {
    var out = ""
    for d in diagnostics { render(d, parent: nil, into: &out) }
    return out
  }

  /// A note without a range of its own is printed at its parent's location, without a snippet.
  private func render(_ d: Diagnostic, parent: SourceRange?, into out: inout String) {
    let label: String
    switch d.severity {
    case .error: label = colors ? "\u{1B}[1;31merror:\u{1B}[0m" : "error:"
    case .warning: label = colors ? "\u{1B}[1;35mwarning:\u{1B}[0m" : "warning:"
    case .note: label = colors ? "\u{1B}[1;36mnote:\u{1B}[0m" : "note:"
    }
    let text = colors ? "\u{1B}[1m\(d.message.text)\u{1B}[0m" : d.message.text
    if d.range.isNone, let parent, !parent.isNone {
      out += "\(fileName):\(parent.start.line):\(parent.start.column): \(label) \(text)\n"
    } else if d.range.isNone {
      out += "\(fileName): \(label) \(text)\n"
    } else {
      out += "\(fileName):\(d.range.start.line):\(d.range.start.column): \(label) \(text)\n"
      if let source {
        out += snippet(d.range, in: source)
        // As clang does, the replacement a did-you-mean suggests, under the text it replaces.
        if let fix = (d.fixIts + d.notes.filter { $0.range.isNone }.flatMap(\.fixIts)).first,
          fix.range.start.line == d.range.start.line
        {
          let line = source.lineBytes(fix.range.start.line)
          let width = max(5, String(d.range.start.line).count + 1)
          let fixText = indent(line, upTo: fix.range.start.column - 1) + fix.replacement
          out += String(repeating: " ", count: width) + " | " + (colors ? "\u{1B}[32m\(fixText)\u{1B}[0m" : fixText) + "\n"
        }
      }
    }
    for note in d.notes { render(note, parent: d.range, into: &out) }
  }

  /// Blanks as wide as the line's first `column` bytes: tabs are copied so what follows stays
  /// aligned, and continuation bytes of a multi-byte character take no column of their own.
  private func indent(_ line: ArraySlice<UInt8>, upTo column: Int) -> String {
    var text = ""
    for (i, b) in line.enumerated() where i < column {
      if b & 0xC0 == 0x80 { continue }
      text += b == UInt8(ascii: "\t") ? "\t" : " "
    }
    return text
  }

  /// The source line and a caret line; tabs before the caret are copied so it stays aligned.
  private func snippet(_ range: SourceRange, in source: SourceFile) -> String {
    let line = source.lineBytes(range.start.line)
    // A control character (a NUL, say) would be invisible or garble the terminal: print its
    // picture from the Unicode block U+2400, which takes one column as the byte does.
    var lineText = ""
    for scalar in String(decoding: line, as: UTF8.self).unicodeScalars {
      if scalar.value < 0x20 && scalar != "\t" {
        lineText.unicodeScalars.append(Unicode.Scalar(0x2400 + scalar.value)!)
      } else if scalar.value == 0x7F {
        lineText += "\u{2421}"
      } else {
        lineText.unicodeScalars.append(scalar)
      }
    }
    let number = String(range.start.line)
    let width = max(5, number.count + 1)
    let gutter = String(repeating: " ", count: width - number.count) + number + " | "
    let blank = String(repeating: " ", count: width) + " | "
    let caretColumn = range.start.column - 1
    let caret = indent(line, upTo: caretColumn)
    var length = 1
    if range.end.line == range.start.line { length = max(1, range.end.column - range.start.column) }
    else { length = max(1, line.count - caretColumn) }
    let marker = "^" + String(repeating: "~", count: length - 1)
    let coloredMarker = colors ? "\u{1B}[1;32m\(marker)\u{1B}[0m" : marker
    // An empty line gets no space after its bar: trailing blanks do not survive editors and diffs.
    let sourceLine = lineText.isEmpty ? String(gutter.dropLast()) : gutter + lineText
    return sourceLine + "\n" + blank + caret + coloredMarker + "\n"
  }
}
